"""Reading a run folder's text files: anything that is not UTF-8 is a ResultsError that names
the file and the byte, never a traceback."""

from __future__ import annotations

from pathlib import Path

from locust_fleet.results.errors import ResultsError


def read_utf8(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ResultsError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
