"""Bearer tokens for the hand-off and operator endpoints (compared in constant time, never logged)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from api.deps import Settings
from search.errors import Unauthorized

bearer = HTTPBearer(auto_error=False, description="Bearer token from the operator's settings")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def check(expected: SecretStr | None, given: HTTPAuthorizationCredentials | None) -> None:
    if expected is None:
        raise Unauthorized("this endpoint is not enabled on this server (no token configured)")
    if given is None or given.scheme.lower() != "bearer":
        raise Unauthorized("a bearer token is required")
    if not hmac.compare_digest(given.credentials.encode(), expected.get_secret_value().encode()):
        raise Unauthorized("the token is not valid")


def require_handoff(settings: Settings, credentials: Credentials) -> None:
    check(settings.api.handoff_token, credentials)


def require_operator(settings: Settings, credentials: Credentials) -> None:
    check(settings.api.operator_token, credentials)


HandoffAccess = Depends(require_handoff)
OperatorAccess = Depends(require_operator)
