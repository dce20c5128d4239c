"""``uvicorn --factory kosodate.asgi:app``: the API built from the environment, one app per worker process.

`kosodate serve --workers N` starts workers through this; settings are read when a worker starts (an entry
point), never at import time.
"""

from __future__ import annotations

from fastapi import FastAPI

from api import create_app
from api.app import settle_heap
from api.settings import ApiSettings, AppSettings
from search.settings import DbSettings


def app() -> FastAPI:
    built = create_app(AppSettings(db=DbSettings(), api=ApiSettings()))
    settle_heap()
    return built
