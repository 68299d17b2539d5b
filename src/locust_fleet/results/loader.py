"""``load_run(run_dir)``: read a fleet run folder into a :class:`RunResults`.

Required: ``run.json`` and ``locust_stats.csv``. Optional (absent -> empty or
``None``): ``locust_stats_history.csv``, ``locust_failures.csv``,
``locust_exceptions.csv``, ``stats.json``, ``cpu_samples.csv``, ``report.html``,
``master.log``, ``journals/<host>.log``. A file that is present but malformed
always raises :class:`ResultsError`, optional or not.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from locust_fleet.results.csvfiles import (
    read_cpu_samples,
    read_exceptions,
    read_failures,
    read_history,
    read_json_stats,
    read_limit_samples,
    read_stats,
)
from locust_fleet.results.errors import ResultsError
from locust_fleet.results.model import RunFiles, RunResults
from locust_fleet.results.runinfo import read_run_json

CSV_PREFIX = "locust"
RUN_JSON = "run.json"
STATS_CSV = f"{CSV_PREFIX}_stats.csv"
HISTORY_CSV = f"{CSV_PREFIX}_stats_history.csv"
FAILURES_CSV = f"{CSV_PREFIX}_failures.csv"
EXCEPTIONS_CSV = f"{CSV_PREFIX}_exceptions.csv"
STATS_JSON = "stats.json"
CPU_SAMPLES_CSV = "cpu_samples.csv"
LIMIT_SAMPLES_CSV = "limits_samples.csv"
REPORT_HTML = "report.html"
MASTER_LOG = "master.log"
JOURNALS_DIR = "journals"

T = TypeVar("T")


def _optional(path: Path, reader: Callable[[Path], T]) -> T | None:
    return reader(path) if path.is_file() else None


def _required(path: Path, what: str) -> Path:
    if not path.is_file():
        raise ResultsError(path, f"missing; every run folder needs {what}")
    return path


def load_run(run_dir: str | Path) -> RunResults:
    """Read ``run_dir`` (``results/<run-id>/``) into a typed :class:`RunResults`.

    Raises :class:`ResultsError` (a ``ValueError``) naming the file and the
    problem when a required file is missing or any file is malformed.
    """
    root = Path(run_dir)
    if not root.is_dir():
        raise ResultsError(root, "not a directory (expected a run folder such as results/<run-id>)")
    metadata = read_run_json(_required(root / RUN_JSON, "the run's metadata (run.json)"))
    endpoints, aggregated = read_stats(
        _required(root / STATS_CSV, "Locust's stats (--csv locust writes locust_stats.csv)")
    )
    journals_dir = root / JOURNALS_DIR
    journals = (
        {p.stem: p for p in sorted(journals_dir.glob("*.log"))} if journals_dir.is_dir() else {}
    )
    return RunResults(
        run_dir=root,
        metadata=metadata,
        endpoints=endpoints,
        aggregated=aggregated,
        history=_optional(root / HISTORY_CSV, read_history) or (),
        failures=_optional(root / FAILURES_CSV, read_failures) or (),
        exceptions=_optional(root / EXCEPTIONS_CSV, read_exceptions) or (),
        json_stats=_optional(root / STATS_JSON, read_json_stats),
        cpu_samples=_optional(root / CPU_SAMPLES_CSV, read_cpu_samples) or (),
        files=RunFiles(
            report_html=root / REPORT_HTML if (root / REPORT_HTML).is_file() else None,
            master_log=root / MASTER_LOG if (root / MASTER_LOG).is_file() else None,
            journals=journals,
        ),
        limit_samples=_optional(root / LIMIT_SAMPLES_CSV, read_limit_samples) or (),
    )
