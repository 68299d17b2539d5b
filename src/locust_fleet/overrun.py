"""Did the fleet run more users than asked, and what did Locust's master warn about?

A master that misses a worker's heartbeats (a worker starved of CPU cannot send them) marks
it missing and hands its users to the other workers, while the missing one goes on running
them: the stats then count more users than the run asked for, and every figure describes a
heavier test than the one named. Locust logs it ("failed to send heartbeat, setting state to
missing") along with its other warnings (a spawn rate above 100 a second per worker, reports
missing at the end of the ramp), none of which reach its exit code.

Rule: in a run that asked for ``users`` (no load shape), a history row with more
users is an *overrun*: the run is saturated (exit 4) and the summary says by how much and
why. Locust's master warnings are listed either way.

API::

    overrun_for(results) -> Overrun
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from locust_fleet.results.model import RunResults

# Locust master log lines worth a user's eye, as (pattern, what the summary calls it).
_WARNINGS = (
    (re.compile(r"failed to send heartbeat, setting state to missing"), "missed heartbeats"),
    (re.compile(r"spawn rate is very high"), "spawn rate above 100/s per worker"),
    (re.compile(r"not all reports received from workers"), "reports missing after the ramp"),
    (re.compile(r"Resetting RPC server"), "the master reset its worker connections"),
)


@dataclass(frozen=True)
class Overrun:
    asked: int | None  # users the run asked for; None when a load shape decided
    peak: int  # the highest user count in the history
    warnings: tuple[tuple[str, int], ...] = ()  # (what, how many lines) from master.log

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
                f"process, or add worker hosts.{warned}"
            )
        return warned.strip()


def master_warnings(text: str) -> tuple[tuple[str, int], ...]:
    found = []
    for pattern, what in _WARNINGS:
        n = len(pattern.findall(text))
        if n:
            found.append((what, n))
    return tuple(found)


def overrun_for(results: RunResults) -> Overrun:
    meta = results.metadata
    asked = None if meta.shape is not None or not meta.parameters.users else meta.parameters.users
    peak = max((row.user_count for row in results.aggregated_history), default=0)
    text = ""
    if results.files.master_log is not None:
        text = results.files.master_log.read_text(encoding="utf-8", errors="replace")
    return Overrun(asked=asked, peak=peak, warnings=master_warnings(text))
