"""Live progress from the playbook's event stream: a rich status line on a terminal,
plain timestamped lines elsewhere (CI logs).

The phase comes from the task file a task belongs to and the progress line from
the structured result of ``fleet.locust.locust_run_progress`` (with the run's
state read by ``fleet.locust.locust_run_state``), never from a task's name or a
printed message.
"""

from __future__ import annotations

import time
from pathlib import PurePath
from typing import Any

from rich.console import Console
from rich.status import Status

# Task file of roles/locust_run, locust_ui and locust_common (and the
# provisioning roles) -> the phase a user sees. A file not named here (the
# start and follow entry points, release) keeps the phase of what ran before.
PHASES = {
    "preflight": "preflight",
    "preflight_controller": "preflight",
    "preflight_fleet": "preflight",
    "deploy_plan": "deploying",
    "prepare": "deploying",
    "start_master": "starting",
    "master": "starting",
    "read_state": "attaching",
    "follow_step": "running",
    "stop": "stopping",
    "collect": "fetching",
    "record": "recording",
}
PROGRESS_ACTION = "fleet.locust.locust_run_progress"
STATE_ACTION = "fleet.locust.locust_run_state"


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60:02d}:{whole % 60:02d}"


def progress_line(progress: dict[str, Any], state: dict[str, Any]) -> str:
    """One line from the progress module's result and the run's state."""
    spec = state.get("spec") or {}
    requests = int(progress.get("requests") or 0)
    failures = int(progress.get("failures") or 0)
    shape = spec.get("shape") or {}
    asked = f" (shape {shape.get('class')})" if shape else f"/{spec.get('users', '?')}"
    return (
        f"{'running' if progress.get('active') else 'finished'} "
        f"{_clock(progress.get('elapsed') or 0)} of {_clock(spec.get('run_seconds') or 0)}: "
        f"workers {progress.get('workers') or 0}/{state.get('expected_workers', '?')}, "
        f"users {progress.get('users') or 0}{asked}, "
        f"{progress.get('rps') or 0} req/s, {requests} requests, {failures} failed "
        f"({100 * failures / max(requests, 1):.2f}%)"
    )


def _phase_of(data: dict[str, Any]) -> str | None:
    path = str(data.get("task_path") or "").rsplit(":", 1)[0]
    return PHASES.get(PurePath(path).stem) if path else None


LOCUST_SPAWN_RATE_PER_WORKER = 100  # Locust warns above it ("very high (>100/worker)")


def spawn_rate_advice(state: dict[str, Any]) -> str | None:
    """A warning when a headless run ramps faster than Locust advises per worker process."""
    spec = state.get("spec") or {}
    workers = state.get("expected_workers") or 0
    try:
        rate = float(spec.get("spawn_rate") or 0)
    except (TypeError, ValueError):
        return None
    if state.get("mode") != "headless" or workers <= 0 or spec.get("shape"):
        return None
    per_worker = rate / workers
    if per_worker <= LOCUST_SPAWN_RATE_PER_WORKER:
        return None
    most = LOCUST_SPAWN_RATE_PER_WORKER * workers
    return (
        f"WARNING: -r {rate:g} is {per_worker:.0f} users/s for each of the {workers} worker "
        f"processes; Locust advises at most {LOCUST_SPAWN_RATE_PER_WORKER} (this fleet: "
        f"-r {most}). A faster ramp can starve the workers of CPU and make the master miss "
        "their heartbeats (the verdict then says so)."
    )


def preflight_cautions(state: dict[str, Any]) -> list[str]:
    """What the preflight found the run can take, but at a cost (the run's state carries it)."""
    return [f"CAUTION: {c}" for c in state.get("cautions") or []]


class Progress:
    """Event handler for PlaybookRun: call it with every event; close() at the end."""

    def __init__(self, console: Console | None = None, label: str = "run") -> None:
        self.console = console or Console(stderr=True)
        self.label = label
        self.live = self.console.is_terminal
        self.phase = "starting"
        self.state: dict[str, Any] = {}
        self._status: Status | None = None
        self._last_line = ""
        if self.live:
            self._status = self.console.status(f"{label}: starting")
            self._status.start()

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        data = event.get("event_data", {})
        if kind == "runner_on_start":
            phase = _phase_of(data)
            if phase and phase != self.phase:
                self.phase = phase
                self._show(phase)
            elif self.live and self._status is not None:
                self._status.update(f"{self.label}: {self.phase}: {data.get('task', '')}")
        elif kind == "runner_on_ok":
            res = data.get("res") or {}
            action = data.get("task_action")
            if action == STATE_ACTION and isinstance(res.get("state"), dict):
                first = not self.state
                self.state = res["state"]
                advice = spawn_rate_advice(self.state) if first else None
                for line in ([advice] if advice else []) + (
                    preflight_cautions(self.state) if first else []
                ):
                    self._show(line, always_print=True)
            elif action == PROGRESS_ACTION and "active" in res and self.state:
                self._show(f"{self.phase}: {progress_line(res, self.state)}", always_print=True)

    def _show(self, text: str, always_print: bool = False) -> None:
        if text == self._last_line:
            return
        self._last_line = text
        if self.live and self._status is not None:
            self._status.update(f"{self.label}: {text}")
            if always_print:
                self.console.log(text)
        else:
            self.console.print(
                f"[{time.strftime('%H:%M:%S')}] {self.label}: {text}", highlight=False, markup=False
            )

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
