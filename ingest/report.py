"""The run summary: every input row ends in exactly one bucket, and the buckets add up."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ingest.errors import IngestError
from ingest.models import Rejection

OUTCOMES = ("loaded", "updated", "unchanged", "rejected", "handed_off", "pending_geocode")


@dataclass(slots=True)
class RunSummary:
    run_id: int
    programme: str
    profile: str
    mode: str
    rows: int = 0
    loaded: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    handed_off: int = 0
    pending_geocode: int = 0
    withdrawn: int = 0
    location_flags: dict[str, int] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def accounted(self) -> int:
        return sum(getattr(self, name) for name in OUTCOMES)

    def check(self) -> None:
        if self.accounted != self.rows:
            raise IngestError(f"run {self.run_id}: {self.accounted} rows accounted for, {self.rows} read")

    def as_dict(self, *, with_rejections: int = 0) -> dict[str, object]:
        out = {k: v for k, v in asdict(self).items() if k != "rejections"}
        if with_rejections:
            out["rejections"] = [asdict(r) | {"raw": None} for r in self.rejections[:with_rejections]]
        return out
