"""The library a user imports: provision a fleet, run a test, ask its status, stop it.

from locust_fleet import fleet
result = fleet.run("inventories/lab", "locustfiles/website", users=50, spawn_rate=25,
                   run_time="20s", checks=["p95<500"])
result.exit_code, result.run_dir
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checks import CheckSyntaxError, parse_checks
from .outcome import ExitCode
from .report.analyse import Analysis, analyse
from .results import ResultsError
from .runner import PlaybookOutcome, PlaybookRun, locate_content
from .runner.ansible import EventHandler


class UsageError(ValueError):
    """Bad input found before anything started (exit 2)."""


@dataclass
class RunResult:
    exit_code: int
    run_id: str | None
    run_dir: Path | None
    messages: list[str] = field(default_factory=list)  # why, when the run did not pass
    analysis: Analysis | None = None
    playbook: PlaybookOutcome | None = None


def _inventory(inventory: str | Path) -> Path:
    path = Path(inventory)
    if not path.exists():
        raise UsageError(
            f"inventory {path} does not exist; pass -i with an inventory file or "
            "folder (the sandbox writes inventories/sandbox)"
        )
    return path


def playbook(
    name: str,
    inventory: str | Path,
    extravars: dict[str, Any] | None = None,
    event_handler: EventHandler | None = None,
    private_data_dir: Path | None = None,
) -> PlaybookOutcome:
    """Run one of the fleet's playbooks (site, run_test, status, stop, teardown)."""
    content = locate_content()
    return PlaybookRun(
        content.playbook(name),
        _inventory(inventory),
        content,
        extravars or {},
        private_data_dir,
        event_handler,
    ).run()


def _abnormal_master_end(unit_result: str | None) -> str:
    if unit_result == "success":  # a clean SIGTERM from systemctl stop: someone else stopped it
        return (
            "the Locust master was stopped from outside before its run time ended "
            "(locust-fleet stop, playbooks/stop.yml or systemctl stop)"
        )
    return f"the Locust master did not exit normally ({unit_result})"


def run(
    inventory: str | Path,
    plan: str | Path,
    users: int,
    spawn_rate: float,
    run_time: str,
    *,
    checks: Sequence[str] = (),
    results_dir: str | Path = "results",
    tags: Sequence[str] = (),
    exclude_tags: Sequence[str] = (),
    extra_args: dict[str, str] | None = None,
    run_id: str | None = None,
    secret_env: Sequence[str] = (),
    allow_saturated: bool = False,
    junit: str | Path | None = None,
    extravars: dict[str, Any] | None = None,
    event_handler: EventHandler | None = None,
    private_data_dir: Path | None = None,
) -> RunResult:
    """Run one distributed test, bring the results home, decide and write the reports."""
    try:
        parse_checks(checks)  # a typo in a check costs no load test
    except CheckSyntaxError as err:
        raise UsageError(str(err)) from err
    results_root = Path(results_dir).resolve()
    variables = {
        "locust_plan": str(Path(plan).resolve()),
        "locust_users": users,
        "locust_spawn_rate": spawn_rate,
        "locust_run_time": run_time,
        "locust_tags": list(tags),
        "locust_exclude_tags": list(exclude_tags),
        "locust_extra_args": dict(extra_args or {}),
        "locust_results_dir": str(results_root),
        "locust_secret_env_from": list(secret_env),
        **({"locust_run_id": run_id} if run_id else {}),
        **(extravars or {}),
    }
    outcome = playbook("run_test", inventory, variables, event_handler, private_data_dir)
    run_facts = outcome.facts.get("localhost", {}).get("_locust_run_info") or {}
    chosen = run_facts.get("id")
    run_dir = results_root / chosen if chosen else None
    if run_dir is None or not (run_dir / "run.json").exists():
        if run_dir is not None and run_dir.exists() and not any(run_dir.iterdir()):
            run_dir.rmdir()  # preflight refused: leave no empty folder behind
        return RunResult(
            int(ExitCode.ERROR),
            chosen,
            None,
            outcome.failure_messages() or [f"the playbook ended {outcome.status}"],
            None,
            outcome,
        )
    record = json.loads((run_dir / "run.json").read_text())
    errors = [record["error"]] if record.get("error") else []
    if record.get("master_exit_code") is None and not errors:
        errors.append(_abnormal_master_end(record.get("master_unit_result")))
    try:
        analysis = analyse(
            run_dir,
            list(checks),
            allow_saturated=allow_saturated,
            errors=errors,
            junit_path=junit,
        )
    except ResultsError as err:  # the run broke before Locust wrote its stats
        return RunResult(int(ExitCode.ERROR), chosen, run_dir, [*errors, str(err)], None, outcome)
    reasons = [text for _, text in analysis.outcome.reasons]
    return RunResult(int(analysis.outcome.code), chosen, run_dir, reasons, analysis, outcome)
