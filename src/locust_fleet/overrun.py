"""Did the fleet run more users than asked, and what did Locust's master warn about?

A master that misses a worker's heartbeats (a worker starved of CPU cannot send them) marks
it missing and hands its users to the other workers, while the missing one goes on running
them until it is heard again: the stats then count more users than the run asked for, and
every figure describes a heavier test than the one named. Locust logs it ("failed to send
heartbeat, setting state to missing") along with its other warnings (a spawn rate above 100
a second per worker, reports missing at the end of the ramp), none of which reach its exit
code.

Rule: in a run that asked for ``users`` (no load shape), a history row with more
users is an *overrun* (rows while a dead worker process is still counted are left out: see
``_dead_worker_windows``): the run is saturated (exit 4) and the summary says by how much and
why. Locust's master warnings are listed either way.

API::

    overrun_for(results) -> Overrun
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from locust_fleet.results.model import RunResults

# Locust master log lines worth a user's eye, as (pattern, what the summary calls it).
_WARNINGS = (
    (re.compile(r"failed to send heartbeat, setting state to missing"), "missed heartbeats"),
    (re.compile(r"spawn rate is very high"), "spawn rate above 100/s per worker"),
    (re.compile(r"not all reports received from workers"), "reports missing after the ramp"),
    (re.compile(r"Resetting RPC server"), "the master reset its worker connections"),
)


# A dead worker's users stay counted until the master takes it for lost: the heartbeat
# liveness (locust_run_heartbeat_liveness, 10 s; Locust's own 3 s) and a history row, with
# room for a loaded master.
STALE_SECONDS = 20


@dataclass(frozen=True)
class Overrun:
    asked: int | None  # users the run asked for; None when a load shape decided
    peak: int  # the highest user count in the history
    warnings: tuple[tuple[str, int], ...] = ()  # (what, how many lines) from master.log
    corrected: tuple[str, ...] = ()  # when the fleet dispatched the run's users again (HH:MM:SS)

    @property
    def overran(self) -> bool:
        return self.asked is not None and self.peak > self.asked

    def summary(self) -> str:
        said = ", ".join(f"{what} ({n}x)" for what, n in self.warnings)
        warned = f" Locust's master warned: {said}." if said else ""
        if self.overran:
            return (
                f"OVERRUN: the history shows up to {self.peak:,} users for a run of "
                f"{self.asked:,}: the master handed the users of workers it took for lost "
                "(missed heartbeats) to the others while they kept running theirs; the figures "
                "describe a heavier test. Lower the spawn rate or the users per worker "
                f"process, or add worker hosts.{self._corrected()}{warned}"
            )
        return warned.strip()

    def _corrected(self) -> str:
        if not self.corrected:
            return ""
        return (
            f" The fleet told every worker its share of the {self.asked:,} users again at "
            f"{', '.join(self.corrected)} (locust_fleet_keep_users.py): from then on they ran "
            "the users asked."
        )


def master_warnings(text: str) -> tuple[tuple[str, int], ...]:
    found = []
    for pattern, what in _WARNINGS:
        n = len(pattern.findall(text))
        if n:
            found.append((what, n))
    return tuple(found)


def _dead_worker_windows(results: RunResults) -> list[tuple[datetime, datetime]]:
    """While a worker process that died is not yet taken for lost, the master still counts
    its last users beside those it hands to the others: those history rows overstate the
    users, they are not an overrun. From each ``worker_died`` to the host's next
    ``worker_missing`` (or ``STALE_SECONDS`` after it), with a history row of slack."""
    events = [e for e in results.metadata.events if e.time is not None]
    windows = []
    for died in (e for e in events if e.kind == "worker_died"):
        missing = [
            e.time
            for e in events
            if e.kind == "worker_missing" and e.host == died.host and e.time >= died.time
        ]
        end = min(missing) if missing else died.time + timedelta(seconds=STALE_SECONDS)
        windows.append((died.time, end + timedelta(seconds=2)))
    return windows


def overrun_for(results: RunResults) -> Overrun:
    meta = results.metadata
    asked = None if meta.shape is not None or not meta.parameters.users else meta.parameters.users
    stale = _dead_worker_windows(results)
    peak = max(
        (
            row.user_count
            for row in results.aggregated_history
            if not any(start <= row.timestamp <= end for start, end in stale)
        ),
        default=0,
    )
    text = ""
    if results.files.master_log is not None:
        text = results.files.master_log.read_text(encoding="utf-8", errors="replace")
    corrected = tuple(
        e.time.strftime("%H:%M:%S")
        for e in meta.events
        if e.kind == "users_over" and e.time is not None
    )
    return Overrun(asked=asked, peak=peak, warnings=master_warnings(text), corrected=corrected)
