#!/usr/bin/python3
"""Sample the CPU of every Locust process on this host, once a second, for one run.

Locust's own warning samples every 10 s and is blind for the first 20 s; this
writes one CSV row per process per interval from the start of the run:
    timestamp,host,role,unit,pid,cpu_percent,wait_percent   (percent of one core)
cpu_percent is the CPU the process got; wait_percent the time its threads were
runnable but waiting for a CPU (schedstat run delay). Their sum is what the process
wanted: a worker starved on a host with too few cores gets 30% and waits 70%, and
is as much a bottleneck as one pinned at 100%. wait_percent is N/A when the kernel
has no schedstat.
Started by the run playbook as a transient unit bounded by RuntimeMaxSec.
Standard library only: it runs on the host's system Python.
"""

import argparse
import os
import re
import time
from datetime import datetime, timezone

CLK_TCK = os.sysconf("SC_CLK_TCK")
UNIT = re.compile(r"(locust-(?:master|worker@\d+)\.service)")


def locust_processes():
    """pid -> (role, unit) for the Locust processes of the master and worker units."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                argv = handle.read().split(b"\0")
            with open(f"/proc/{entry}/cgroup") as handle:
                cgroup = handle.read()
        except OSError:
            continue
        unit = UNIT.search(cgroup)
        if not unit or not argv or b"locust" not in b" ".join(argv[:2]):
            continue
        role = "worker" if unit.group(1).startswith("locust-worker@") else "master"
        found[int(entry)] = (role, unit.group(1))
    return found


def cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])  # utime + stime


def run_delay_ns(pid):
    """Nanoseconds the process's threads spent runnable, waiting for a CPU; None if unknown."""
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    total, seen = 0, False
    for tid in threads:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as handle:
                total += int(handle.read().split()[1])
            seen = True
        except (OSError, IndexError, ValueError):
            continue  # the thread ended, or no schedstat on this kernel
    return total if seen else None


def percent(delta, per_second, elapsed):
    return max(delta, 0) / per_second / max(elapsed, 1e-6) * 100


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--duration", type=float, required=True)
    args = parser.parse_args()
    previous = {}
    deadline = time.monotonic() + args.duration
    with open(args.out, "a", buffering=1) as out:
        while time.monotonic() < deadline:
            now = time.monotonic()
            stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
            for pid, (role, unit) in locust_processes().items():
                ticks = cpu_ticks(pid)
                if ticks is None:
                    continue
                delay = run_delay_ns(pid)
                if pid in previous:
                    then, old_ticks, old_delay = previous[pid]
                    cpu = percent(ticks - old_ticks, CLK_TCK, now - then)
                    wait = "N/A"
                    if delay is not None and old_delay is not None:
                        wait = f"{percent(delay - old_delay, 1e9, now - then):.1f}"
                    out.write(f"{stamp},{args.host},{role},{unit},{pid},{cpu:.1f},{wait}\n")
                previous[pid] = (now, ticks, delay)
            time.sleep(max(0.0, args.interval - (time.monotonic() - now)))


if __name__ == "__main__":
    main()
