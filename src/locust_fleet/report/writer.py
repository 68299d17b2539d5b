"""``write_reports``: summary.md, junit.xml and charts.png into the run folder."""

from __future__ import annotations

import importlib
import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from locust_fleet.checks import CheckResult
from locust_fleet.outcome import Outcome
from locust_fleet.report.junit import render_junit
from locust_fleet.report.summary_md import render_summary_md
from locust_fleet.results.model import RunResults
from locust_fleet.saturation import SaturationVerdict

SUMMARY_MD = "summary.md"
JUNIT_XML = "junit.xml"
CHARTS_PNG = "charts.png"


def preload_charts() -> None:
    """Import the chart renderer (matplotlib, about half a second of CPU) in the background,
    while a playbook runs, so that the reports at the run's end do not wait for it."""
    threading.Thread(
        target=importlib.import_module, args=("locust_fleet.report.charts",), daemon=True
    ).start()


@dataclass(frozen=True)
class ReportPaths:
    summary_md: Path
    junit_xml: Path
    charts_png: Path
    extra_junit: Path | None = None


def write_reports(
    run_dir: str | Path,
    results: RunResults,
    check_results: Sequence[CheckResult] = (),
    verdict: SaturationVerdict | None = None,
    *,
    outcome: Outcome | None = None,
    allow_saturated: bool = False,
    allow_no_requests: bool = False,
    junit_path: str | Path | None = None,
) -> ReportPaths:
    """Write summary.md, junit.xml and charts.png into ``run_dir``; return their paths."""
    root = Path(run_dir)
    root.mkdir(parents=True, exist_ok=True)
    summary = root / SUMMARY_MD
    summary.write_text(
        render_summary_md(
            results,
            check_results,
            verdict,
            outcome,
            allow_saturated=allow_saturated,
            allow_no_requests=allow_no_requests,
            charts_file=CHARTS_PNG,
        ),
        encoding="utf-8",
    )
    junit = root / JUNIT_XML
    junit.write_text(
        render_junit(
            results,
            check_results,
            verdict,
            allow_saturated=allow_saturated,
            allow_no_requests=allow_no_requests,
        ),
        encoding="utf-8",
    )
    extra = None
    if junit_path is not None:
        extra = Path(junit_path)
        extra.parent.mkdir(parents=True, exist_ok=True)
        if extra.resolve() != junit.resolve():
            shutil.copyfile(junit, extra)
    from locust_fleet.report.charts import render_charts  # matplotlib: see preload_charts

    charts = render_charts(results, verdict, root / CHARTS_PNG)
    return ReportPaths(summary_md=summary, junit_xml=junit, charts_png=charts, extra_junit=extra)
