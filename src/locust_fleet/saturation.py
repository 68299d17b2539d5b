"""Did a load generator (not the target) limit the test? Decided from measured CPU.

Input: the per-process samples of ``cpu_samples.csv`` (percent of one core, about
one per second per process, master and workers). Locust's own warning is not
used: it samples every 10 s and is blind for the first 20 s of a run.

Rule (thresholds are parameters): a process is *saturated* when it spent more
than ``max_fraction`` (default 10 %) of the measured window wanting more than
``cpu_threshold`` (default 90 % of one core). What a process wants is the CPU it
got plus the time it was runnable but waiting for a CPU (``wait_percent``, the
kernel's schedstat run delay): a worker on a host with fewer cores than busy
processes gets 30 % and waits 70 %, and limits the test as surely as one pinned
at 100 %. Without wait samples (older files) the rule falls back to CPU alone.

Each sample stands for the interval since that process's previous sample (the
first one for the typical interval; a gap counts for at most two typical
intervals), so the figure is "seconds above the threshold", not "samples above".

The window is the period the stats describe: ``verdict_for(results)`` takes it
from the stats history (first to last second with users running), else from
``run.json``'s start/end, else from the samples themselves.

API::

    verdict(samples, start=None, end=None, cpu_threshold=90.0, max_fraction=0.10)
        -> SaturationVerdict
    verdict_for(results, cpu_threshold=90.0, max_fraction=0.10) -> SaturationVerdict

Worker hosts named in ``run.json`` with no samples at all are listed in
``unsampled_hosts`` (and said in the summary): a verdict of "not saturated"
only covers the hosts that were measured.

``SaturationVerdict.saturated`` is true when any worker *or the master* is
saturated: a pinned master delays heartbeats and stats aggregation, so its
numbers are as untrustworthy as a pinned worker's. The two flags are also
separate (``workers_saturated``, ``master_saturated``).
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from locust_fleet.limits import LimitsVerdict, limits_verdict
from locust_fleet.overrun import Overrun, overrun_for
from locust_fleet.results.model import CpuSample, RunResults

DEFAULT_CPU_THRESHOLD = 90.0
DEFAULT_MAX_FRACTION = 0.10
_DEFAULT_INTERVAL_S = 1.0


@dataclass(frozen=True)
class ProcessCpu:
    """CPU of one master or worker process over the window."""

    host: str
    role: str
    unit: str
    pid: int
    samples: int
    peak_percent: float
    mean_percent: float
    seconds_above: float
    fraction_above: float
    saturated: bool
    series: tuple[tuple[datetime, float], ...]
    mean_wait_percent: float | None = None
    demand_series: tuple[tuple[datetime, float], ...] = ()

    @property
    def starved(self) -> bool:
        """Saturated mostly by waiting for a CPU: its host has too few cores for its load."""
        return self.saturated and (self.mean_wait_percent or 0.0) > self.mean_percent

    @property
    def label(self) -> str:
        """``w1/locust-worker@2.service[4242]``."""
        return f"{self.host}/{self.unit}[{self.pid}]"


@dataclass(frozen=True)
class SaturationVerdict:
    cpu_threshold: float
    max_fraction: float
    window_start: datetime | None
    window_end: datetime | None
    processes: tuple[ProcessCpu, ...]
    unsampled_hosts: tuple[str, ...] = ()
    limits: LimitsVerdict | None = None  # open files, local ports, conntrack, memory
    overrun: Overrun | None = None  # more users than asked; Locust's master warnings

    @property
    def window_seconds(self) -> float | None:
        if self.window_start is None or self.window_end is None:
            return None
        return (self.window_end - self.window_start).total_seconds()

    @property
    def workers(self) -> tuple[ProcessCpu, ...]:
        return tuple(p for p in self.processes if p.role == "worker")

    @property
    def masters(self) -> tuple[ProcessCpu, ...]:
        return tuple(p for p in self.processes if p.role == "master")

    @property
    def measured(self) -> bool:
        """True when there were worker samples in the window to judge from."""
        return bool(self.workers)

    @property
    def workers_saturated(self) -> bool:
        return any(p.saturated for p in self.workers)

    @property
    def master_saturated(self) -> bool:
        return any(p.saturated for p in self.masters)

    @property
    def limits_bound(self) -> bool:
        return self.limits is not None and bool(self.limits.bound)

    @property
    def overran(self) -> bool:
        return self.overrun is not None and self.overrun.overran

    @property
    def saturated(self) -> bool:
        return self.workers_saturated or self.master_saturated or self.limits_bound or self.overran

    def summary(self) -> str:
        """What was decided and why, for people: an overrun, the CPU, the other limits."""
        text = self.cpu_summary()
        if self.limits is not None and self.limits.measured:
            if self.limits.bound:
                text = f"{self.limits.summary()} CPU: {text}"
            else:
                text = f"{text} Other {self.limits.summary()}"
        if self.overrun is None or not self.overrun.summary():
            return text
        if self.overran:
            return f"{self.overrun.summary()} {text}"
        return f"{text} {self.overrun.summary()}"

    def cpu_summary(self) -> str:
        """One sentence for people: what the CPU samples decided and why."""
        rule = (
            f"wanted more than {self.cpu_threshold:g}% of a core for more than "
            f"{self.max_fraction * 100:g}% of the run"
        )
        flagged = [p for p in self.processes if p.saturated]
        gap = (
            f" No CPU samples from worker host(s) {', '.join(self.unsampled_hosts)}: "
            "not measured there."
            if self.unsampled_hosts
            else ""
        )
        if flagged:
            names = ", ".join(_flagged_text(p) for p in flagged)
            starved = (
                " Waiting for a CPU means the host has more busy Locust processes than "
                "free cores: run fewer worker processes per host, or add hosts."
                if any(p.starved for p in flagged)
                else ""
            )
            return f"SATURATED: {names} {rule}; the results measure the generators.{starved}{gap}"
        if not self.measured:
            return "not measured: no worker CPU samples in the run window."
        peak = max(p.peak_percent for p in self.workers)
        return (
            f"not saturated: no process {rule} "
            f"({len(self.workers)} worker process(es), highest worker peak {peak:.0f}%).{gap}"
        )


def _flagged_text(process: ProcessCpu) -> str:
    wait = process.mean_wait_percent
    waited = f", waited for a CPU {wait:.0f}%" if wait is not None else ""
    return (
        f"{process.role} {process.label} ({process.seconds_above:.0f} s = "
        f"{process.fraction_above * 100:.0f}%, peak {process.peak_percent:.0f}%, "
        f"mean {process.mean_percent:.0f}%{waited})"
    )


def _typical_interval(times: list[datetime]) -> float:
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    gaps = [g for g in gaps if g > 0]
    return statistics.median(gaps) if gaps else _DEFAULT_INTERVAL_S


def _process_cpu(
    key: tuple[str, str, str, int],
    samples: list[CpuSample],
    window_seconds: float | None,
    cpu_threshold: float,
    max_fraction: float,
) -> ProcessCpu:
    host, role, unit, pid = key
    times = [s.timestamp for s in samples]
    typical = _typical_interval(times)
    seconds_above = 0.0
    previous: datetime | None = None
    for sample in samples:
        interval = typical if previous is None else (sample.timestamp - previous).total_seconds()
        interval = min(interval, 2 * typical)
        previous = sample.timestamp
        if sample.demand_percent > cpu_threshold:
            seconds_above += interval
    span = window_seconds if window_seconds and window_seconds > 0 else len(samples) * typical
    fraction = min(seconds_above / span, 1.0) if span > 0 else 0.0
    values = [s.cpu_percent for s in samples]
    waits = [s.wait_percent for s in samples if s.wait_percent is not None]
    return ProcessCpu(
        host=host,
        role=role,
        unit=unit,
        pid=pid,
        samples=len(samples),
        peak_percent=max(values),
        mean_percent=statistics.fmean(values),
        seconds_above=seconds_above,
        fraction_above=fraction,
        saturated=fraction > max_fraction,
        series=tuple((s.timestamp, s.cpu_percent) for s in samples),
        mean_wait_percent=statistics.fmean(waits) if waits else None,
        demand_series=(tuple((s.timestamp, s.demand_percent) for s in samples) if waits else ()),
    )


def _in_window(
    samples: list[CpuSample], start: datetime | None, end: datetime | None
) -> list[CpuSample]:
    """The samples whose interval lies mostly in the window: a sample at T stands for the
    interval before T, so it counts when that interval's middle is in [start, end]. (The
    sample taken as the workers finish importing Locust, just before the first user, is
    out; a fixed slack of a second let it in and flagged 3 s runs as saturated.)"""
    groups: dict[tuple[str, str, str, int], list[CpuSample]] = {}
    for sample in samples:
        groups.setdefault((sample.host, sample.role, sample.unit, sample.pid), []).append(sample)
    kept: list[CpuSample] = []
    for group in groups.values():
        half = timedelta(seconds=_typical_interval([s.timestamp for s in group]) / 2)
        kept += [
            s
            for s in group
            if (start is None or s.timestamp - half >= start)
            and (end is None or s.timestamp - half <= end)
        ]
    return sorted(kept, key=lambda s: s.timestamp)


def verdict(
    samples: Iterable[CpuSample],
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    cpu_threshold: float = DEFAULT_CPU_THRESHOLD,
    max_fraction: float = DEFAULT_MAX_FRACTION,
) -> SaturationVerdict:
    """Judge saturation from CPU samples taken between ``start`` and ``end``.

    Samples whose interval lies mostly outside the window are ignored; without a
    window, the span of the samples is used. Processes are told apart by
    (host, role, unit, pid): a restarted worker is a new process.
    """
    if not 0 <= max_fraction < 1:
        raise ValueError(f"max_fraction must be in [0, 1), not {max_fraction}")
    if cpu_threshold <= 0:
        raise ValueError(f"cpu_threshold must be positive, not {cpu_threshold}")
    chosen = _in_window(sorted(samples, key=lambda s: s.timestamp), start, end)
    window: float | None = None
    if start is not None and end is not None:
        window = (end - start).total_seconds()
    elif chosen:  # no window given: the samples' own span, the first one covering an interval
        typical = _typical_interval([s.timestamp for s in chosen])
        start = start or chosen[0].timestamp - timedelta(seconds=typical)
        end = end or chosen[-1].timestamp
        window = (end - start).total_seconds()
    groups: dict[tuple[str, str, str, int], list[CpuSample]] = {}
    for sample in chosen:
        groups.setdefault((sample.host, sample.role, sample.unit, sample.pid), []).append(sample)
    processes = tuple(
        _process_cpu(key, group, window, cpu_threshold, max_fraction)
        for key, group in sorted(groups.items(), key=lambda kv: (kv[0][1] != "master", kv[0]))
    )
    return SaturationVerdict(
        cpu_threshold=cpu_threshold,
        max_fraction=max_fraction,
        window_start=start,
        window_end=end,
        processes=processes,
    )


def load_window(results: RunResults) -> tuple[datetime | None, datetime | None]:
    """The period the stats describe: seconds of history with users, else run.json's times."""
    busy = [row.timestamp for row in results.aggregated_history if row.user_count > 0]
    if len(busy) >= 2:  # a history row at second S covers the second before it
        return busy[0] - timedelta(seconds=1), busy[-1]
    return results.metadata.started_at, results.metadata.ended_at


def verdict_for(
    results: RunResults,
    *,
    cpu_threshold: float = DEFAULT_CPU_THRESHOLD,
    max_fraction: float = DEFAULT_MAX_FRACTION,
) -> SaturationVerdict:
    """:func:`verdict` over ``results.cpu_samples`` in the run's load window."""
    start, end = load_window(results)
    result = verdict(
        results.cpu_samples,
        start,
        end,
        cpu_threshold=cpu_threshold,
        max_fraction=max_fraction,
    )
    sampled = {p.host for p in result.workers}
    unsampled = tuple(h for h in dict.fromkeys(results.metadata.hosts.workers) if h not in sampled)
    if result.workers and unsampled:
        result = replace(result, unsampled_hosts=unsampled)
    if results.limit_samples:
        result = replace(result, limits=limits_verdict(results.limit_samples))
    return replace(result, overrun=overrun_for(results))
