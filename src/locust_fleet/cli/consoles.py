"""Consoles for the CLI: rich on a terminal; wide, unwrapped lines in logs and pipes."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

LOG_WIDTH = 160


def make_console(stderr: bool = False) -> Console:
    probe = Console(stderr=stderr)
    if probe.is_terminal:
        return probe
    return Console(stderr=stderr, width=LOG_WIDTH, soft_wrap=True)


def print_error(console: Console, message: object) -> None:
    """``error: <message>``, the message printed as it is: it often holds a user's values
    (``locust_extra_args[note]``, paths), which rich would take for markup and drop."""
    console.print(Text.assemble(("error:", "bold red"), " ", str(message)))
