"""The pure parts of the bench: medians, ratios, CPU-seconds, wrk's output, the
bounded capacity search and the naming of a failure's cause. No I/O here."""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def median(values: Iterable[float | None]) -> float | None:
    """Median of the values that exist; ``None`` when there are none."""
    present = [float(v) for v in values if v is not None]
    return statistics.median(present) if present else None


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator``; ``None`` when either is missing or the divisor is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def cpu_seconds(percents: Sequence[float], interval_s: float = 1.0) -> float:
    """CPU-seconds from samples in percent of one core, each covering ``interval_s``."""
    return sum(p for p in percents) / 100.0 * interval_s


def per_cpu_second(requests: int | float, cpu_s: float) -> float | None:
    """Requests per CPU-second of the generator (None when no CPU was measured)."""
    return ratio(float(requests), cpu_s)


def linear_efficiency(rps_by_processes: dict[int, float | None]) -> dict[int, float | None]:
    """Each row's req/s against linear scaling from the smallest row:
    ``rps(n) / (rps(n0) * n / n0)``; 1.0 is perfectly linear."""
    if not rps_by_processes:
        return {}
    base_n = min(rps_by_processes)
    base = rps_by_processes[base_n]
    return {
        n: ratio(rps, None if base is None else base * n / base_n)
        for n, rps in sorted(rps_by_processes.items())
    }


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    requests_per_s: float
    errors: int  # connect + read + write + timeout errors, plus non-2xx/3xx responses


_WRK_TOTAL = re.compile(r"(\d+) requests in ([\d.]+)(us|ms|s|m)")
_WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_UNIT_S = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def parse_wrk(text: str) -> WrkResult:
    """Read wrk's summary; ValueError when it is not there."""
    total = _WRK_TOTAL.search(text)
    rps = _WRK_RPS.search(text)
    if not total or not rps:
        raise ValueError(f"no wrk summary in: {text[-300:]!r}")
    errors = 0
    if socket := _WRK_SOCKET.search(text):
        errors += sum(int(g) for g in socket.groups())
    if non2xx := _WRK_NON2XX.search(text):
        errors += int(non2xx.group(1))
    return WrkResult(
        requests=int(total.group(1)),
        seconds=float(total.group(2)) * _UNIT_S[total.group(3)],
        requests_per_s=float(rps.group(1)),
        errors=errors,
    )


# --- the bounded capacity search ---------------------------------------------------------


@dataclass(frozen=True)
class SearchPolicy:
    """Grow the users by ``factor`` from ``start`` until a step fails or ``cap`` is
    reached, then bisect between the best pass and the first failure until the gap
    is at most ``resolution``; never more than ``max_steps`` steps, never below
    ``floor``."""

    start: int
    cap: int
    factor: float = 2.0
    max_steps: int = 5
    resolution: int = 1000
    floor: int = 10

    def __post_init__(self) -> None:
        if not 0 < self.floor <= self.start <= self.cap:
            raise ValueError("need 0 < floor <= start <= cap")
        if self.factor <= 1 or self.max_steps < 1 or self.resolution < 1:
            raise ValueError("need factor > 1, max_steps >= 1, resolution >= 1")


def _round_to(value: float, step: int) -> int:
    return max(step, round(value / step) * step)


def best_pass(history: Sequence[tuple[int, bool]]) -> int | None:
    """The largest user count that held (no failures, no saturation)."""
    held = [users for users, ok in history if ok]
    return max(held) if held else None


def first_fail(history: Sequence[tuple[int, bool]]) -> int | None:
    """The smallest user count that did not hold and lies above the best pass."""
    best = best_pass(history) or 0
    failed = [users for users, ok in history if not ok and users > best]
    return min(failed) if failed else None


def next_users(history: Sequence[tuple[int, bool]], policy: SearchPolicy) -> int | None:
    """The next user count to try, or ``None`` when the search is over.

    ``history`` is the steps so far as (users, held). Over when: ``max_steps``
    reached; the cap held; the bracket between pass and failure is within
    ``resolution``; or the floor failed.
    """
    if not history:
        return policy.start
    if len(history) >= policy.max_steps:
        return None
    tried = {users for users, _ in history}
    best, fail = best_pass(history), first_fail(history)
    if fail is None:  # everything held so far: grow, up to the cap
        if best is not None and best >= policy.cap:
            return None
        grown = min(
            policy.cap, _round_to((best or policy.start) * policy.factor, policy.resolution)
        )
        return None if grown in tried else grown
    if best is None:  # even the lowest step failed: shrink towards the floor
        lowest = min(tried)
        if lowest <= policy.floor:
            return None
        shrunk = max(policy.floor, int(lowest / policy.factor))
        return None if shrunk in tried else shrunk
    if fail - best <= policy.resolution:
        return None
    middle = _round_to((best + fail) / 2, min(policy.resolution, max(1, (fail - best) // 2)))
    if middle in tried or not best < middle < fail:
        return None
    return middle


# --- why did a step fail -----------------------------------------------------------------

# (cause, patterns) in the order they are reported; a pattern matches failure and
# exception messages and the workers' journals, case-insensitively.
CAUSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("open-file limit", ("too many open files", "errno 24", "emfile")),
    ("port exhaustion", ("cannot assign requested address", "errno 99", "eaddrnotavail")),
    ("timeouts", ("timed out", "timeout", "etimedout")),
    (
        "connections refused/reset by the target",
        ("connection refused", "connection reset", "econnrefused", "econnreset", "broken pipe"),
    ),
    ("out of memory", ("memoryerror", "out of memory", "oom-kill")),
)


def failure_causes(messages: Iterable[str]) -> list[str]:
    """The causes named by ``messages`` (failure rows, exceptions, journal lines)."""
    text = "\n".join(messages).lower()
    return [cause for cause, patterns in CAUSES if any(p in text for p in patterns)]


def describe_step(
    *,
    failures: int,
    requests: int,
    saturated: bool,
    saturation_summary: str,
    causes: Sequence[str],
    error: str = "",
) -> str:
    """One phrase for a search step: 'held' or why it did not."""
    if error and "nothing was started" in error:
        return f"refused by the fleet's preflight: {error}"
    if error:
        return f"orchestration error: {error}"
    reasons = []
    if failures:
        named = ", ".join(causes) if causes else "see locust_failures.csv"
        reasons.append(f"{failures} of {requests} requests failed ({named})")
    if saturated:
        reasons.append(f"generator CPU: {saturation_summary}")
    return "; ".join(reasons) if reasons else "held"
