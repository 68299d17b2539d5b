"""``charts.png``: the run over time, drawn with matplotlib's Agg backend.

Panels, sharing a time axis in seconds since the first history row:
requests/s (aggregated, plus each endpoint, with the per-second counts of
stats.json as bars), response times (aggregated p50 and p95), users,
failures/s, and, when ``cpu_samples.csv`` exists, CPU of every master and
worker process with the saturation threshold and the load window shaded.
Events from ``run.json`` (worker missing, restarted, ...) are dashed lines.

Uses ``matplotlib.figure.Figure`` directly (no pyplot, no global state), so it
is safe to call from any thread and leaks no figures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from locust_fleet.limits import DEFAULT_THRESHOLD
from locust_fleet.results.model import HistoryRow, RunResults
from locust_fleet.saturation import SaturationVerdict

_NAN = float("nan")
_WIDTH_IN = 13.0
_PANEL_HEIGHT_IN = 2.4
_LEGEND = {"loc": "upper left", "bbox_to_anchor": (1.005, 1.0), "fontsize": "small"}


def _latency(row: HistoryRow, percent: float) -> float:
    """A history percentile for plotting; Locust writes N/A or 0 before it has data."""
    value = row.percentiles.get(percent)
    return _NAN if value is None or value <= 0 else value


def _seconds(times: Sequence[datetime], origin: datetime) -> list[float]:
    return [(t - origin).total_seconds() for t in times]


def _origin(results: RunResults, verdict: SaturationVerdict | None) -> datetime:
    if results.history:
        return results.history[0].timestamp
    if verdict is not None and verdict.window_start is not None:
        return verdict.window_start
    if results.metadata.started_at is not None:
        return results.metadata.started_at
    samples = results.cpu_samples
    return samples[0].timestamp if samples else datetime.fromtimestamp(0, UTC)


def _endpoint_series(results: RunResults) -> dict[str, list[HistoryRow]]:
    series: dict[str, list[HistoryRow]] = {}
    for row in results.history:
        if not row.is_aggregated:
            series.setdefault(row.label, []).append(row)
    return series


def _json_requests_per_second(results: RunResults) -> dict[int, int]:
    """Requests completed in each unix second, all endpoints, from stats.json."""
    totals: dict[int, int] = {}
    for entry in results.json_stats or ():
        for second, count in entry.requests_per_second.items():
            totals[second] = totals.get(second, 0) + count
    return totals


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="grey")


def _requests(ax: Axes, results: RunResults, origin: datetime) -> None:
    agg = results.aggregated_history
    ax.set_title("Requests per second")
    if not agg:
        _empty(ax, "no stats history (locust_stats_history.csv missing)")
        return
    per_second = _json_requests_per_second(results)
    if per_second:
        seconds = sorted(per_second)
        ax.bar(
            [(datetime.fromtimestamp(s, UTC) - origin).total_seconds() + 0.5 for s in seconds],
            [per_second[s] for s in seconds],
            width=0.9,
            color="grey",
            alpha=0.25,
            label="completed\nper second\n(stats.json)",
        )
    x = _seconds([r.timestamp for r in agg], origin)
    ax.plot(x, [r.requests_per_s for r in agg], color="black", linewidth=2, label="all (history)")
    for label, rows in _endpoint_series(results).items():
        ax.plot(
            _seconds([r.timestamp for r in rows], origin),
            [r.requests_per_s for r in rows],
            linewidth=1,
            label=label,
        )
    ax.set_ylabel("req/s")
    ax.legend(**_LEGEND)


def _latencies(ax: Axes, results: RunResults, origin: datetime) -> None:
    agg = results.aggregated_history
    ax.set_title("Response time, all endpoints (Locust's 10 s window)")
    if not agg:
        _empty(ax, "no stats history")
        return
    x = _seconds([r.timestamp for r in agg], origin)
    p50 = [_latency(r, 50.0) for r in agg]
    p95 = [_latency(r, 95.0) for r in agg]
    ax.plot(x, p50, color="tab:blue", linewidth=2, label="p50")
    ax.plot(x, p95, color="tab:orange", linewidth=2, label="p95")
    if all(math.isnan(v) for v in p50 + p95):
        _empty(ax, "no percentiles in the history (run with --csv-full-history)")
    ax.set_ylabel("ms")
    ax.set_ylim(bottom=0)
    ax.legend(**_LEGEND)


def _users(ax: Axes, results: RunResults, origin: datetime) -> None:
    agg = results.aggregated_history
    ax.set_title("Users")
    if not agg:
        _empty(ax, "no stats history")
        return
    x = _seconds([r.timestamp for r in agg], origin)
    ax.step(x, [r.user_count for r in agg], where="post", color="tab:green", linewidth=2)
    ax.set_ylabel("users")
    ax.set_ylim(bottom=0)


def _failures(ax: Axes, results: RunResults, origin: datetime) -> None:
    agg = results.aggregated_history
    ax.set_title("Failures per second")
    if not agg:
        _empty(ax, "no stats history")
        return
    x = _seconds([r.timestamp for r in agg], origin)
    ax.fill_between(x, [r.failures_per_s for r in agg], color="tab:red", alpha=0.3, label="all")
    for label, rows in _endpoint_series(results).items():
        if any(r.failures_per_s > 0 for r in rows):
            ax.plot(
                _seconds([r.timestamp for r in rows], origin),
                [r.failures_per_s for r in rows],
                linewidth=1,
                label=label,
            )
    if not any(r.failures_per_s > 0 for r in agg):
        _empty(ax, "no failures")
    ax.set_ylabel("failures/s")
    ax.set_ylim(bottom=0, top=max(1.0, *(r.failures_per_s * 1.1 for r in agg)))
    ax.legend(**_LEGEND)


def _cpu(ax: Axes, verdict: SaturationVerdict, origin: datetime) -> None:
    ax.set_title(
        "CPU per process (% of one core; dotted: wanted, with the wait for a CPU); "
        f"verdict: {verdict.summary().split(':')[0]}"
    )
    for process in verdict.processes:
        style = "--" if process.role == "master" else "-"
        (line,) = ax.plot(
            _seconds([t for t, _ in process.series], origin),
            [v for _, v in process.series],
            style,
            linewidth=2 if process.saturated else 1,
            label=f"{process.role} {process.label}" + ("\nSATURATED" if process.saturated else ""),
        )
        if process.demand_series:
            ax.plot(
                _seconds([t for t, _ in process.demand_series], origin),
                [v for _, v in process.demand_series],
                ":",
                color=line.get_color(),
                linewidth=1,
            )
    ax.axhline(verdict.cpu_threshold, color="red", linewidth=1, linestyle=":")
    ax.text(
        0.995,
        verdict.cpu_threshold,
        f" {verdict.cpu_threshold:g}%",
        color="red",
        ha="right",
        va="bottom",
        transform=ax.get_yaxis_transform(),
        fontsize="small",
    )
    if verdict.window_start is not None and verdict.window_end is not None:
        ax.axvspan(
            (verdict.window_start - origin).total_seconds(),
            (verdict.window_end - origin).total_seconds(),
            color="grey",
            alpha=0.08,
        )
    peaks = [v + 5 for p in verdict.processes for _, v in p.demand_series or p.series]
    ax.set_ylim(0, max(110.0, *peaks))
    ax.set_ylabel("CPU %")
    ax.legend(**_LEGEND)


def _limits(ax: Axes, results: RunResults, origin: datetime) -> None:
    """Each host's limits (open files, local ports, conntrack, memory) as a share of their
    maximum; for a limit with several subjects (processes, destinations), the highest."""
    ax.set_title(
        "Limits besides CPU (% of the maximum; the highest process or destination per host)"
    )
    series: dict[tuple[str, str], dict[datetime, float]] = {}
    for sample in results.limit_samples:
        points = series.setdefault((sample.host, sample.limit), {})
        points[sample.timestamp] = max(points.get(sample.timestamp, 0.0), sample.share * 100)
    for (host, limit), points in sorted(series.items()):
        times = sorted(points)
        ax.plot(_seconds(times, origin), [points[t] for t in times], label=f"{host} {limit}")
    threshold = DEFAULT_THRESHOLD * 100
    ax.axhline(threshold, color="red", linewidth=1, linestyle=":")
    highest = [v for points in series.values() for v in points.values()]
    ax.set_ylim(0, max(105.0, *(v * 1.05 for v in highest)))  # a run queue can pass 100%
    ax.set_ylabel("% of limit")
    ax.legend(**_LEGEND)


def _events(axes: Sequence[Axes], results: RunResults, origin: datetime) -> None:
    """A dashed line on every panel at each event (worker missing, restarted, ...)."""
    for event in results.metadata.events:
        if event.time is None:
            continue
        x = (event.time - origin).total_seconds()
        for ax in axes:
            ax.axvline(x, color="purple", linestyle="--", linewidth=1, alpha=0.6)
        axes[0].annotate(
            f"{event.kind} {event.host}",
            xy=(x, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(2, -2),
            textcoords="offset points",
            rotation=90,
            va="top",
            fontsize="x-small",
            color="purple",
        )


def render_charts(
    results: RunResults, verdict: SaturationVerdict | None, path: str | Path, dpi: int = 100
) -> Path:
    """Draw the charts into ``path`` (PNG) and return it."""
    with_cpu = verdict is not None and bool(verdict.processes)
    with_limits = bool(results.limit_samples)
    panels = 4 + with_cpu + with_limits
    height = _PANEL_HEIGHT_IN * panels
    # Fixed margins, not a layout engine: constrained layout measured every artist again
    # and cost about 0.4 s of the 0.9 s a chart took, time the user waits for at the run's end.
    # The right margin holds the legends (placed outside the axes).
    figure = Figure(figsize=(_WIDTH_IN, height))
    FigureCanvasAgg(figure)
    figure.subplots_adjust(
        left=0.055, right=0.72, top=1 - 0.7 / height, bottom=0.5 / height, hspace=0.3
    )
    axes = figure.subplots(panels, 1, sharex=True)
    origin = _origin(results, verdict)
    _requests(axes[0], results, origin)
    _latencies(axes[1], results, origin)
    _users(axes[2], results, origin)
    _failures(axes[3], results, origin)
    if with_cpu and verdict is not None:
        _cpu(axes[4], verdict, origin)
    if with_limits:
        _limits(axes[-1], results, origin)
    for ax in axes:
        ax.grid(True, alpha=0.3)
    _events(axes, results, origin)
    axes[-1].set_xlabel(f"seconds since {origin.strftime('%Y-%m-%d %H:%M:%S UTC')}")
    figure.suptitle(f"Load test {results.run_id}", fontweight="bold")
    target = Path(path)
    figure.savefig(target, format="png", dpi=dpi)
    return target
