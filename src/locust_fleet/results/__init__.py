"""The results of one fleet run, read from its folder into typed objects.

API (what the CLI calls)::

    from locust_fleet.results import load_run, ResultsError

    results = load_run("results/<run-id>")      # -> RunResults; ResultsError if malformed
    results.aggregated.percentile(95)           # ms, from locust_stats.csv's "Aggregated" row
    results.endpoints                           # per-endpoint EndpointStats rows
    results.history / failures / exceptions     # the other CSV files (empty if absent)
    results.json_stats                          # stats.json entries, or None if absent
    results.cpu_samples                         # cpu_samples.csv, or () if absent
    results.metadata                            # run.json (RunMetadata)
    results.had_errors                          # Locust's exit-1 rule (failures or exceptions)
"""

from locust_fleet.results.errors import ResultsError
from locust_fleet.results.loader import load_run
from locust_fleet.results.model import (
    AGGREGATED_NAME,
    CpuSample,
    EndpointStats,
    ExceptionRow,
    FailureRow,
    HistoryRow,
    JsonEndpointStats,
    RunEvent,
    RunFiles,
    RunHosts,
    RunMetadata,
    RunParameters,
    RunResults,
    endpoint_label,
)

__all__ = [
    "AGGREGATED_NAME",
    "CpuSample",
    "EndpointStats",
    "ExceptionRow",
    "FailureRow",
    "HistoryRow",
    "JsonEndpointStats",
    "ResultsError",
    "RunEvent",
    "RunFiles",
    "RunHosts",
    "RunMetadata",
    "RunParameters",
    "RunResults",
    "endpoint_label",
    "load_run",
]
