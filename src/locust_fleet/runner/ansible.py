"""A typed wrapper around one `ansible_runner.run` of a playbook.

Builds the runner's arguments (temporary private data dir unless given, the
inventory, extra vars, ANSIBLE_* passed through), hands every event to a
handler, and reads the outcome from rc, status and the playbook_on_stats
event — never from ansible-playbook's human output.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ansible_runner

from .locate import ContentLocation

EventHandler = Callable[[dict[str, Any]], None]


@dataclass
class PlaybookOutcome:
    rc: int
    status: str
    stats: dict[str, Any]
    failures: list[dict[str, Any]]  # {"host", "task", "msg", "unreachable"} of every failure
    facts: dict[str, dict[str, Any]]  # set_fact results by host, in event order
    record_dir: Path | None = None  # ansible-runner's stdout and job_events of this playbook
    results: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # module -> results

    @property
    def ok(self) -> bool:
        return self.rc == 0 and self.status == "successful"

    def failure_messages(self) -> list[str]:
        """Failed tasks' messages (our asserts say what to fix); unreachable hosts only when
        nothing failed, since a preflight that tolerates them reports them itself."""
        failed = [f["msg"] for f in self.failures if not f.get("unreachable")]
        chosen = failed or [f["msg"] for f in self.failures]
        return list(dict.fromkeys(chosen))


@dataclass
class PlaybookRun:
    playbook: str
    inventory: Path
    content: ContentLocation
    extravars: dict[str, Any] = field(default_factory=dict)
    private_data_dir: Path | None = None
    event_handler: EventHandler | None = None
    limit: str | None = None
    # Keep ansible-runner's record (stdout, job_events/) in artifact_dir/ident/.
    artifact_dir: Path | None = None
    ident: str | None = None

    def envvars(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k.startswith("ANSIBLE_")}
        if self.content.ansible_cfg is not None and "ANSIBLE_CONFIG" not in env:
            env["ANSIBLE_CONFIG"] = str(self.content.ansible_cfg)
        env.setdefault("ANSIBLE_FORCE_COLOR", "0")
        # ansible-playbook from the same environment as this package, activated or not.
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        return env

    def run(self) -> PlaybookOutcome:
        failures: list[dict[str, Any]] = []
        facts: dict[str, dict[str, Any]] = {}
        results: dict[str, list[dict[str, Any]]] = {}

        def on_event(event: dict[str, Any]) -> bool:
            data = event.get("event_data", {})
            kind = event.get("event")
            if kind in ("runner_on_failed", "runner_on_unreachable") and not data.get(
                "ignore_errors"
            ):
                res = data.get("res", {})
                failures.append(
                    {
                        "host": data.get("host", ""),
                        "task": data.get("task", ""),
                        "msg": _failure_text(data, res),
                        "unreachable": kind == "runner_on_unreachable",
                    }
                )
            if kind == "runner_on_ok":
                set_facts = data.get("res", {}).get("ansible_facts") or {}
                facts.setdefault(data.get("host", ""), {}).update(set_facts)
                action = str(data.get("task_action", ""))
                if action.startswith("fleet.locust."):
                    results.setdefault(action.removeprefix("fleet.locust."), []).append(
                        {"host": data.get("host", ""), **_without_archive(data.get("res") or {})}
                    )
            if self.event_handler is not None:
                self.event_handler(event)
            return True

        cwd = os.getcwd()
        with (
            _cancel_on_sigterm() as cancelled,
            tempfile.TemporaryDirectory(prefix="locust-fleet-") as tmp,
        ):
            runner = ansible_runner.run(
                private_data_dir=str(self.private_data_dir or tmp),
                project_dir=cwd,
                playbook=self.playbook,
                inventory=str(self.inventory.resolve()),
                extravars=self.extravars,
                envvars=self.envvars(),
                limit=self.limit,
                event_handler=on_event,
                cancel_callback=lambda: cancelled.is_set(),
                quiet=True,
                **self._artifacts(),
                suppress_env_files=True,
            )
            stats = runner.stats or {}
        record_dir = (
            self.artifact_dir / (self.ident or Path(self.playbook).stem)
            if self.artifact_dir is not None
            else None
        )
        if record_dir is not None:
            _forget_environment(record_dir / "command")
        return PlaybookOutcome(
            int(runner.rc), str(runner.status), stats, failures, facts, record_dir, results
        )

    def _artifacts(self) -> dict[str, Any]:
        if self.artifact_dir is None:
            return {}
        self.artifact_dir.mkdir(parents=True, exist_ok=True)
        return {
            "artifact_dir": str(self.artifact_dir),
            "ident": self.ident or Path(self.playbook).stem,
            "rotate_artifacts": 0,
        }


def _failure_text(data: dict[str, Any], res: dict[str, Any]) -> str:
    """An assert's message says it all; anything else gets its host, task and stderr."""
    msg = str(res.get("msg", ""))
    if "assertion" in res or "evaluated_to" in res:
        return msg
    detail = str(res.get("stderr") or res.get("module_stderr") or "").strip().splitlines()
    tail = f" ({detail[-1]})" if detail else ""
    return f"{data.get('host', '')}: {data.get('task', '')}: {msg}{tail}"


@contextlib.contextmanager
def _cancel_on_sigterm():
    """SIGTERM asks ansible-runner to stop the playbook it started, instead of orphaning it."""
    cancelled = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield cancelled
        return
    previous = signal.signal(signal.SIGTERM, lambda *_: cancelled.set())
    try:
        yield cancelled
    finally:
        signal.signal(signal.SIGTERM, previous)


def _without_archive(res: dict[str, Any]) -> dict[str, Any]:
    """A host's archive travels in its module result; the outcome keeps the rest."""
    return {k: v for k, v in res.items() if k != "archive_base64"}


def _forget_environment(command_file: Path) -> None:
    """ansible-runner's `command` artifact holds the whole environment, secrets given with
    --secret-env included: keep the variables' names only."""
    try:
        data = json.loads(command_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(data, dict) and isinstance(data.get("env"), dict):
        data["env"] = sorted(data["env"])
        command_file.write_text(json.dumps(data, indent=2), encoding="utf-8")
