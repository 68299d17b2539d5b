"""Live progress from the playbook's event stream: a rich status line on a terminal,
plain timestamped lines elsewhere (CI logs)."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.status import Status

# Play names of run_test.yml (and the other playbooks) -> the phase a user sees.
PHASES = {
    "Check the run's arguments, the plan and the inventory": "preflight",
    "Check the fleet": "preflight",
    "Deploy the plan and start the workers": "deploying",
    "Run the test": "running",
    "Bring the results home": "fetching",
    "Record the run": "recording",
}
PROGRESS_TASK = "Show progress"


class Progress:
    """Event handler for PlaybookRun: call it with every event; close() at the end."""

    def __init__(self, console: Console | None = None, label: str = "run") -> None:
        self.console = console or Console(stderr=True)
        self.label = label
        self.live = self.console.is_terminal
        self.phase = "starting"
        self._status: Status | None = None
        self._last_line = ""
        if self.live:
            self._status = self.console.status(f"{label}: starting")
            self._status.start()

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        data = event.get("event_data", {})
        if kind == "playbook_on_play_start":
            phase = PHASES.get(data.get("play", ""), data.get("play", ""))
            if phase != self.phase:
                self.phase = phase
                self._show(phase)
        elif kind == "runner_on_ok" and data.get("task") == PROGRESS_TASK:
            msg = " ".join(str(data.get("res", {}).get("msg", "")).split())
            self._show(f"{self.phase}: {msg}", always_print=True)
        elif kind == "runner_on_start" and self.live and self._status is not None:
            self._status.update(f"{self.label}: {self.phase}: {data.get('task', '')}")

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
