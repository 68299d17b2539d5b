"""The one error type the results loader raises."""

from __future__ import annotations

from pathlib import Path


class ResultsError(ValueError):
    """A run folder file is missing or malformed.

    The message names the file (and the line, where there is one) and says what is
    wrong, e.g. ``results/r1/locust_stats.csv: line 3: column 'Requests/s': 'abc'
    is not a number``. ``path`` and ``line`` are kept for callers that want them.
    """

    def __init__(self, path: Path, problem: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}: line {line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {problem}")
