"""Failed requests that were the load generator's own (no port, no file descriptor) are told
apart from the target's in summary.md and junit.xml."""

from __future__ import annotations

from locust_fleet.failure_causes import cause, generator_failures
from locust_fleet.results.model import FailureRow

REQUESTS_NO_PORT = (
    "ConnectionError(MaxRetryError(\"HTTPConnectionPool(host='10.213.7.20', port=80): Max "
    "retries exceeded with url: / (Caused by NewConnectionError('<urllib3.connection."
    "HTTPConnection object at 0x7f>: Failed to establish a new connection: [Errno 99] Cannot "
    "assign requested address'))\"))"
)
FAST_NO_FILES = "OSError(24, 'Too many open files')"
REFUSED = "ConnectionRefusedError(111, 'Connection refused')"  # the target's: it said no


def test_each_error_text_gets_its_cause() -> None:
    assert cause(REQUESTS_NO_PORT) == "EADDRNOTAVAIL"
    assert cause(FAST_NO_FILES) == "EMFILE"
    assert cause("gaierror: Too many open files in system") == "ENFILE"
    assert cause(REFUSED) is None
    assert cause("HTTPError('503 Server Error: Service Unavailable')") is None


def test_the_generators_own_failures_are_counted_apart() -> None:
    rows = [
        FailureRow("GET", "/", REQUESTS_NO_PORT, 120),
        FailureRow("GET", "/about", FAST_NO_FILES, 3),
        FailureRow("GET", "/", REFUSED, 7),
    ]
    found = generator_failures(rows)
    assert found.count == 123
    assert found.text() == "EADDRNOTAVAIL 120, EMFILE 3"
    assert generator_failures([FailureRow("GET", "/", REFUSED, 7)]).count == 0
