"""Typed model of one fleet run folder (``results/<run-id>/``).

Everything here is a frozen dataclass built by :mod:`locust_fleet.results.loader`;
nothing in this module reads files. Times are in milliseconds where Locust uses
milliseconds (response times) and timezone-aware UTC datetimes elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

AGGREGATED_NAME = "Aggregated"


def endpoint_label(method: str, name: str) -> str:
    """How an endpoint is written everywhere a person reads it: ``GET /about``."""
    return f"{method} {name}" if method else name


@dataclass(frozen=True)
class EndpointStats:
    """One row of ``locust_stats.csv``: an endpoint, or the ``Aggregated`` total.

    ``percentiles`` maps the percent (50.0, 95.0, 99.9, 100.0, ...) to the response
    time in ms; a value is ``None`` where Locust wrote ``N/A`` (no requests).
    """

    method: str
    name: str
    request_count: int
    failure_count: int
    median_ms: float
    average_ms: float
    min_ms: float
    max_ms: float
    average_content_size: float
    requests_per_s: float
    failures_per_s: float
    percentiles: Mapping[float, float | None]

    @property
    def is_aggregated(self) -> bool:
        return self.name == AGGREGATED_NAME and not self.method

    @property
    def label(self) -> str:
        return endpoint_label(self.method, self.name)

    @property
    def fail_ratio(self) -> float | None:
        """Failed requests / all requests; ``None`` when there were no requests."""
        if self.request_count == 0:
            return None
        return self.failure_count / self.request_count

    def percentile(self, percent: float) -> float | None:
        """Response time (ms) at ``percent`` (e.g. 95 or 99.9); KeyError if not reported."""
        return self.percentiles[float(percent)]


@dataclass(frozen=True)
class HistoryRow:
    """One row of ``locust_stats_history.csv`` (one endpoint, one second).

    ``percentiles`` are Locust's *current* (about 10 s window) percentiles when the
    run used ``--csv-full-history``; ``None`` where Locust wrote ``N/A``.
    The ``total_*`` fields are cumulative since the start of the run.
    """

    timestamp: datetime
    user_count: int
    method: str
    name: str
    requests_per_s: float
    failures_per_s: float
    percentiles: Mapping[float, float | None]
    total_request_count: int
    total_failure_count: int
    total_median_ms: float
    total_average_ms: float
    total_min_ms: float
    total_max_ms: float
    total_average_content_size: float

    @property
    def is_aggregated(self) -> bool:
        return self.name == AGGREGATED_NAME and not self.method

    @property
    def label(self) -> str:
        return endpoint_label(self.method, self.name)


@dataclass(frozen=True)
class FailureRow:
    """One row of ``locust_failures.csv``: an error seen ``occurrences`` times."""

    method: str
    name: str
    error: str
    occurrences: int
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    @property
    def label(self) -> str:
        return endpoint_label(self.method, self.name)


@dataclass(frozen=True)
class ExceptionRow:
    """One row of ``locust_exceptions.csv``: an exception raised in the test plan."""

    count: int
    message: str
    traceback: str
    nodes: tuple[str, ...]


@dataclass(frozen=True)
class JsonEndpointStats:
    """One entry of Locust's ``--json-file`` output (written once, at shutdown).

    ``response_times`` is Locust's rounded histogram {ms bucket: count};
    ``requests_per_second`` / ``failures_per_second`` are keyed by unix second.
    """

    method: str
    name: str
    num_requests: int
    num_failures: int
    total_response_time_ms: float
    min_response_time_ms: float | None
    max_response_time_ms: float
    total_content_length: int
    start_time: float
    last_request_timestamp: float | None
    response_times: Mapping[int, int]
    requests_per_second: Mapping[int, int]
    failures_per_second: Mapping[int, int]

    @property
    def label(self) -> str:
        return endpoint_label(self.method, self.name)


@dataclass(frozen=True)
class CpuSample:
    """One line of ``cpu_samples.csv``: a process's CPU, in percent of one core.

    ``cpu_percent`` is the CPU it got; ``wait_percent`` the time its threads were
    runnable but waiting for a CPU (None when not measured: older files, kernels
    without schedstat). Their sum, ``demand_percent``, is the CPU it wanted.
    """

    timestamp: datetime
    host: str
    role: str  # "master" | "worker"
    unit: str
    pid: int
    cpu_percent: float
    wait_percent: float | None = None

    @property
    def demand_percent(self) -> float:
        return self.cpu_percent + (self.wait_percent or 0.0)


@dataclass(frozen=True)
class LimitSample:
    """One line of ``limits_samples.csv``: how much of one of a host's limits was in use.

    ``limit`` is ``open_files`` (subject: a Locust process, ``unit[pid]``), ``local_ports``
    (subject: a destination ``ip:port``; maximum: the local port range), ``conntrack``,
    ``memory`` (kB) or ``process_memory`` (subject: a Locust process; kB resident against the
    host's total); see the sampler for the report-only rest.
    """

    timestamp: datetime
    host: str
    limit: str
    subject: str
    used: int
    maximum: int

    @property
    def share(self) -> float:
        return self.used / self.maximum if self.maximum > 0 else 0.0


@dataclass(frozen=True)
class RunEvent:
    """Something the orchestration noticed during the run (``run.json`` ``events``)."""

    time: datetime | None
    host: str
    kind: str
    message: str


@dataclass(frozen=True)
class RunParameters:
    plan: str
    users: int
    spawn_rate: float
    run_time: str
    tags: tuple[str, ...] = ()
    exclude_tags: tuple[str, ...] = ()
    extra_args: tuple[str, ...] = ()
    target_url: str | None = None


@dataclass(frozen=True)
class RunShape:
    """The LoadTestShape that drove the run (``run.json`` ``shape``): what it really ran."""

    name: str
    uses_common_options: bool
    bound_seconds: int
    cut_by_run_time: bool
    peak_users: int | None
    seconds: int | None


@dataclass(frozen=True)
class RunHosts:
    master: str
    workers: tuple[str, ...]
    targets: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunMetadata:
    """``run.json``, written by the ``run_test`` playbook.

    ``error`` is the orchestration's own account of what went wrong (empty when
    nothing did); ``worker_processes`` maps each worker host to its process count.
    """

    run_id: str
    started_at: datetime | None
    ended_at: datetime | None
    parameters: RunParameters
    locust_version: str | None
    plan_manifest_sha256: str | None
    hosts: RunHosts
    workers_expected: int
    workers_connected: int | None
    master_exit_code: int | None
    events: tuple[RunEvent, ...] = ()
    error: str = ""
    master_unit_result: str | None = None
    worker_processes: Mapping[str, int] = field(default_factory=dict)
    shape: RunShape | None = None

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class RunFiles:
    """Where the optional artifacts of a run are (``None`` when absent)."""

    report_html: Path | None = None
    master_log: Path | None = None
    journals: Mapping[str, Path] = field(default_factory=dict)


@dataclass(frozen=True)
class RunResults:
    """Everything read from one run folder. Build it with ``load_run(run_dir)``.

    ``endpoints`` excludes the ``Aggregated`` row, which is ``aggregated``.
    Optional inputs that were absent come back empty (``()``) or ``None``.
    """

    run_dir: Path
    metadata: RunMetadata
    endpoints: tuple[EndpointStats, ...]
    aggregated: EndpointStats
    history: tuple[HistoryRow, ...] = ()
    failures: tuple[FailureRow, ...] = ()
    exceptions: tuple[ExceptionRow, ...] = ()
    json_stats: tuple[JsonEndpointStats, ...] | None = None
    cpu_samples: tuple[CpuSample, ...] = ()
    files: RunFiles = field(default_factory=RunFiles)
    limit_samples: tuple[LimitSample, ...] = ()

    @property
    def run_id(self) -> str:
        return self.metadata.run_id

    @property
    def all_rows(self) -> tuple[EndpointStats, ...]:
        """The endpoint rows followed by the aggregated row (the CSV's order)."""
        return (*self.endpoints, self.aggregated)

    @property
    def aggregated_history(self) -> tuple[HistoryRow, ...]:
        return tuple(row for row in self.history if row.is_aggregated)

    @property
    def exception_count(self) -> int:
        return sum(row.count for row in self.exceptions)

    @property
    def had_errors(self) -> bool:
        """Locust's own exit-1 rule: any failed request or any exception in the plan."""
        return self.aggregated.failure_count > 0 or self.exception_count > 0

    def find_endpoints(self, name: str, method: str | None = None) -> list[EndpointStats]:
        """Rows whose name is ``name`` (and method, when given; case-insensitive)."""
        return [
            row
            for row in self.endpoints
            if row.name == name and (method is None or row.method.upper() == method.upper())
        ]
