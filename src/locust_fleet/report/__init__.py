"""Reports of one run, written into its folder, and the terminal summary.

API (what the CLI calls)::

    from locust_fleet.report import write_reports, print_summary

    paths = write_reports(run_dir, results, check_results, verdict,
                          outcome=outcome, allow_saturated=False,
                          allow_no_requests=False)
    paths.summary_md, paths.junit_xml, paths.charts_png   # pathlib.Path each
    print_summary(console, results, check_results, verdict, outcome)

    analysis = analyse(run_dir, ["p95<500"])            # all of the above in one call
    analysis.outcome.code                               # -> the exit code

``write_reports`` writes ``summary.md`` (:mod:`.summary_md`), ``junit.xml``
(:mod:`.junit`) and ``charts.png`` (:mod:`.charts`); ``junit_path`` puts the
JUnit file elsewhere too (``--junit FILE``).
"""

from locust_fleet.report.analyse import Analysis, analyse
from locust_fleet.report.console import (
    checks_table,
    endpoint_table,
    print_summary,
    saturation_table,
)
from locust_fleet.report.junit import render_junit
from locust_fleet.report.summary_md import render_summary_md
from locust_fleet.report.writer import (
    CHARTS_PNG,
    JUNIT_XML,
    SUMMARY_MD,
    ReportPaths,
    write_reports,
)

__all__ = [
    "CHARTS_PNG",
    "JUNIT_XML",
    "SUMMARY_MD",
    "Analysis",
    "ReportPaths",
    "analyse",
    "checks_table",
    "endpoint_table",
    "print_summary",
    "render_junit",
    "render_summary_md",
    "saturation_table",
    "write_reports",
]
