"""The library a user imports: provision a fleet, run a test, ask its status, stop it.

from locust_fleet import fleet
result = fleet.run("inventories/lab", "locustfiles/website", users=50, spawn_rate=25,
                   run_time="20s", checks=["p95<500"])
result.exit_code, result.run_dir
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checks import CheckSyntaxError, parse_checks
from .outcome import ExitCode
from .record import check_run_id, new_run_id
from .report.analyse import Analysis, analyse
from .report.writer import preload_charts
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
    detached: bool = False  # started and left to the fleet (run --detach)

    @property
    def record_dir(self) -> Path | None:
        """ansible-runner's stdout and job events of the playbook (results/<id>/ansible/...)."""
        return self.playbook.record_dir if self.playbook is not None else None


def _inventory(inventory: str | Path) -> Path:
    path = Path(inventory)
    if not path.exists():
        raise UsageError(
            f"inventory {path} does not exist; pass -i with an inventory file or "
            "folder (the sandbox writes inventories/sandbox)"
        )
    return path


def _check_junit(junit: str | Path | None) -> None:
    """The --junit file can be written where it is asked for (its folders are made then)."""
    if junit is None:
        return
    path = Path(junit).resolve()
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    why = "it is a folder" if path.is_dir() else ""
    if not why:
        try:  # as root, access() says yes to /proc and read-only mounts: try a file there
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".junit-probe-"):
                pass
        except OSError as err:
            why = f"nothing can be written in {folder}: {err.strerror}"
    if why:
        raise UsageError(
            f"--junit {junit} cannot be written ({why}); pass a file path in a folder you can "
            "write; nothing was started"
        )


def playbook(
    name: str,
    inventory: str | Path,
    extravars: dict[str, Any] | None = None,
    event_handler: EventHandler | None = None,
    private_data_dir: Path | None = None,
    artifact_dir: Path | None = None,
) -> PlaybookOutcome:
    """Run one of the fleet's playbooks (site, run_test, attach, status, stop, teardown);
    with ``artifact_dir``, ansible-runner's record of it is kept in ``artifact_dir/<name>/``."""
    content = locate_content()
    return PlaybookRun(
        content.playbook(name),
        _inventory(inventory),
        content,
        extravars or {},
        private_data_dir,
        event_handler,
        artifact_dir=artifact_dir,
        ident=name,
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
    allow_no_requests: bool = False,
    junit: str | Path | None = None,
    detach: bool = False,
    extravars: dict[str, Any] | None = None,
    event_handler: EventHandler | None = None,
    private_data_dir: Path | None = None,
) -> RunResult:
    """Run one distributed test, bring the results home, decide and write the reports.

    With ``detach`` it returns once the master runs the test; ``attach`` brings it home.
    The checks, ``allow_saturated`` and ``allow_no_requests`` are kept with the run on the
    master either way.
    """
    try:
        parse_checks(checks)  # a typo in a check costs no load test
    except CheckSyntaxError as err:
        raise UsageError(str(err)) from err
    _check_junit(junit)
    _inventory(inventory)
    chosen = run_id or new_run_id()
    problem = check_run_id(chosen)
    if problem:
        raise UsageError(f"{problem}; pass another --run-id, or none to get a new one")
    results_root = Path(results_dir).resolve()
    run_dir = results_root / chosen
    try:
        (run_dir / "ansible").mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(
            f"the results folder {results_root} cannot be written ({err.strerror}); pass "
            "--results (-e locust_results_dir=DIR) with a folder you can write; nothing was started"
        ) from None
    if (run_dir / "run.json").exists():
        raise UsageError(
            f"run id {chosen} was used already ({run_dir / 'run.json'} exists); pass another "
            "--run-id, or none to get a new one; nothing was started"
        )
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
        "locust_run_id": chosen,
        "locust_run_checks": list(checks),
        "locust_run_allow_saturated": allow_saturated,
        "locust_run_allow_no_requests": allow_no_requests,
        **(extravars or {}),
    }
    if not detach:
        preload_charts()
    outcome = playbook(
        "start_run" if detach else "run_test",
        inventory,
        variables,
        event_handler,
        private_data_dir,
        artifact_dir=run_dir / "ansible",
    )
    if detach:
        if outcome.ok:
            return RunResult(int(ExitCode.OK), chosen, run_dir, [], None, outcome, detached=True)
        return _nothing_home(outcome, chosen)
    return _finish(outcome, chosen, run_dir, checks, allow_saturated, allow_no_requests, junit)


def attach(
    inventory: str | Path,
    run_id: str | None = None,
    *,
    results_dir: str | Path = "results",
    checks: Sequence[str] = (),
    allow_saturated: bool = False,
    allow_no_requests: bool = False,
    junit: str | Path | None = None,
    event_handler: EventHandler | None = None,
    playbook_name: str = "attach",
    extravars: dict[str, Any] | None = None,
) -> RunResult:
    """Follow a run on the fleet (``run_id``, or the current or latest one) until it ends,
    bring it home and judge it as ``run`` does, with the checks kept with the run plus
    ``checks``. ``playbook_name`` "stop" stops it first."""
    try:
        parse_checks(checks)
    except CheckSyntaxError as err:
        raise UsageError(str(err)) from err
    if run_id and check_run_id(run_id):
        raise UsageError(str(check_run_id(run_id)))
    _check_junit(junit)
    _inventory(inventory)
    results_root = Path(results_dir).resolve()
    variables = {
        "locust_results_dir": str(results_root),
        "locust_run_id": run_id or "",
        **(extravars or {}),
    }
    preload_charts()
    with tempfile.TemporaryDirectory(prefix="locust-fleet-attach-") as tmp:
        outcome = playbook(
            playbook_name, inventory, variables, event_handler, artifact_dir=Path(tmp)
        )
        # The run brought home is the one the record step wrote (none: nothing came home).
        found = [r["record"]["run_id"] for r in outcome.results.get("locust_run_record", [])]
        chosen = found[-1] if found else None
        run_dir = results_root / chosen if chosen else None
        if run_dir is not None and outcome.record_dir is not None and outcome.record_dir.exists():
            keep = run_dir / "ansible" / f"{playbook_name}-{new_run_id()}"
            keep.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(outcome.record_dir), keep)
            outcome.record_dir = keep
    if run_dir is None:
        return _nothing_home(outcome, None)
    return _finish(
        outcome, chosen, run_dir, checks, allow_saturated, allow_no_requests, junit, kept=True
    )


def _nothing_home(outcome: PlaybookOutcome, run_id: str | None) -> RunResult:
    """The playbook brought no run home: exit 2 with what it said went wrong."""
    messages = outcome.failure_messages() or [f"the playbook ended {outcome.status}"]
    return RunResult(int(ExitCode.ERROR), run_id, None, messages, None, outcome)


def _finish(
    outcome: PlaybookOutcome,
    run_id: str,
    run_dir: Path,
    checks: Sequence[str],
    allow_saturated: bool,
    allow_no_requests: bool,
    junit: str | Path | None,
    *,
    kept: bool = False,
) -> RunResult:
    """The results are home (or not): read run.json, apply the checks, decide."""
    if not (run_dir / "run.json").exists():
        return _nothing_home(outcome, run_id)
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    if kept:  # attach: the run's own checks first, then the ones given now
        checks = [*record.get("checks", []), *checks]
        allow_saturated = allow_saturated or bool(record.get("allow_saturated"))
        allow_no_requests = allow_no_requests or bool(record.get("allow_no_requests"))
    errors = [record["error"]] if record.get("error") else []
    interactive = record.get("mode") == "ui"  # the UI's master ends by being stopped
    if record.get("stopped") and not interactive:
        errors = [_abnormal_master_end("success"), *errors]
    elif record.get("master_exit_code") is None and not errors and not interactive:
        errors.append(_abnormal_master_end(record.get("master_unit_result")))
    try:
        analysis = analyse(
            run_dir,
            list(checks),
            allow_saturated=allow_saturated,
            allow_no_requests=allow_no_requests,
            errors=errors,
            junit_path=junit,
        )
    except ResultsError as err:  # the run broke before Locust wrote its stats
        # Files the controller or a host's collector refused may be why (a run folder
        # swapped for a link): say them, or the user sees only what is missing.
        refused = [
            f"not brought home: {event.get('message')}"
            for event in record.get("events") or []
            if isinstance(event, dict) and event.get("kind") == "refused_file"
        ]
        messages = [*errors, *refused, str(err)]
        return RunResult(int(ExitCode.ERROR), run_id, run_dir, messages, None, outcome)
    reasons = [text for _, text in analysis.outcome.reasons]
    return RunResult(int(analysis.outcome.code), run_id, run_dir, reasons, analysis, outcome)
