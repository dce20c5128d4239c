"""Operator endpoints (bearer token): upload a registry file, run the ingest, read its report.

The API never imports ``ingest``: a run is the CLI as a job (``kosodate ingest FILE ... --json``) in a
subprocess that connects with the writer's database settings, while the API itself only reads.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tempfile
from datetime import datetime
from enum import StrEnum
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from api.auth import OperatorAccess
from api.deps import Conn, Settings
from api.errors import problem_responses
from api.paging import feed_page_size
from api.settings import AppSettings
from search.db import db_errors
from search.errors import InvalidQuery, JobFailed, NotFound, TooLarge, storage_failed
from search.features import run_rejections, run_report

router = APIRouter(
    prefix="/v1/operator",
    tags=["operator"],
    responses=problem_responses(400, 401, 404, 413, 422, 503, 507),
    dependencies=[OperatorAccess],
)

SUFFIXES = {".csv", ".tsv", ".txt"}
UPLOAD_ID = r"^[0-9a-f]{64}\.(csv|tsv|txt)$"


class Uploaded(BaseModel):
    upload_id: str = Field(description="Pass to POST /v1/operator/runs")
    bytes: int
    sha256: str


class Mode(StrEnum):
    delta = "delta"
    snapshot = "snapshot"


class RunRequest(BaseModel):
    upload_id: str = Field(pattern=UPLOAD_ID)
    programme: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$")
    mode: Mode = Mode.delta
    profile: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_-]{0,39}$")


class RunReport(BaseModel):
    id: int
    programme: str
    source_file: str
    profile: str
    mode: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    rows: int
    loaded: int
    updated: int
    unchanged: int
    rejected: int
    handed_off: int
    pending_geocode: int
    withdrawn: int
    error: str | None


class Rejection(BaseModel):
    id: int
    line: int
    field: str | None
    reason: str
    value: str | None
    raw: dict[str, Any]


class Rejections(BaseModel):
    run_id: int
    rejections: list[Rejection]
    next_after: int | None


@router.post(
    "/uploads",
    response_model=Uploaded,
    status_code=201,
    summary="Upload a registry file (raw body; size capped)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def upload(
    request: Request,
    settings: Settings,
    filename: Annotated[str, Query(max_length=200, pattern=r"^[^/\\]+$", description="Original file name")],
) -> Uploaded:
    suffix = FilePath(filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidQuery(f"the file must be one of {', '.join(sorted(SUFFIXES))}")
    cap = settings.api.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise TooLarge(f"the file is larger than {cap} bytes")
    folder = settings.api.upload_dir
    digest = hashlib.sha256()
    size = 0
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
        with os.fdopen(fd, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > cap:
                    raise TooLarge(f"the file is larger than {cap} bytes")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())  # a full disk shows here, not after the upload was accepted
        if size == 0:
            raise InvalidQuery("the file is empty")
        upload_id = f"{digest.hexdigest()}{suffix}"
        os.replace(tmp, folder / upload_id)
    except OSError as exc:
        raise storage_failed("the upload could not be stored", exc) from exc
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return Uploaded(upload_id=upload_id, bytes=size, sha256=digest.hexdigest())


def _writer_env(settings: AppSettings) -> dict[str, str]:
    env = dict(os.environ)
    db = settings.db
    if db.url is not None:
        env["KOSODATE_DATABASE_URL"] = db.url.get_secret_value()
    else:
        env.pop("KOSODATE_DATABASE_URL", None)
        env |= {
            "KOSODATE_DB_HOST": db.host,
            "KOSODATE_DB_PORT": str(db.port),
            "KOSODATE_DB_NAME": db.name,
            "KOSODATE_DB_USER": db.user,
            "KOSODATE_DB_DATA_DIR": str(db.data_dir),
        }
    return env


@router.post("/runs", response_model=dict[str, Any], status_code=201, summary="Run the ingest on an upload")
async def trigger_run(body: RunRequest, settings: Settings) -> dict[str, Any]:
    path = settings.api.upload_dir / body.upload_id
    if not path.is_file():
        raise NotFound(f"no upload {body.upload_id!r}; upload the file first")
    args = [
        *settings.api.ingest_command,
        "ingest",
        str(path),
        "--programme",
        body.programme,
        "--mode",
        body.mode.value,
        "--json",
    ]
    if body.profile:
        args += ["--profile", body.profile]
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=_writer_env(settings)
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=settings.api.ingest_timeout_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise JobFailed("the run took too long and was stopped; nothing was changed") from None
    if proc.returncode != 0:
        message = err.decode("utf-8", "replace").strip().removeprefix("error: ")[:500]
        raise JobFailed(message or "the run failed")
    try:
        summary: dict[str, Any] = json.loads(out.decode("utf-8").strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise JobFailed("the run finished but printed no summary") from None
    return summary


RunId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/runs/{run_id}", response_model=RunReport, summary="A run's report")
async def get_run(conn: Conn, run_id: RunId) -> RunReport:
    async with db_errors():
        row = (await conn.execute(run_report(), {"run_id": run_id})).mappings().one_or_none()
    if row is None:
        raise NotFound(f"no run {run_id}")
    return RunReport.model_validate(dict(row))


@router.get("/runs/{run_id}/rejections", response_model=Rejections, summary="The rows a run rejected, why")
async def get_rejections(
    conn: Conn,
    settings: Settings,
    run_id: RunId,
    after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> Rejections:
    n = feed_page_size(limit, settings, default=500)
    async with db_errors():
        exists = (await conn.execute(run_report(), {"run_id": run_id})).first()
        if exists is None:
            raise NotFound(f"no run {run_id}")
        rows = (
            await conn.execute(run_rejections(), {"run_id": run_id, "after_id": after, "limit": n})
        ).mappings()
        items = [Rejection.model_validate(dict(r)) for r in rows]
    return Rejections(run_id=run_id, rejections=items, next_after=items[-1].id if len(items) == n else None)
