"""Events worth a line in run.json, read from the master's log and the hosts' journals.

workers_connected   the most workers the master ever reported connected
run_events          worker missing / quit / joined / restarted / given up, CPU warnings, in time
                    order
"""

from __future__ import annotations

import re

_LOG_TIME = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)")
_JOURNAL_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)")
_CONNECTED = re.compile(r"reported as ready(?: \(duplicate message\))?\. (\d+) workers connected")

# (kind, pattern) over the master's log; group "worker" is Locust's worker id.
_MASTER_EVENTS = (
    ("worker_missing", re.compile(r"Worker (?P<worker>\S+) failed to send heartbeat")),
    ("worker_quit", re.compile(r"Worker '(?P<worker>[^']+)' \(index \d+\) quit")),
    # locust_fleet_keep_users.py (roles/locust_run/files): the users dispatched again.
    ("worker_joined", re.compile(r"locust-fleet: worker (?P<worker>\S+) joined the running test")),
    ("users_over", re.compile(r"locust-fleet: the workers run \d+ users for a test of \d+")),
    ("cpu_warning", re.compile(r"Worker (?P<worker>\S+) \(index \d+\) exceeded cpu threshold")),
    ("cpu_warning", re.compile(r"(?P<master>CPU usage above \d+%)")),
    ("all_workers_missing", re.compile(r"The last worker went missing, stopping test")),
    ("all_workers_quit", re.compile(r"The last worker quit, stopping test")),
)
_SHUTDOWN = re.compile(r"run-time limit reached|Shutting down|Received SIGTERM")
# Over a worker host's journal (systemd's own lines about the worker units).
_JOURNAL_EVENTS = (
    (
        "worker_died",
        re.compile(
            r"(?P<unit>locust-worker@\d+\.service): Main process exited, "
            r"code=(?:killed|dumped|exited), status=(?!0/)"
        ),
    ),
    (
        "worker_restarted",
        re.compile(r"(?P<unit>locust-worker@\d+\.service): Scheduled restart job"),
    ),
    # The unit's start limit (locust_worker_start_limit_*): the worker could not start.
    (
        "worker_gave_up",
        re.compile(r"(?P<unit>locust-worker@\d+\.service): Start request repeated too quickly"),
    ),
)
# The last error a worker process printed (its traceback's last line), by its journal tag.
_WORKER_ERROR = re.compile(
    r"locust-worker-(?P<instance>\d+)\[\d+\]: (?P<error>[A-Za-z_.]*(?:Error|Exception)\b.*)"
)


def workers_connected(master_log: str):
    counts = [int(m.group(1)) for m in _CONNECTED.finditer(master_log or "")]
    return max(counts) if counts else None


def run_events(
    master_log: str,
    master_host: str,
    journals: dict | None = None,
    since: str | None = None,
    until: str | None = None,
) -> list:
    """Events worth a line in run.json, in time order, each naming the host concerned.

    Journal lines outside the master's life (`since`, `until`: ISO times) are left
    out: idle workers exit and restart on their own while no master is there, and
    every worker restarts after the master tells it to quit at the end.
    """
    cutoff = (since or "")[:19]
    end = (until or "")[:19]
    events = []
    ending = False  # after the master starts shutting down, workers quitting is expected
    for line in (master_log or "").splitlines():
        for kind, pattern in _MASTER_EVENTS:
            if ending and kind in ("worker_quit", "all_workers_quit"):
                continue
            match = pattern.search(line)
            if match:
                worker = match.groupdict().get("worker")
                events.append(
                    {
                        "time": _time(_LOG_TIME, line),
                        "host": worker.rsplit("_", 1)[0] if worker else master_host,
                        "kind": kind,
                        "message": line.split(": ", 1)[-1].strip(),
                    }
                )
                break
        ending = ending or bool(_SHUTDOWN.search(line))
    for host, text in sorted((journals or {}).items()):
        for line in (text or "").splitlines():
            for kind, pattern in _JOURNAL_EVENTS:
                stamp = _time(_JOURNAL_TIME, line)
                inside = (not cutoff or (stamp or "") >= cutoff) and (
                    not end or (stamp or "") <= end
                )
                match = pattern.search(line) if inside else None
                if match:
                    message = line.split(": ", 1)[-1].strip()
                    if kind == "worker_gave_up":
                        message = _gave_up_message(match.group("unit"), text)
                    events.append(
                        {
                            "time": _time(_JOURNAL_TIME, line),
                            "host": host,
                            "kind": kind,
                            "message": message,
                        }
                    )
    return sorted(events, key=lambda e: e["time"] or "")


def _gave_up_message(unit: str, journal: str) -> str:
    instance = unit.split("@", 1)[1].split(".", 1)[0]
    errors = [
        m.group("error").strip()
        for m in _WORKER_ERROR.finditer(journal)
        if m.group("instance") == instance
    ]
    last = f"; its last error: {errors[-1]}" if errors else ""
    return f"{unit} could not start and systemd gave up on it (its start limit){last}"


def _time(pattern: re.Pattern, line: str):
    match = pattern.match(line)
    return match.group(1).replace(" ", "T") if match else None
