"""The summary printed at the end of a run, as rich renderables.

``print_summary(console, ...)`` prints the endpoint table, the checks, the
generators' CPU and the outcome; the ``*_table`` functions return the pieces
for callers that lay them out themselves. Rich degrades to plain text when the
console is not a terminal (CI logs).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from locust_fleet.checks import CheckResult, format_value
from locust_fleet.outcome import Outcome, no_requests
from locust_fleet.report.tables import (
    CPU_HEADERS,
    ENDPOINT_HEADERS,
    cpu_cells,
    endpoint_rows,
    worker_count,
)
from locust_fleet.results.model import RunResults
from locust_fleet.saturation import SaturationVerdict


def endpoint_table(results: RunResults) -> Table:
    """The endpoints and the Aggregated row; an empty run says so under the table."""
    table = Table(
        title=Text(f"Run {results.run_id}"),
        title_justify="left",
        caption="No requests were made." if no_requests(results) else None,
        caption_justify="left",
        caption_style="bold yellow",
    )
    for index, header in enumerate(ENDPOINT_HEADERS):
        table.add_column(header, justify="left" if index == 0 else "right", no_wrap=index == 0)
    rows = endpoint_rows(results)
    for index, cells in enumerate(rows):
        last = index == len(rows) - 1
        style = "bold" if last else ("red" if cells[2] != "0" else None)
        # Text: endpoint names such as "/item/[id]" are not rich markup.
        table.add_row(*map(Text, cells), style=style, end_section=index == len(rows) - 2)
    return table


def checks_table(check_results: Sequence[CheckResult]) -> Table:
    table = Table(title="Checks", title_justify="left")
    for header in ("Check", "Result", "Actual", "Detail"):
        table.add_column(header)
    for result in check_results:
        table.add_row(
            Text(result.check.expression),
            Text("PASS", style="green") if result.passed else Text("FAIL", style="bold red"),
            Text(format_value(result.actual, result.check.unit)),
            Text(result.message),
        )
    return table


def saturation_table(verdict: SaturationVerdict) -> Table:
    caption = verdict.summary()
    table = Table(
        title="Load generators (CPU)",
        title_justify="left",
        caption=Text(caption),
        caption_justify="left",
        caption_style="bold red" if verdict.saturated else "dim",
    )
    for index, header in enumerate(CPU_HEADERS):
        table.add_column(header, justify="left" if index < 2 else "right")
    for process in verdict.processes:
        table.add_row(*map(Text, cpu_cells(process)), style="red" if process.saturated else None)
    return table


def print_summary(
    console: Console,
    results: RunResults,
    check_results: Sequence[CheckResult] = (),
    verdict: SaturationVerdict | None = None,
    outcome: Outcome | None = None,
) -> None:
    """Print the end-of-run summary (tables, workers, outcome line)."""
    console.print(endpoint_table(results))
    if check_results:
        console.print(checks_table(check_results))
    if verdict is not None:
        console.print(saturation_table(verdict))
    workers = worker_count(results)
    console.print(
        f"Workers: {workers.text}",
        style="bold yellow" if workers.short else None,
        highlight=False,
        markup=False,
    )
    for event in results.metadata.events:
        when = event.time.strftime("%H:%M:%S") if event.time else "--:--:--"
        console.print(
            f"event {when} {event.host}: {event.kind.replace('_', ' ')}: {event.message}",
            style="yellow",
            highlight=False,
            markup=False,
        )
    if outcome is not None:
        console.print(
            outcome.explain(),
            style="bold green" if outcome.passed else "bold red",
            highlight=False,
            markup=False,
        )
