"""Which failed requests were the load generator's own? Read from ``locust_failures.csv``.

A request that failed because its host could not open a connection - no local port left
(EADDRNOTAVAIL), no file descriptor (EMFILE, ENFILE), no socket buffer or memory (ENOBUFS,
ENOMEM) - never reached the target: it measures the generator. Locust records it as any
other failure, with the error text of the Python exception (``[Errno 99] Cannot assign
requested address`` from requests, ``OSError(24, 'Too many open files')`` from
FastHttpUser). Everything else (refused, reset, timed out, an HTTP status) is the target's.

API::

    generator_failures(results.failures) -> GeneratorFailures
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from locust_fleet.results.model import FailureRow

# Linux errno -> its name, for the errors a generator causes itself.
GENERATOR_ERRNOS = {99: "EADDRNOTAVAIL", 24: "EMFILE", 23: "ENFILE", 105: "ENOBUFS", 12: "ENOMEM"}
_MESSAGES = {
    "cannot assign requested address": "EADDRNOTAVAIL",
    "too many open files in system": "ENFILE",
    "too many open files": "EMFILE",
    "no buffer space available": "ENOBUFS",
}
_ERRNO = re.compile(r"\[Errno (\d+)\]|(?:OSError|error)\((\d+),")


@dataclass(frozen=True)
class GeneratorFailures:
    count: int = 0  # failed requests that were the generator's own
    by_cause: dict[str, int] = field(default_factory=dict)  # errno name -> occurrences

    def text(self) -> str:
        return ", ".join(f"{name} {n}" for name, n in sorted(self.by_cause.items()))


def cause(error: str) -> str | None:
    """The errno name when the error is the generator's own, else None."""
    for match in _ERRNO.finditer(error):
        number = int(match.group(1) or match.group(2))
        if number in GENERATOR_ERRNOS:
            return GENERATOR_ERRNOS[number]
    lowered = error.lower()
    return next((name for text, name in _MESSAGES.items() if text in lowered), None)


def generator_failures(failures: Iterable[FailureRow]) -> GeneratorFailures:
    by_cause: dict[str, int] = {}
    for row in failures:
        name = cause(row.error)
        if name is not None:
            by_cause[name] = by_cause.get(name, 0) + row.occurrences
    return GeneratorFailures(sum(by_cause.values()), by_cause)
