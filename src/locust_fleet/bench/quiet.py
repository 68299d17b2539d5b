"""The bench runs alone: before it starts, the machine must be quiet and hold no sandbox.

Figures taken while other suites or sandboxes share the cores describe the machine, not
the fleet, so a busy machine is refused (exit 2) with what was seen.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from ..sandbox.state import STATE_ROOT

MAX_BUSY_PERCENT = 15.0  # of all cores, over the probe
MAX_LOAD_PER_CORE = 0.5  # one-minute load average per core


@dataclass(frozen=True)
class Quiet:
    busy_percent: float
    loadavg: tuple[float, float, float]
    sandboxes: tuple[str, ...]

    def problem(self) -> str | None:
        cores = os.cpu_count() or 1
        if self.sandboxes:
            return (
                f"sandboxes are up ({', '.join(self.sandboxes)}): the bench must not share the "
                "machine; take them down (locust-fleet sandbox down --name NAME) first"
            )
        if self.busy_percent > MAX_BUSY_PERCENT or self.loadavg[0] > MAX_LOAD_PER_CORE * cores:
            return (
                f"the machine is busy (CPU {self.busy_percent:.0f}% of {cores} cores over the "
                f"probe, load average {self.loadavg[0]:.2f}); stop other tests, sandboxes and "
                "benchmarks, then run the bench again"
            )
        return None


def _cpu() -> tuple[int, int]:
    with open("/proc/stat") as handle:
        fields = [int(x) for x in handle.readline().split()[1:]]
    return sum(fields[:8]), fields[3] + (fields[4] if len(fields) > 4 else 0)


def probe(seconds: float = 5.0, own: tuple[str, ...] = ()) -> Quiet:
    """What the machine does over ``seconds``; sandboxes named in ``own`` (the bench's
    own, between its sections) are not counted."""
    total0, idle0 = _cpu()
    time.sleep(seconds)
    total1, idle1 = _cpu()
    busy = 100.0 * (1 - (idle1 - idle0) / max(total1 - total0, 1))
    up = (
        tuple(sorted(p.name for p in STATE_ROOT.iterdir() if (p / "state.json").is_file()))
        if Path(STATE_ROOT).is_dir()
        else ()
    )
    return Quiet(round(busy, 1), os.getloadavg(), tuple(n for n in up if n not in own))
