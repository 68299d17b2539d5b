"""Parsers for the files Locust writes with ``--csv PREFIX`` and ``--json-file``.

Each ``read_*`` function takes a path and returns model objects, or raises
:class:`ResultsError` naming the file, the line and what is wrong. They do not
decide whether a file is optional: the loader does.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from locust_fleet.results.errors import ResultsError
from locust_fleet.results.model import (
    AGGREGATED_NAME,
    CpuSample,
    EndpointStats,
    ExceptionRow,
    FailureRow,
    HistoryRow,
    JsonEndpointStats,
    LimitSample,
)
from locust_fleet.results.text import read_utf8

_PERCENTILE_COLUMN = re.compile(r"^(\d+(?:\.\d+)?)%$")
_NOT_AVAILABLE = "N/A"

STATS_COLUMNS = (
    "Type",
    "Name",
    "Request Count",
    "Failure Count",
    "Median Response Time",
    "Average Response Time",
    "Min Response Time",
    "Max Response Time",
    "Average Content Size",
    "Requests/s",
    "Failures/s",
)
HISTORY_COLUMNS = (
    "Timestamp",
    "User Count",
    "Type",
    "Name",
    "Requests/s",
    "Failures/s",
    "Total Request Count",
    "Total Failure Count",
    "Total Median Response Time",
    "Total Average Response Time",
    "Total Min Response Time",
    "Total Max Response Time",
    "Total Average Content Size",
)
FAILURES_COLUMNS = ("Method", "Name", "Error", "Occurrences")
EXCEPTIONS_COLUMNS = ("Count", "Message", "Traceback", "Nodes")
CPU_COLUMNS = ("timestamp", "host", "role", "unit", "pid", "cpu_percent")
CPU_ROLES = ("master", "worker")
LIMIT_COLUMNS = ("timestamp", "host", "limit", "subject", "used", "maximum")


@dataclass(frozen=True)
class _Row:
    """One CSV record with the file and line it came from, for error messages."""

    path: Path
    line: int
    values: Mapping[str, str]

    def error(self, problem: str) -> ResultsError:
        return ResultsError(self.path, problem, self.line)

    def text(self, column: str) -> str:
        return self.values[column]

    def number(self, column: str) -> float:
        raw = self.values[column].strip()
        try:
            return float(raw)
        except ValueError:
            raise self.error(f"column {column!r}: {raw!r} is not a number") from None

    def integer(self, column: str) -> int:
        raw = self.values[column].strip()
        try:
            return int(raw)
        except ValueError:
            try:
                as_float = float(raw)
            except ValueError:
                as_float = float("nan")
            if as_float.is_integer():
                return int(as_float)
            raise self.error(f"column {column!r}: {raw!r} is not a whole number") from None

    def optional_number(self, column: str) -> float | None:
        if self.values[column].strip() == _NOT_AVAILABLE:
            return None
        return self.number(column)

    def timestamp(self, column: str) -> datetime:
        raw = self.values[column].strip()
        try:
            return parse_timestamp(raw)
        except ValueError:
            raise self.error(
                f"column {column!r}: {raw!r} is not a timestamp (expected ISO-8601 or unix seconds)"
            ) from None

    def optional_timestamp(self, column: str) -> datetime | None:
        if not self.values.get(column, "").strip():
            return None
        return self.timestamp(column)


def parse_timestamp(raw: str) -> datetime:
    """ISO-8601 (``Z`` allowed) or unix seconds -> aware UTC datetime; ValueError if neither."""
    text = raw.strip()
    try:
        return datetime.fromtimestamp(float(text), tz=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _read_rows(path: Path, required: Sequence[str]) -> tuple[list[str], Iterator[_Row]]:
    """Header and records of ``path``; checks the header has every ``required`` column."""
    text = read_utf8(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ResultsError(
            path, "empty file; expected a header with " + ", ".join(required)
        ) from None
    except csv.Error as exc:
        raise ResultsError(path, f"not valid CSV: {exc}", 1) from None
    missing = [column for column in required if column not in header]
    if missing:
        raise ResultsError(
            path,
            f"header lacks column(s) {', '.join(repr(c) for c in missing)}; "
            f"found {', '.join(header) or 'nothing'}",
            1,
        )

    def records() -> Iterator[_Row]:
        try:
            for fields in reader:
                if not fields or all(not f.strip() for f in fields):
                    continue
                if len(fields) != len(header):
                    raise ResultsError(
                        path,
                        f"expected {len(header)} fields as in the header, found {len(fields)}",
                        reader.line_num,
                    )
                yield _Row(path, reader.line_num, dict(zip(header, fields, strict=True)))
        except csv.Error as exc:
            raise ResultsError(path, f"not valid CSV: {exc}", reader.line_num) from None

    return header, records()


def _percentile_columns(header: Sequence[str]) -> list[tuple[str, float]]:
    columns = []
    for column in header:
        match = _PERCENTILE_COLUMN.match(column)
        if match:
            columns.append((column, float(match.group(1))))
    return columns


def _percentiles(row: _Row, columns: Sequence[tuple[str, float]]) -> dict[float, float | None]:
    return {percent: row.optional_number(column) for column, percent in columns}


def read_stats(path: Path) -> tuple[tuple[EndpointStats, ...], EndpointStats]:
    """``PREFIX_stats.csv`` -> (endpoint rows, the Aggregated row)."""
    header, rows = _read_rows(path, STATS_COLUMNS)
    columns = _percentile_columns(header)
    if not columns:
        raise ResultsError(path, "header has no percentile columns (such as '95%')", 1)
    endpoints: list[EndpointStats] = []
    aggregated: EndpointStats | None = None
    for row in rows:
        stats = EndpointStats(
            method=row.text("Type"),
            name=row.text("Name"),
            request_count=row.integer("Request Count"),
            failure_count=row.integer("Failure Count"),
            median_ms=row.number("Median Response Time"),
            average_ms=row.number("Average Response Time"),
            min_ms=row.number("Min Response Time"),
            max_ms=row.number("Max Response Time"),
            average_content_size=row.number("Average Content Size"),
            requests_per_s=row.number("Requests/s"),
            failures_per_s=row.number("Failures/s"),
            percentiles=_percentiles(row, columns),
        )
        if stats.failure_count > stats.request_count:
            raise row.error(
                f"{stats.label}: Failure Count {stats.failure_count} exceeds "
                f"Request Count {stats.request_count}"
            )
        if stats.is_aggregated:
            if aggregated is not None:
                raise row.error(f"a second {AGGREGATED_NAME!r} row")
            aggregated = stats
        else:
            endpoints.append(stats)
    if aggregated is None:
        raise ResultsError(
            path,
            f"no {AGGREGATED_NAME!r} row (the summary row Locust writes last); "
            "the file is truncated or not a Locust stats CSV",
        )
    return tuple(endpoints), aggregated


def read_history(path: Path) -> tuple[HistoryRow, ...]:
    """``PREFIX_stats_history.csv`` -> rows in file order (time ascending)."""
    header, rows = _read_rows(path, HISTORY_COLUMNS)
    columns = _percentile_columns(header)
    history = []
    for row in rows:
        history.append(
            HistoryRow(
                timestamp=row.timestamp("Timestamp"),
                user_count=row.integer("User Count"),
                method=row.text("Type"),
                name=row.text("Name"),
                requests_per_s=row.number("Requests/s"),
                failures_per_s=row.number("Failures/s"),
                percentiles=_percentiles(row, columns),
                total_request_count=row.integer("Total Request Count"),
                total_failure_count=row.integer("Total Failure Count"),
                total_median_ms=row.number("Total Median Response Time"),
                total_average_ms=row.number("Total Average Response Time"),
                total_min_ms=row.number("Total Min Response Time"),
                total_max_ms=row.number("Total Max Response Time"),
                total_average_content_size=row.number("Total Average Content Size"),
            )
        )
    return tuple(history)


def read_failures(path: Path) -> tuple[FailureRow, ...]:
    """``PREFIX_failures.csv`` -> one row per (endpoint, error)."""
    _, rows = _read_rows(path, FAILURES_COLUMNS)
    return tuple(
        FailureRow(
            method=row.text("Method"),
            name=row.text("Name"),
            error=row.text("Error"),
            occurrences=row.integer("Occurrences"),
            first_seen=row.optional_timestamp("First Seen"),
            last_seen=row.optional_timestamp("Last Seen"),
        )
        for row in rows
    )


def read_exceptions(path: Path) -> tuple[ExceptionRow, ...]:
    """``PREFIX_exceptions.csv`` -> one row per distinct exception in the plan."""
    _, rows = _read_rows(path, EXCEPTIONS_COLUMNS)
    return tuple(
        ExceptionRow(
            count=row.integer("Count"),
            message=row.text("Message"),
            traceback=row.text("Traceback"),
            nodes=tuple(n.strip() for n in row.text("Nodes").split(",") if n.strip()),
        )
        for row in rows
    )


def read_cpu_samples(path: Path) -> tuple[CpuSample, ...]:
    """``cpu_samples.csv`` (``timestamp,host,role,unit,pid,cpu_percent[,wait_percent]``),
    time-ordered. ``wait_percent`` is optional (files from before it existed)."""
    _, rows = _read_rows(path, CPU_COLUMNS)
    samples = []
    for row in rows:
        role = row.text("role").strip()
        if role not in CPU_ROLES:
            raise row.error(f"column 'role': {role!r} is not one of {', '.join(CPU_ROLES)}")
        cpu = row.number("cpu_percent")
        if cpu < 0:
            raise row.error(f"column 'cpu_percent': {cpu} is negative")
        wait = row.optional_number("wait_percent") if "wait_percent" in row.values else None
        if wait is not None and wait < 0:
            raise row.error(f"column 'wait_percent': {wait} is negative")
        samples.append(
            CpuSample(
                timestamp=row.timestamp("timestamp"),
                host=row.text("host").strip(),
                role=role,
                unit=row.text("unit").strip(),
                pid=row.integer("pid"),
                cpu_percent=cpu,
                wait_percent=wait,
            )
        )
    samples.sort(key=lambda s: s.timestamp)
    return tuple(samples)


def read_limit_samples(path: Path) -> tuple[LimitSample, ...]:
    """``limits_samples.csv`` (``timestamp,host,limit,subject,used,maximum``), time-ordered."""
    _, rows = _read_rows(path, LIMIT_COLUMNS)
    samples = []
    for row in rows:
        used, maximum = row.integer("used"), row.integer("maximum")
        if used < 0 or maximum < 0:
            raise row.error("columns 'used' and 'maximum' cannot be negative")
        samples.append(
            LimitSample(
                timestamp=row.timestamp("timestamp"),
                host=row.text("host").strip(),
                limit=row.text("limit").strip(),
                subject=row.text("subject").strip(),
                used=used,
                maximum=maximum,
            )
        )
    samples.sort(key=lambda s: s.timestamp)
    return tuple(samples)


_JSON_REQUIRED = (
    "name",
    "method",
    "num_requests",
    "num_failures",
    "total_response_time",
    "max_response_time",
    "total_content_length",
    "start_time",
    "response_times",
    "num_reqs_per_sec",
    "num_fail_per_sec",
)


def _int_keys(path: Path, where: str, value: Any) -> dict[int, int]:
    if not isinstance(value, dict):
        raise ResultsError(path, f"{where}: expected an object, found {type(value).__name__}")
    try:
        return {int(float(k)): int(v) for k, v in value.items()}
    except (TypeError, ValueError):
        raise ResultsError(path, f"{where}: keys and values must be numbers") from None


def read_json_stats(path: Path) -> tuple[JsonEndpointStats, ...]:
    """Locust's ``--json-file`` output: a list of per-endpoint objects."""
    try:
        data = json.loads(read_utf8(path))
    except json.JSONDecodeError as exc:
        raise ResultsError(path, f"not valid JSON: {exc.msg}", exc.lineno) from None
    if not isinstance(data, list):
        raise ResultsError(
            path, f"expected a list of endpoint objects, found {type(data).__name__}"
        )
    entries = []
    for index, item in enumerate(data):
        where = f"entry {index}"
        if not isinstance(item, dict):
            raise ResultsError(path, f"{where}: expected an object, found {type(item).__name__}")
        missing = [key for key in _JSON_REQUIRED if key not in item]
        if missing:
            raise ResultsError(path, f"{where}: missing key(s) {', '.join(missing)}")
        try:
            entries.append(
                JsonEndpointStats(
                    method=str(item["method"] or ""),
                    name=str(item["name"]),
                    num_requests=int(item["num_requests"]),
                    num_failures=int(item["num_failures"]),
                    total_response_time_ms=float(item["total_response_time"]),
                    min_response_time_ms=(
                        None
                        if item.get("min_response_time") is None
                        else float(item["min_response_time"])
                    ),
                    max_response_time_ms=float(item["max_response_time"]),
                    total_content_length=int(item["total_content_length"]),
                    start_time=float(item["start_time"]),
                    last_request_timestamp=(
                        None
                        if item.get("last_request_timestamp") is None
                        else float(item["last_request_timestamp"])
                    ),
                    response_times=_int_keys(
                        path, f"{where} response_times", item["response_times"]
                    ),
                    requests_per_second=_int_keys(
                        path, f"{where} num_reqs_per_sec", item["num_reqs_per_sec"]
                    ),
                    failures_per_second=_int_keys(
                        path, f"{where} num_fail_per_sec", item["num_fail_per_sec"]
                    ),
                )
            )
        except (TypeError, ValueError) as exc:
            raise ResultsError(path, f"{where}: a value has the wrong type ({exc})") from None
    return tuple(entries)
