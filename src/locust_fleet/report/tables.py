"""The rows every report shows, computed once: the Markdown, JUnit and terminal
renderers only format them."""

from __future__ import annotations

from dataclasses import dataclass

from locust_fleet.results.model import EndpointStats, RunResults
from locust_fleet.saturation import ProcessCpu, SaturationVerdict

ENDPOINT_HEADERS = (
    "Endpoint",
    "Requests",
    "Failures",
    "Fail %",
    "Req/s",
    "Avg ms",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "Max ms",
)
CPU_HEADERS = (
    "Process",
    "Role",
    "Samples",
    "Peak CPU",
    "Mean CPU",
    "Waited for CPU",
    "Time above",
    "Saturated",
)


def _ms(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.0f}" if value >= 10 else f"{value:.3g}"


def _percentile(row: EndpointStats, percent: float) -> float | None:
    return row.percentiles.get(percent)


def endpoint_cells(row: EndpointStats) -> tuple[str, ...]:
    ratio = row.fail_ratio
    return (
        row.label,
        str(row.request_count),
        str(row.failure_count),
        "n/a" if ratio is None else f"{ratio * 100:.2f}",
        f"{row.requests_per_s:.1f}",
        _ms(row.average_ms),
        _ms(_percentile(row, 50.0)),
        _ms(_percentile(row, 95.0)),
        _ms(_percentile(row, 99.0)),
        _ms(row.max_ms),
    )


def endpoint_rows(results: RunResults) -> list[tuple[str, ...]]:
    """One row of cells per endpoint, the Aggregated row last."""
    return [endpoint_cells(row) for row in results.all_rows]


def cpu_cells(process: ProcessCpu) -> tuple[str, ...]:
    return (
        process.label,
        process.role,
        str(process.samples),
        f"{process.peak_percent:.0f}%",
        f"{process.mean_percent:.0f}%",
        "n/a" if process.mean_wait_percent is None else f"{process.mean_wait_percent:.0f}%",
        f"{process.seconds_above:.0f} s ({process.fraction_above * 100:.0f}%)",
        ("YES (starved)" if process.starved else "YES") if process.saturated else "no",
    )


@dataclass(frozen=True)
class WorkerCount:
    expected: int
    connected: int | None

    @property
    def text(self) -> str:
        if self.expected == 0:
            return "none (standalone run)"
        connected = "unknown" if self.connected is None else str(self.connected)
        return f"{connected} of {self.expected} connected"

    @property
    def short(self) -> bool:
        return self.connected is not None and self.connected < self.expected


def worker_count(results: RunResults) -> WorkerCount:
    meta = results.metadata
    return WorkerCount(meta.workers_expected, meta.workers_connected)


def threshold_text(verdict: SaturationVerdict) -> str:
    window = verdict.window_seconds
    span = f"the {window:.0f} s load window" if window is not None else "the run"
    return (
        f"a process counts as saturated when it spends more than "
        f"{verdict.max_fraction * 100:g}% of {span} wanting more than "
        f"{verdict.cpu_threshold:g}% of one core (running, or runnable and waiting for a CPU)"
    )
