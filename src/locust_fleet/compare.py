"""Compare two runs endpoint by endpoint and flag regressions.

For every endpoint in either run (and the ``Aggregated`` row) the deltas of
requests/s, p50, p95, p99 and failure ratio, B relative to A. A change is a
*regression* when it is worse by more than ``threshold`` (default 10 %)
relative to A, *and* by more than an absolute floor, so that noise on tiny
numbers (3 ms -> 4 ms is +33 %) is not reported:

- latency (p50/p95/p99): B higher; floor ``latency_floor_ms`` (default 5 ms);
- requests/s: B lower; no floor;
- failure ratio: B higher; floor ``fail_ratio_floor`` (default 0.001 = 0.1
  percentage point). From 0 failures to more than the floor is a regression.

An endpoint present in only one run is listed, not flagged. Differences in the
runs' parameters (users, spawn rate, run time, plan hash, Locust version,
worker count) are listed as notes: a comparison of unlike runs says little.

API::

    compare_runs(a_dir, b_dir, threshold=0.10) -> Comparison
    compare_results(a, b, threshold=0.10) -> Comparison
    comparison.has_regression; comparison.regressions
    comparison_table(comparison) -> rich.table.Table
    comparison_markdown(comparison) -> str        # the same table for a PR comment or file
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.table import Table
from rich.text import Text

from locust_fleet.checks import format_value
from locust_fleet.limits import limits_verdict
from locust_fleet.results.loader import load_run
from locust_fleet.results.model import EndpointStats, RunResults

DEFAULT_THRESHOLD = 0.10
DEFAULT_LATENCY_FLOOR_MS = 5.0
DEFAULT_FAIL_RATIO_FLOOR = 0.001


@dataclass(frozen=True)
class _MetricSpec:
    name: str
    unit: str
    higher_is_worse: bool
    read: Callable[[EndpointStats], float | None]


METRIC_SPECS: tuple[_MetricSpec, ...] = (
    _MetricSpec("rps", "req/s", False, lambda s: s.requests_per_s),
    _MetricSpec("p50", "ms", True, lambda s: s.percentiles.get(50.0)),
    _MetricSpec("p95", "ms", True, lambda s: s.percentiles.get(95.0)),
    _MetricSpec("p99", "ms", True, lambda s: s.percentiles.get(99.0)),
    _MetricSpec("fail_ratio", "ratio", True, lambda s: s.fail_ratio),
)


@dataclass(frozen=True)
class MetricDelta:
    metric: str
    unit: str
    a: float | None
    b: float | None
    regression: bool

    @property
    def delta(self) -> float | None:
        """B - A in the metric's unit; ``None`` when either side has no value."""
        if self.a is None or self.b is None:
            return None
        return self.b - self.a

    @property
    def relative(self) -> float | None:
        """(B - A) / A; ``None`` when A is 0 or either side has no value."""
        if self.a is None or self.b is None or self.a == 0:
            return None
        return (self.b - self.a) / self.a

    def describe(self) -> str:
        """``p95 120 ms -> 180 ms (+50%)``."""
        rel = self.relative
        change = f" ({rel * 100:+.0f}%)" if rel is not None else ""
        return (
            f"{self.metric} {format_value(self.a, self.unit)} -> "
            f"{format_value(self.b, self.unit)}{change}"
        )


@dataclass(frozen=True)
class EndpointComparison:
    label: str
    in_a: bool
    in_b: bool
    metrics: tuple[MetricDelta, ...]

    @property
    def regressions(self) -> tuple[MetricDelta, ...]:
        return tuple(m for m in self.metrics if m.regression)

    def metric(self, name: str) -> MetricDelta:
        return next(m for m in self.metrics if m.metric == name)


@dataclass(frozen=True)
class Comparison:
    a_run_id: str
    b_run_id: str
    threshold: float
    endpoints: tuple[EndpointComparison, ...]
    notes: tuple[str, ...] = ()
    latency_floor_ms: float = DEFAULT_LATENCY_FLOOR_MS
    fail_ratio_floor: float = DEFAULT_FAIL_RATIO_FLOOR

    @property
    def regressions(self) -> tuple[tuple[str, MetricDelta], ...]:
        """(endpoint label, metric delta) for every regression."""
        return tuple((e.label, m) for e in self.endpoints for m in e.regressions)

    @property
    def has_regression(self) -> bool:
        return bool(self.regressions)

    def endpoint(self, label: str) -> EndpointComparison:
        return next(e for e in self.endpoints if e.label == label)


def _is_regression(
    spec: _MetricSpec,
    a: float | None,
    b: float | None,
    threshold: float,
    latency_floor_ms: float,
    fail_ratio_floor: float,
) -> bool:
    if a is None or b is None:
        return False
    worse = b - a if spec.higher_is_worse else a - b
    if worse <= 0:
        return False
    floor = {"ms": latency_floor_ms, "ratio": fail_ratio_floor}.get(spec.unit, 0.0)
    if worse <= floor:
        return False
    if a == 0:
        return True  # from nothing to more than the floor
    return worse / abs(a) > threshold


def _short(digest: str | None) -> str | None:
    return digest[:12] if digest else digest


def _parameter_notes(a: RunResults, b: RunResults) -> tuple[str, ...]:
    ma, mb = a.metadata, b.metadata
    pairs = (
        ("users", ma.parameters.users, mb.parameters.users),
        ("spawn rate", ma.parameters.spawn_rate, mb.parameters.spawn_rate),
        ("run time", ma.parameters.run_time, mb.parameters.run_time),
        ("plan", ma.parameters.plan, mb.parameters.plan),
        ("plan manifest sha256", _short(ma.plan_manifest_sha256), _short(mb.plan_manifest_sha256)),
        ("Locust version", ma.locust_version, mb.locust_version),
        ("workers connected", ma.workers_connected, mb.workers_connected),
        ("tags", ma.parameters.tags, mb.parameters.tags),
    )
    return tuple(f"{name} differs: {va} -> {vb}" for name, va, vb in pairs if va != vb)


def _limits_text(results: RunResults) -> str:
    found = limits_verdict(results.limit_samples)
    if not found.measured:
        return "not sampled"
    return ", ".join(
        f"{limit.replace('_', ' ')} {peak.share:.0%} ({peak.host})"
        for limit, peak in sorted(found.highest().items())
    )


def _limit_notes(a: RunResults, b: RunResults) -> tuple[str, ...]:
    """The generators' limits of each run, highest share of each (when either sampled them)."""
    if not (a.limit_samples or b.limit_samples):
        return ()
    return (f"generator limits, highest share: A {_limits_text(a)}; B {_limits_text(b)}",)


def compare_results(
    a: RunResults,
    b: RunResults,
    threshold: float = DEFAULT_THRESHOLD,
    *,
    latency_floor_ms: float = DEFAULT_LATENCY_FLOOR_MS,
    fail_ratio_floor: float = DEFAULT_FAIL_RATIO_FLOOR,
) -> Comparison:
    """Compare two loaded runs (B against baseline A)."""
    if threshold < 0:
        raise ValueError(f"threshold must not be negative, not {threshold}")
    rows_a = {row.label: row for row in a.endpoints}
    rows_b = {row.label: row for row in b.endpoints}
    labels = list(rows_a) + [label for label in rows_b if label not in rows_a]
    pairs = [(label, rows_a.get(label), rows_b.get(label)) for label in labels]
    pairs.append((a.aggregated.label, a.aggregated, b.aggregated))
    endpoints = []
    for label, row_a, row_b in pairs:
        metrics = []
        for spec in METRIC_SPECS:
            va = spec.read(row_a) if row_a is not None else None
            vb = spec.read(row_b) if row_b is not None else None
            flagged = _is_regression(spec, va, vb, threshold, latency_floor_ms, fail_ratio_floor)
            metrics.append(MetricDelta(spec.name, spec.unit, va, vb, flagged))
        endpoints.append(
            EndpointComparison(label, row_a is not None, row_b is not None, tuple(metrics))
        )
    return Comparison(
        a_run_id=a.run_id,
        b_run_id=b.run_id,
        threshold=threshold,
        endpoints=tuple(endpoints),
        notes=_parameter_notes(a, b) + _limit_notes(a, b),
        latency_floor_ms=latency_floor_ms,
        fail_ratio_floor=fail_ratio_floor,
    )


def compare_runs(
    a_dir: str | Path,
    b_dir: str | Path,
    threshold: float = DEFAULT_THRESHOLD,
    *,
    latency_floor_ms: float = DEFAULT_LATENCY_FLOOR_MS,
    fail_ratio_floor: float = DEFAULT_FAIL_RATIO_FLOOR,
) -> Comparison:
    """Load two run folders and compare B against baseline A (ResultsError if unreadable)."""
    return compare_results(
        load_run(a_dir),
        load_run(b_dir),
        threshold,
        latency_floor_ms=latency_floor_ms,
        fail_ratio_floor=fail_ratio_floor,
    )


def _plain(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "ratio":
        return f"{value * 100:.4g}"
    if unit == "ms":
        return f"{value:.0f}" if value >= 10 else f"{value:.3g}"
    return f"{value:.1f}"


_COLUMN_TITLES = {"req/s": "req/s", "ms": "ms", "ratio": "%"}


def _delta_cell(delta: MetricDelta) -> Text:
    """``78.7 -> 118.2 (+50%)``; a regression is red and marked with ``*``."""
    if delta.a is None and delta.b is None:
        return Text("n/a", style="dim")
    text = f"{_plain(delta.a, delta.unit)} -> {_plain(delta.b, delta.unit)}"
    rel = delta.relative
    if rel is not None:
        text += f" ({rel * 100:+.0f}%)"
    if delta.regression:
        return Text(text + " *", style="bold red")
    return Text(text)


def comparison_table(comparison: Comparison) -> Table:
    """The delta table: one row per endpoint, one column per metric."""
    caption_lines = [
        f"* regression: worse by more than {comparison.threshold * 100:g}% "
        f"and by more than {comparison.latency_floor_ms:g} ms for latencies, "
        f"{comparison.fail_ratio_floor * 100:g} points for the failure ratio."
    ]
    caption_lines += [f"Note: {note}" for note in comparison.notes]
    table = Table(
        title=f"{comparison.a_run_id} (A) -> {comparison.b_run_id} (B)",
        title_justify="left",
        caption="\n".join(caption_lines),
        caption_justify="left",
    )
    table.add_column("Endpoint", no_wrap=True)
    for spec in METRIC_SPECS:
        table.add_column(f"{spec.name} ({_COLUMN_TITLES[spec.unit]})", justify="right")
    for index, endpoint in enumerate(comparison.endpoints):
        table.add_row(
            _endpoint_label(endpoint),
            *(_delta_cell(m) for m in endpoint.metrics),
            end_section=index == len(comparison.endpoints) - 2,
        )
    return table


def _endpoint_label(endpoint: EndpointComparison) -> str:
    if not endpoint.in_a:
        return f"{endpoint.label} (only in B)"
    if not endpoint.in_b:
        return f"{endpoint.label} (only in A)"
    return endpoint.label


def comparison_markdown(comparison: Comparison) -> str:
    """The delta table as Markdown; regressions in bold with ``*``."""
    headers = ["Endpoint"] + [f"{s.name} ({_COLUMN_TITLES[s.unit]})" for s in METRIC_SPECS]
    lines = [
        f"# {comparison.a_run_id} (A) -> {comparison.b_run_id} (B)",
        "",
        "| " + " | ".join(headers) + " |",
        "| --- |" + " ---: |" * len(METRIC_SPECS),
    ]
    for endpoint in comparison.endpoints:
        cells = [_endpoint_label(endpoint).replace("|", "\\|")]
        for delta in endpoint.metrics:
            text = _delta_cell(delta).plain.removesuffix(" *")
            cells.append(f"**{text}** \\*" if delta.regression else text)
        lines.append("| " + " | ".join(cells) + " |")
    verdict = (
        f"**{len(comparison.regressions)} regression(s)**"
        if comparison.has_regression
        else "No regression"
    )
    lines += [
        "",
        f"{verdict} (\\* = worse by more than {comparison.threshold * 100:g}% and by more than "
        f"{comparison.latency_floor_ms:g} ms for latencies, "
        f"{comparison.fail_ratio_floor * 100:g} points for the failure ratio).",
    ]
    lines += [f"- Note: {note}" for note in comparison.notes]
    return "\n".join(lines) + "\n"
