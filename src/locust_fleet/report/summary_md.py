"""``summary.md``: the run's report for people (renders in GitHub, GitLab, editors)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from locust_fleet.checks import CheckResult, format_value
from locust_fleet.failure_causes import generator_failures
from locust_fleet.outcome import (
    IMPLICIT_REQUESTS_CHECK,
    Outcome,
    RequestsCheck,
    no_requests,
    requests_check,
)
from locust_fleet.report.tables import (
    CPU_HEADERS,
    ENDPOINT_HEADERS,
    cpu_cells,
    endpoint_rows,
    threshold_text,
    worker_count,
)
from locust_fleet.results.model import RunMetadata, RunResults
from locust_fleet.saturation import SaturationVerdict


def _cell(text: str) -> str:
    """Markdown table cell: no line breaks, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    numeric: Sequence[int] = (),
    bold_last: bool = False,
) -> str:
    """A Markdown table; columns whose index is in ``numeric`` are right-aligned."""
    lines = [
        "| " + " | ".join(headers) + " |",
        "| " + " | ".join("---:" if i in numeric else "---" for i in range(len(headers))) + " |",
    ]
    for index, row in enumerate(rows):
        cells = [_cell(c) for c in row]
        if bold_last and index == len(rows) - 1:
            cells = [f"**{c}**" for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "n/a"


def load_line(meta: RunMetadata) -> str:
    """The load the run put on: -u/-r/-t, or what the load shape that drove it really ran."""
    params, shape = meta.parameters, meta.shape
    if shape is None:
        return f"{params.users} users at {params.spawn_rate:g}/s for {params.run_time}"
    users = "n/a" if shape.peak_users is None else str(shape.peak_users)
    seconds = "n/a" if shape.seconds is None else f"{shape.seconds} s"
    ended = (
        f"cut at the run time {params.run_time} before the shape's end"
        if shape.cut_by_run_time
        else f"ended by the shape itself, within the run time {params.run_time}"
    )
    given = (
        f"-u {params.users} and -r {params.spawn_rate:g} were given to the shape"
        if shape.uses_common_options
        else "-u and -r were not used"
    )
    return (
        f"Load shape `{shape.name}` drove the run: up to {users} users over {seconds}, "
        f"{ended} ({given})"
    )


def _overview(results: RunResults, outcome: Outcome | None) -> list[str]:
    meta = results.metadata
    params = meta.parameters
    workers = worker_count(results)
    duration = meta.duration_s
    lines = [f"# Load test {meta.run_id}", ""]
    if outcome is not None:
        status = "PASSED" if outcome.passed else "FAILED"
        lines += [f"**{status}** (exit code {int(outcome.code)})", ""]
        lines += [f"- {_cell(text)}" for _, text in outcome.reasons]
        lines += [""] if outcome.reasons else []
    sha = meta.plan_manifest_sha256 or "n/a"
    tags = ", ".join(params.tags) or "all"
    lines += [
        "## Run",
        "",
        f"- Started {_time(meta.started_at)}, ended {_time(meta.ended_at)}"
        + (f" ({duration:.0f} s)" if duration is not None else ""),
        f"- Plan `{params.plan}` (manifest sha256 `{sha[:16]}`), "
        f"Locust {meta.locust_version or 'n/a'}",
        f"- {load_line(meta)}; tags: {tags}"
        + (f"; excluded: {', '.join(params.exclude_tags)}" if params.exclude_tags else ""),
        f"- Master `{meta.hosts.master}`; workers {workers.text}"
        + (" (**fewer than expected**)" if workers.short else "")
        + (f" on {', '.join(f'`{h}`' for h in meta.hosts.workers)}" if meta.hosts.workers else ""),
    ]
    if meta.worker_processes:
        per_host = ", ".join(f"`{h}` {n}" for h, n in meta.worker_processes.items())
        lines.append(f"- Worker processes per host: {per_host}")
    if params.target_url:
        lines.append(f"- Target URL: `{params.target_url}`")
    if meta.hosts.targets:
        lines.append(f"- Targets: {', '.join(f'`{h}`' for h in meta.hosts.targets)}")
    if meta.master_exit_code is not None or meta.master_unit_result:
        result = f" ({meta.master_unit_result})" if meta.master_unit_result else ""
        code = "n/a" if meta.master_exit_code is None else str(meta.master_exit_code)
        lines.append(f"- Locust master exit code: {code}{result}")
    if meta.error:
        lines.append(f"- **Orchestration error:** {_cell(meta.error)}")
    return lines


def _checks(check_results: Sequence[CheckResult]) -> list[str]:
    lines = ["", "## Checks", ""]
    if not check_results:
        return [*lines, "No checks were given."]
    rows = [
        (
            f"`{r.check.expression}`",
            "PASS" if r.passed else "**FAIL**",
            format_value(r.actual, r.check.unit),
            r.message,
        )
        for r in check_results
    ]
    return [*lines, _table(("Check", "Result", "Actual", "Detail"), rows, numeric=(2,))]


def _saturation(verdict: SaturationVerdict | None, allow_saturated: bool) -> list[str]:
    lines = ["", "## Load generators", ""]
    if verdict is None:
        return [*lines, "Saturation was not evaluated."]
    summary = verdict.summary()
    if verdict.saturated and allow_saturated:
        summary += " (allowed by --allow-saturated)"
    lines += [f"**Verdict:** {summary}", "", f"Rule: {threshold_text(verdict)}.", ""]
    if not verdict.processes:
        return [*lines, "No CPU samples (cpu_samples.csv missing or empty)."]
    rows = [cpu_cells(p) for p in verdict.processes]
    return [*lines, _table(CPU_HEADERS, rows, numeric=range(2, len(CPU_HEADERS) - 1))]


def _no_requests(implicit: RequestsCheck) -> str:
    """The line under an empty endpoints table."""
    if implicit is RequestsCheck.ALLOWED:
        return "**No requests were made** (allowed by --allow-no-requests)."
    if implicit is RequestsCheck.REPLACED:
        return "**No requests were made** (judged by the check on `requests` below)."
    return (
        f"**No requests were made**: the implicit check `{IMPLICIT_REQUESTS_CHECK}` failed. "
        "For a plan that sends none, pass `--allow-no-requests` or a check on `requests`, "
        "such as `requests>=0`."
    )


def _failures(results: RunResults) -> list[str]:
    lines: list[str] = []
    if results.failures:
        rows = [(f.label, f.error, str(f.occurrences)) for f in results.failures]
        lines += [
            "",
            "## Failures",
            "",
            _table(("Endpoint", "Error", "Occurrences"), rows, numeric=(2,)),
        ]
        own = generator_failures(results.failures)
        if own.count:
            total = sum(f.occurrences for f in results.failures)
            lines += [
                "",
                f"{own.count} of these {total} failures were the load generators' own "
                f"({own.text()}): those requests never reached the target.",
            ]
    if results.exceptions:
        rows = [(str(e.count), e.message, ", ".join(e.nodes)) for e in results.exceptions]
        lines += [
            "",
            "## Exceptions in the test plan",
            "",
            _table(("Count", "Message", "Nodes"), rows, numeric=(0,)),
        ]
    return lines


def _events(results: RunResults) -> list[str]:
    events = results.metadata.events
    if not events:
        return ["", "## Events", "", "None."]
    rows = [(_time(e.time), e.host, e.kind, e.message) for e in events]
    return ["", "## Events", "", _table(("Time", "Host", "Kind", "Message"), rows)]


def render_summary_md(
    results: RunResults,
    check_results: Sequence[CheckResult] = (),
    verdict: SaturationVerdict | None = None,
    outcome: Outcome | None = None,
    *,
    allow_saturated: bool = False,
    allow_no_requests: bool = False,
    charts_file: str | None = "charts.png",
) -> str:
    """The whole of ``summary.md`` as text."""
    lines = _overview(results, outcome)
    lines += [
        "",
        "## Endpoints",
        "",
        _table(
            ENDPOINT_HEADERS,
            endpoint_rows(results),
            numeric=range(1, len(ENDPOINT_HEADERS)),
            bold_last=True,
        ),
    ]
    if no_requests(results):
        implicit = requests_check(results, check_results, allow_no_requests=allow_no_requests)
        lines += ["", _no_requests(implicit)]
    lines += _checks(check_results)
    lines += _saturation(verdict, allow_saturated)
    lines += _failures(results)
    lines += _events(results)
    if charts_file:
        lines += ["", "## Charts", "", f"![requests/s, response times, users, CPU]({charts_file})"]
    return "\n".join(lines) + "\n"
