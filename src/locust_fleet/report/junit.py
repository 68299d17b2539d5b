"""``junit.xml``: the run as JUnit test results, for CI servers.

One ``<testsuite>`` per run, inside ``<testsuites>`` (the shape Jenkins, GitLab,
GitHub Actions reporters and Azure DevOps all read). Test cases:

- ``locust-fleet.checks`` / the check's expression: one per check; ``<failure>``
  when it failed.
- ``locust-fleet.saturation`` / ``load generators not saturated``: ``<failure>``
  when a worker or the master saturated, ``<skipped>`` when that was allowed or
  not measured.
- ``locust-fleet.requests`` / ``at least one request``: the implicit
  ``requests>0`` check, present unless a check on the aggregated ``requests``
  replaces it; a ``<failure>`` when the run made no request, ``<skipped>`` when
  that was allowed (``--allow-no-requests``).
- ``locust-fleet.requests`` / ``no failed requests``: present when exit code 1
  can apply, i.e. unless a check on the aggregated failures covers them; a
  ``<failure>`` when requests failed or the plan raised exceptions. This keeps the
  CI view and the exit code in agreement.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from locust_fleet.checks import CheckResult
from locust_fleet.failure_causes import generator_failures
from locust_fleet.outcome import (
    NO_REQUESTS,
    NO_REQUESTS_ALLOWED,
    RequestsCheck,
    failures_covered,
    requests_check,
)
from locust_fleet.results.model import RunMetadata, RunResults
from locust_fleet.saturation import SaturationVerdict

SUITE_PREFIX = "locust-fleet"


def _shape_properties(meta: RunMetadata) -> list[tuple[str, str]]:
    shape = meta.shape
    if shape is None:
        return []
    return [
        ("shape", shape.name),
        ("shape_peak_users", "" if shape.peak_users is None else str(shape.peak_users)),
        ("shape_seconds", "" if shape.seconds is None else str(shape.seconds)),
        ("shape_cut_by_run_time", "true" if shape.cut_by_run_time else "false"),
    ]


def _case(suite: ET.Element, classname: str, name: str, seconds: float = 0.0) -> ET.Element:
    return ET.SubElement(
        suite, "testcase", {"classname": classname, "name": name, "time": f"{seconds:.3f}"}
    )


def _fail(case: ET.Element, kind: str, message: str, detail: str = "") -> None:
    failure = ET.SubElement(case, "failure", {"type": kind, "message": message})
    failure.text = detail or message


def render_junit(
    results: RunResults,
    check_results: Sequence[CheckResult] = (),
    verdict: SaturationVerdict | None = None,
    *,
    allow_saturated: bool = False,
    allow_no_requests: bool = False,
) -> str:
    """The text of ``junit.xml`` (UTF-8, with an XML declaration)."""
    meta = results.metadata
    duration = meta.duration_s or 0.0
    attributes = {
        "name": f"{SUITE_PREFIX}.{meta.run_id}",
        "hostname": meta.hosts.master,
        "time": f"{duration:.3f}",
    }
    if meta.started_at is not None:
        attributes["timestamp"] = meta.started_at.strftime("%Y-%m-%dT%H:%M:%S")
    suite = ET.Element("testsuite", attributes)
    properties = ET.SubElement(suite, "properties")
    for key, value in (
        ("run_id", meta.run_id),
        ("plan", meta.parameters.plan),
        ("users", str(meta.parameters.users)),
        ("spawn_rate", f"{meta.parameters.spawn_rate:g}"),
        ("run_time", meta.parameters.run_time),
        ("locust_version", meta.locust_version or ""),
        ("plan_manifest_sha256", meta.plan_manifest_sha256 or ""),
        ("workers_expected", str(meta.workers_expected)),
        (
            "workers_connected",
            "" if meta.workers_connected is None else str(meta.workers_connected),
        ),
        ("requests", str(results.aggregated.request_count)),
        ("failures", str(results.aggregated.failure_count)),
        ("generator_failures", str(generator_failures(results.failures).count)),
        *_shape_properties(meta),
    ):
        ET.SubElement(properties, "property", {"name": key, "value": value})

    for result in check_results:
        case = _case(suite, f"{SUITE_PREFIX}.checks", result.check.expression)
        if not result.passed:
            _fail(case, "CheckFailed", result.message, result.check.describe())

    case = _case(suite, f"{SUITE_PREFIX}.saturation", "load generators not saturated")
    if verdict is None or (not verdict.measured and not verdict.saturated):
        reason = "not evaluated" if verdict is None else verdict.summary()
        ET.SubElement(case, "skipped", {"message": reason})
    elif verdict.saturated and allow_saturated:
        ET.SubElement(case, "skipped", {"message": f"allowed: {verdict.summary()}"})
    elif verdict.saturated:
        detail = "\n".join(
            f"{p.role} {p.label}: peak {p.peak_percent:.0f}%, mean {p.mean_percent:.0f}%, "
            + ("" if p.mean_wait_percent is None else f"waited {p.mean_wait_percent:.0f}%, ")
            + f"{p.seconds_above:.1f} s above {verdict.cpu_threshold:g}%"
            for p in verdict.processes
        )
        _fail(case, "GeneratorSaturated", verdict.summary(), detail)

    implicit = requests_check(results, check_results, allow_no_requests=allow_no_requests)
    if implicit is not RequestsCheck.REPLACED:
        case = _case(suite, f"{SUITE_PREFIX}.requests", "at least one request")
        if implicit is RequestsCheck.ALLOWED:
            ET.SubElement(case, "skipped", {"message": NO_REQUESTS_ALLOWED})
        elif implicit is RequestsCheck.FAILED:
            _fail(case, "NoRequests", NO_REQUESTS)

    if not failures_covered(check_results):
        agg = results.aggregated
        case = _case(suite, f"{SUITE_PREFIX}.requests", "no failed requests")
        problems = []
        if agg.failure_count:
            own = generator_failures(results.failures)
            theirs = f" ({own.count} the generators' own: {own.text()})" if own.count else ""
            problems.append(f"{agg.failure_count} of {agg.request_count} requests failed{theirs}")
        if results.exception_count:
            problems.append(f"{results.exception_count} exception(s) in the test plan")
        if problems:
            detail = "\n".join(
                [f"{f.label}: {f.error} x{f.occurrences}" for f in results.failures]
                + [f"exception x{e.count}: {e.message}" for e in results.exceptions]
            )
            _fail(case, "FailedRequests", "; ".join(problems), detail)

    cases = suite.findall("testcase")
    counts = {
        "tests": len(cases),
        "failures": sum(1 for c in cases if c.find("failure") is not None),
        "errors": 0,
        "skipped": sum(1 for c in cases if c.find("skipped") is not None),
    }
    for key, value in counts.items():
        suite.set(key, str(value))
    root = ET.Element(
        "testsuites",
        {"name": SUITE_PREFIX, "time": f"{duration:.3f}", **{k: str(v) for k, v in counts.items()}},
    )
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
