"""A held-users run cut into its three phases, each with its own cost (issue 12):

    ramp      the master's first spawn job to "All users spawned"
    hold      from there to "--run-time limit reached"
    teardown  from there to the last CPU sample of a worker (the workers stop their users)

For each: its seconds, the CPU-seconds of every Locust process (master and workers, from
``cpu_samples.csv``), those per 1,000 users (in all, and as a share of one core over the
phase), and the resident memory of the workers at the
phase's end (``process_memory`` rows of ``limits_samples.csv``) in all, per 1,000 users and
for the largest process. Read from a run folder; no I/O beyond it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..results.csvfiles import read_cpu_samples, read_limit_samples
from ..results.model import CpuSample, LimitSample

_STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\]")
_MARKS = {
    "ramp": "Sending spawn jobs of",
    "hold": "All users spawned",
    "teardown": "--run-time limit reached",
}


@dataclass(frozen=True)
class Phase:
    name: str
    seconds: float
    cpu_s: float
    cpu_s_per_1000_users: float
    core_percent_per_1000_users: float  # of one core, over the phase: cpu_s / seconds
    worker_rss_mb: float | None  # every worker process, at the phase's end
    rss_mb_per_1000_users: float | None
    largest_process_rss_mb: float | None


def log_marks(master_log: str, wanted: dict[str, str]) -> dict[str, datetime]:
    """Name -> when the master's log first shows its text (``wanted``: name -> text)."""
    found: dict[str, datetime] = {}
    for line in master_log.splitlines():
        stamp = _STAMP.match(line)
        if stamp is None:
            continue
        for name, mark in wanted.items():
            if name not in found and mark in line:
                at = datetime.strptime(stamp.group(1), "%Y-%m-%d %H:%M:%S,%f")
                found[name] = at.replace(tzinfo=UTC)
    return found


def marks(master_log: str) -> dict[str, datetime]:
    """Phase name -> when it began, from the master's log."""
    return log_marks(master_log, _MARKS)


def _worker_rss_at(samples: Sequence[LimitSample], at: datetime) -> dict[str, int]:
    """subject -> kB resident of each worker process, its last sample at or before ``at``."""
    latest: dict[str, tuple[datetime, int]] = {}
    for s in samples:
        if s.limit != "process_memory" or "worker@" not in s.subject or s.timestamp > at:
            continue
        key = f"{s.host}/{s.subject}"
        if key not in latest or s.timestamp >= latest[key][0]:
            latest[key] = (s.timestamp, s.used)
    return {key: kb for key, (_t, kb) in latest.items()}


def phases(
    users: int,
    begun: dict[str, datetime],
    cpu: Sequence[CpuSample],
    limits: Sequence[LimitSample],
) -> list[Phase]:
    """The phases whose start is known; the last one ends at the last worker CPU sample."""
    last = max((s.timestamp for s in cpu if s.role == "worker"), default=None)
    if last is None or not all(name in begun for name in _MARKS):
        return []
    bounds = [begun["ramp"], begun["hold"], begun["teardown"], last]
    found = []
    for name, start, end in zip(_MARKS, bounds, bounds[1:], strict=False):
        cpu_s = sum(s.cpu_percent for s in cpu if start < s.timestamp <= end) / 100.0
        rss = _worker_rss_at(limits, end)
        total_mb = sum(rss.values()) / 1024 if rss else None
        per_1000 = None if total_mb is None else round(total_mb / users * 1000, 1)
        found.append(
            Phase(
                name=name,
                seconds=round((end - start).total_seconds(), 1),
                cpu_s=round(cpu_s, 1),
                cpu_s_per_1000_users=round(cpu_s / users * 1000, 2),
                core_percent_per_1000_users=round(
                    cpu_s / max((end - start).total_seconds(), 1e-6) / users * 1000 * 100, 2
                ),
                worker_rss_mb=None if total_mb is None else round(total_mb),
                rss_mb_per_1000_users=per_1000,
                largest_process_rss_mb=round(max(rss.values()) / 1024) if rss else None,
            )
        )
    return found


def run_phases(run_dir: Path, users: int) -> list[dict[str, Any]]:
    """The phases of one run folder as plain dicts (for bench.json); [] when a file lacks."""
    log = run_dir / "master.log"
    cpu_csv, limits_csv = run_dir / "cpu_samples.csv", run_dir / "limits_samples.csv"
    if not (log.is_file() and cpu_csv.is_file() and users > 0):
        return []
    limits = read_limit_samples(limits_csv) if limits_csv.is_file() else ()
    begun = marks(log.read_text(errors="replace"))
    return [asdict(p) for p in phases(users, begun, read_cpu_samples(cpu_csv), limits)]
