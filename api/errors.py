"""RFC 9457 problem+json for every error, and the one table from domain errors to statuses."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from search.errors import (
    DatabaseUnavailable,
    InvalidQuery,
    JobFailed,
    KosodateError,
    NotFound,
    QueryTimeout,
    StorageFailed,
    TooLarge,
    Unauthorized,
)

log = logging.getLogger("kosodate.api")
PROBLEM = "application/problem+json"

STATUS_OF: dict[type[KosodateError], int] = {
    InvalidQuery: 400,
    NotFound: 404,
    QueryTimeout: 503,
    DatabaseUnavailable: 503,
    Unauthorized: 401,
    TooLarge: 413,
    JobFailed: 422,
    StorageFailed: 507,
}


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {"model": Problem, "content": {PROBLEM: {}}, "description": HTTPStatus(status).phrase}
        for status in statuses
    }


PROBLEM_RESPONSES = problem_responses(400, 404, 422, 503)


def problem(status: int, detail: str | None, request: Request, **extra: Any) -> JSONResponse:
    body = Problem(
        title=HTTPStatus(status).phrase, status=status, detail=detail, instance=request.url.path, **extra
    )
    headers = {"Retry-After": "5"} if status == 503 else None  # noqa: PLR2004
    if status == 401:  # noqa: PLR2004
        headers = {"WWW-Authenticate": 'Bearer realm="kosodate"'}
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM, headers=headers
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(KosodateError)
    async def _domain(request: Request, exc: KosodateError) -> JSONResponse:
        status = next((s for cls, s in STATUS_OF.items() if isinstance(exc, cls)), 500)
        if status >= 500:  # noqa: PLR2004
            log.warning("%s on %s: %r", type(exc).__name__, request.url.path, exc.__cause__ or exc)
        return problem(status, str(exc), request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "in": str(e["loc"][0]) if e.get("loc") else "request",
                "name": ".".join(str(p) for p in e.get("loc", ())[1:]),
                "message": e.get("msg", "invalid"),
            }
            for e in exc.errors()
        ]
        return problem(422, "some parameters are not valid", request, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail) if exc.detail else None, request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path, exc_info=exc)
        return problem(500, "an unexpected error happened; it has been logged", request)
