"""The FastAPI service. Nothing imports this package except the CLI's ``serve``."""

from api.app import create_app

__all__ = ["create_app"]
