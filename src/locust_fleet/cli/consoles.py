"""Consoles for the CLI: rich on a terminal; wide, unwrapped lines in logs and pipes."""

from __future__ import annotations

from rich.console import Console

LOG_WIDTH = 160


def make_console(stderr: bool = False) -> Console:
    probe = Console(stderr=stderr)
    if probe.is_terminal:
        return probe
    return Console(stderr=stderr, width=LOG_WIDTH, soft_wrap=True)
