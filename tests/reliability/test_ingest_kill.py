"""kill -9 of ``kosodate ingest`` at a seeded-random moment inside each stage: reading, geocoding, loading.

The file is real (Ishikawa's 2017 list, twice over, as a later edition of the list: a third of the rows
lose their coordinates so the gazetteer really places them, and the second copy is new shops). The
stage is read from the outside, from the ``stage: ...`` lines the CLI prints for operators; after the
kill the pipe is drained, and the last stage line written tells where the process really was (a stage
line is printed on entering a stage, so if the next one is missing the kill landed inside the target).
The loading stage ends with the commit, a fraction of a second after its line: so that a busy machine
cannot let the commit win the race, the test holds the run's own ``ingest_runs`` row (``RunHold``) and
the run, its loading work done or not, cannot mark itself succeeded before the kill.

Checked for every stage: the previous data (a completed first ingest) is served byte for byte while
the run is going and after it is killed; the next run completes; and the end state (live rows, change
history, rejections, the run's accounting) equals a clean run of the same files into a fresh database.

The same is checked for a programme's first load (the base file into a database with only the
gazetteer), killed while it reads the file and inserts its first batches.

``KOSODATE_FAULT_SEED`` changes the moments (default 9); the chosen delays are printed.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from sqlalchemy import create_engine, text

from api import create_app
from api.settings import AppSettings
from search.settings import DbSettings
from tests.conftest import Cluster, cli_env, shared_file

pytestmark = [pytest.mark.fault, pytest.mark.slow, pytest.mark.db]

KOSODATE = [sys.executable, "-m", "kosodate"]
STAGES = ("reading", "geocoding", "loading")
SEED = int(os.environ.get("KOSODATE_FAULT_SEED", "9"))
VOLATILE = (
    "id",
    "first_run_id",
    "last_run_id",
    "created_at",
    "updated_at",
    "status_changed_at",
    "geocoded_at",
)


def _cli(args: list[str], env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*KOSODATE, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def _write_files(tmp: Path) -> tuple[Path, Path]:
    """base: the list as published; later: a new edition (points dropped, perks changed, new shops)."""
    src = shared_file("shops", "ishikawa_prepass_2017_shared.csv")
    with src.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    base, later = tmp / "base.csv", tmp / "later.csv"
    for path, copies in ((base, 1), (later, 2)):
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            n = 0
            for copy in range(copies):
                for row in rows:
                    out = dict(row)
                    if copy:
                        out["shop_id"] = f"{row['shop_id']}-{copy}"
                        out["shop_name"] = f"{row['shop_name']} {copy}号店"
                    if path is later and n % 3 == 1:
                        out["lat"] = out["lon"] = ""  # the gazetteer must place these
                    if path is later and n % 7 == 0:
                        out["privilege_three_children"] = f"{row['privilege_three_children']}(改定)"
                    writer.writerow(out)
                    n += 1
    return base, later


def _fingerprint(url: str) -> dict[str, str]:
    """Every stored row of the data tables, hashed whole (ids and timestamps included)."""
    engine = create_engine(url)
    out = {}
    try:
        with engine.connect() as conn:
            for table in ("shops", "shop_changes", "rejected_rows", "handoffs", "geocode_cache"):
                rows = conn.execute(
                    text(f"SELECT coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '') FROM {table} t")
                ).scalar_one()
                out[table] = hashlib.sha256(rows.encode()).hexdigest()
    finally:
        engine.dispose()
    return out


async def _fetch(settings: DbSettings) -> dict[str, bytes]:
    app = create_app(AppSettings(db=settings))
    out = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60) as client:
            for path in (
                "/v1/exports/shops.csv",
                "/v1/exports/shops.geojson",
                "/v1/shops?lat=36.5613&lng=136.6562&radius_m=3000&limit=50",
            ):
                r = await client.get(path)
                assert r.status_code == 200, (path, r.text[:300])
                out[path] = r.content
    return out


def _served(settings: DbSettings) -> dict[str, bytes]:
    """What the API hands out: the open-data files, byte for byte, and one search."""
    return anyio.run(_fetch, settings)


def _end_state(url: str) -> dict[str, Any]:
    """What must equal a clean run's: the rows (without ids or timestamps), history and rejections."""
    engine = create_engine(url)
    drop = " ".join(f"- '{key}'" for key in VOLATILE)
    try:
        with engine.connect() as conn:
            shops = [
                json.loads(r)
                for r in conn.execute(
                    text(f"SELECT (to_jsonb(s) {drop})::text FROM shops s ORDER BY source_id")
                ).scalars()
            ]
            changes = conn.execute(
                text(
                    "SELECT s.source_id, c.change, c.reason, r.rank FROM shop_changes c "
                    "JOIN shops s ON s.id = c.shop_id JOIN (SELECT id, rank() OVER (ORDER BY id) AS rank "
                    "FROM ingest_runs WHERE status = 'succeeded') r ON r.id = c.run_id ORDER BY 1, 4, 2"
                )
            ).all()
            last = conn.execute(
                text(
                    "SELECT id, rows, loaded, updated, unchanged, rejected, handed_off, pending_geocode, "
                    "withdrawn FROM ingest_runs WHERE status = 'succeeded' ORDER BY id DESC LIMIT 1"
                )
            ).one()
            rejected = conn.execute(
                text("SELECT line, field, reason, value FROM rejected_rows WHERE run_id = :r ORDER BY line"),
                {"r": last.id},
            ).all()
            statuses = conn.execute(text("SELECT status FROM ingest_runs ORDER BY id")).scalars().all()
    finally:
        engine.dispose()
    return {
        "shops": shops,
        "changes": [tuple(c) for c in changes],
        "accounting": tuple(last)[1:],
        "rejected": [tuple(r) for r in rejected],
        "succeeded_runs": statuses.count("succeeded"),
    }


@dataclass
class Scenario:
    cluster: Cluster
    base: Path
    later: Path
    prepared: str  # a database holding the gazetteer (and the base run, unless first), a template
    clean: dict[str, Any]
    timings: dict[str, float]
    first: bool = False  # the killed run is the programme's first load (of ``base``), not ``later``

    @property
    def run_file(self) -> Path:
        return self.base if self.first else self.later


def _settings(cluster: Cluster, name: str) -> DbSettings:
    return cluster.db_settings(name)


class StageWatcher:
    """Reads the CLI's stderr in a thread, stamping each ``stage:`` line with the time it arrived."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.seen: list[tuple[str, float]] = []
        self.lines: list[str] = []
        self._event = threading.Condition()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._event:
                self.lines.append(line)
                if line.startswith("stage: "):
                    self.seen.append((line.removeprefix("stage: ").strip(), time.monotonic()))
                self._event.notify_all()

    def wait_for(self, stage: str, timeout: float) -> float:
        with self._event:
            ok = self._event.wait_for(
                lambda: any(s == stage for s, _ in self.seen) or self.proc.poll() is not None, timeout
            )
            found = [t for s, t in self.seen if s == stage]
        assert ok and found, f"stage {stage!r} never started: {''.join(self.lines)[-2000:]}"
        return found[0]

    def drain(self) -> list[str]:
        self._thread.join(timeout=30)
        return [s for s, _ in self.seen]


def _timed_clean_run(later: Path, env: dict[str, str]) -> dict[str, float]:
    """The clean run of the later file, watched: how long each stage takes on this machine."""
    proc = subprocess.Popen(
        [*KOSODATE, "ingest", str(later), "--programme", "ishikawa"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    watcher = StageWatcher(proc)
    assert proc.wait(timeout=240) == 0, "".join(watcher.lines)[-2000:]
    watcher.drain()
    starts = dict(watcher.seen)
    return {
        "reading": starts["geocoding"] - starts["reading"],
        "geocoding": starts["loading"] - starts["geocoding"],
        "loading": starts["indexing"] - starts["loading"],  # "indexing" is printed after the commit
    }


def _succeeded_runs(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(text("SELECT count(*) FROM ingest_runs WHERE status = 'succeeded'")).scalar_one()
            )
    finally:
        engine.dispose()


def _scenario(pg_cluster: Cluster, folder: Path, *, first: bool) -> Iterator[Scenario]:
    """A prepared database (gazetteer, and unless ``first`` the base file already loaded) and the
    end state of a clean run of the file the killed runs load (the base file when ``first``)."""
    towns = shared_file("gazetteer", "towns_geolonia.csv")
    master = shared_file("gazetteer", "municipalities_localgovjp.csv")
    base, later = _write_files(folder)
    prepared = f"t_prep_{uuid.uuid4().hex[:8]}"
    clean = f"t_clean_{uuid.uuid4().hex[:8]}"
    pg_cluster.cluster.create_database(prepared, template="kosodate_template")
    try:
        env = cli_env(_settings(pg_cluster, prepared))
        _cli(["gazetteer", "load", str(towns), str(master), "--pref", "17"], env)
        if not first:
            _cli(["ingest", str(base), "--programme", "ishikawa", "--json"], env)
        pg_cluster.cluster.create_database(clean, template=prepared)
        try:
            clean_env = cli_env(_settings(pg_cluster, clean))
            timings = _timed_clean_run(base if first else later, clean_env)
            state = _end_state(_settings(pg_cluster, clean).sqlalchemy_url())
        finally:
            pg_cluster.cluster.drop_database(clean)
        rows = 1842 if first else 2 * 1842
        assert state["accounting"][0] == rows and state["accounting"][1] > 1800  # rows, loaded
        yield Scenario(pg_cluster, base, later, prepared, state, timings, first=first)
    finally:
        pg_cluster.cluster.drop_database(prepared)


@pytest.fixture(scope="module")
def scenario(pg_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    yield from _scenario(pg_cluster, tmp_path_factory.mktemp("kill"), first=False)


@pytest.fixture(scope="module")
def first_scenario(pg_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    """The killed run is the programme's first: its batches take the first-load path
    (straight into shops, ingest/sql/log_new_shops.sql) while the file is read."""
    yield from _scenario(pg_cluster, tmp_path_factory.mktemp("kill_first"), first=True)


@pytest.mark.parametrize("stage", STAGES)
def test_kill_9_inside_a_stage(scenario: Scenario, stage: str) -> None:
    _kill_and_rerun(scenario, stage)


def test_kill_9_inside_a_first_load(first_scenario: Scenario) -> None:
    """While a first load reads the file its earlier batches are being inserted (uncommitted): a
    kill then leaves the programme empty, and the next run is again a first load that completes."""
    _kill_and_rerun(first_scenario, "geocoding")


class RunHold:
    """A connection holding the running run's row of ``ingest_runs`` FOR NO KEY UPDATE: the run's
    references to it (FOR KEY SHARE, as a foreign key takes) go through; its last statement, which
    marks the row succeeded, waits until ``close``."""

    def __init__(self, url: str) -> None:
        self._engine = create_engine(url)
        self._conn = self._engine.connect()
        held = self._conn.execute(
            text("SELECT id FROM ingest_runs WHERE status = 'running' FOR NO KEY UPDATE")
        ).all()
        assert len(held) == 1, held

    def close(self) -> None:
        self._conn.rollback()
        self._conn.close()
        self._engine.dispose()


def _kill_once(scenario: Scenario, settings: DbSettings, stage: str, delay: float) -> str:
    """Start the run, kill -9 it ``delay`` seconds into ``stage``; return the last stage it printed."""
    url = settings.sqlalchemy_url()
    before_rows, before_served = _fingerprint(url), _served(settings)
    proc = subprocess.Popen(
        [*KOSODATE, "ingest", str(scenario.run_file), "--programme", "ishikawa"],
        env=cli_env(settings), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    watcher = StageWatcher(proc)
    hold: RunHold | None = None
    try:
        if stage == "loading":
            # The loading stage ends with the run's commit, a fraction of a second after its line
            # is printed; on a busy machine the line can reach this process later than that. So
            # the run's own row in ingest_runs is held from the geocoding stage on: the run does
            # its loading work and then waits, uncommitted, at its last statement (marking itself
            # succeeded) until after the kill.
            watcher.wait_for("geocoding", timeout=120)
            hold = RunHold(url)
        started = watcher.wait_for(stage, timeout=120)
        # Geocoding is long enough to look at what is served while the run works (its batches are
        # being written, uncommitted); reading is over in well under the time a look takes.
        if stage == "geocoding":
            assert _fingerprint(url) == before_rows
            assert _served(settings) == before_served
        time.sleep(max(0.0, started + delay - time.monotonic()))
        assert proc.poll() is None, "the run ended before the kill"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        if hold is not None:
            hold.close()  # the killed run's backend goes on, finds its client gone, rolls back
    assert proc.returncode == -signal.SIGKILL
    return watcher.drain()[-1]


def _kill_and_rerun(scenario: Scenario, stage: str) -> None:
    rng = random.Random(f"{SEED}:{stage}")  # noqa: S311 - a reproducible moment, not a secret
    name = f"t_kill_{uuid.uuid4().hex[:8]}"
    scenario.cluster.cluster.create_database(name, template=scenario.prepared)
    try:
        settings = _settings(scenario.cluster, name)
        url = settings.sqlalchemy_url()
        env = cli_env(settings)
        before_rows, before_served = _fingerprint(url), _served(settings)
        succeeded = _succeeded_runs(url)

        landed = None
        for attempt in range(6):  # a draw that misses the stage (it can be short) is redrawn, earlier
            delay = rng.uniform(0.05, 0.85) * scenario.timings[stage] / 2**attempt
            landed = _kill_once(scenario, settings, stage, delay)
            if _succeeded_runs(url) > succeeded:
                landed = "committed"  # killed between the commit and the next line: not inside the stage
            said = f"seed {SEED} {stage} attempt {attempt}: killed {delay:.3f}s in, landed in {landed}"
            print(said)  # noqa: T201 - how to reproduce a failure (shown with -s or on failure)
            if landed == stage:
                break
        assert landed == stage, f"six draws all missed the {stage} stage"

        # The previous data, to the byte, in the tables and as served.
        assert _fingerprint(url) == before_rows
        assert _served(settings) == before_served

        rerun = json.loads(
            _cli(["ingest", str(scenario.run_file), "--programme", "ishikawa", "--json"], env).stdout
        )
        state = _end_state(url)
        assert state == scenario.clean, "the rerun does not end where a clean run ends"
        outcomes = ("loaded", "updated", "unchanged", "rejected", "handed_off", "pending_geocode")
        assert tuple(rerun[k] for k in ("rows", *outcomes, "withdrawn")) == state["accounting"]
        assert sum(rerun[k] for k in outcomes) == rerun["rows"]  # every row in exactly one bucket
    finally:
        scenario.cluster.cluster.drop_database(name)
