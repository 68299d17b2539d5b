"""Run a command and turn a failure into an error that shows what it printed."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence


class CommandError(RuntimeError):
    """A command exited non-zero; the message holds the command and its stderr."""

    def __init__(self, cmd: Sequence[str], returncode: int, output: str) -> None:
        self.cmd = list(cmd)
        self.returncode = returncode
        self.output = output
        super().__init__(f"`{' '.join(self.cmd)}` exited {returncode}: {output.strip()[-2000:]}")


def run(
    cmd: Sequence[str],
    *,
    check: bool = True,
    timeout: float | None = None,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `cmd` without a shell, capture its output as text; raise CommandError on failure."""
    proc = subprocess.run(
        list(cmd), capture_output=True, text=True, timeout=timeout, input=input_text, check=False
    )
    if check and proc.returncode != 0:
        raise CommandError(cmd, proc.returncode, proc.stderr or proc.stdout)
    return proc
