#!/usr/bin/python3
"""Wait up to --wait seconds for the master unit to stop, then print the run's state as JSON.

    {"active": bool, "users": int, "rps": float, "requests": int, "failures": int,
     "workers": int|null, "history_rows": int}
read from the last Aggregated row of the stats history and the master's log.
Standard library only: it runs on the host's system Python.
"""

import argparse
import csv
import json
import re
import subprocess
import time

CONNECTED = re.compile(r"(\d+) workers connected")


def active(unit):
    return subprocess.run(["systemctl", "is-active", "--quiet", unit], check=False).returncode == 0


def last_aggregated(history):
    row, count = {}, 0
    try:
        with open(history, newline="") as handle:
            for line in csv.DictReader(handle):
                if line.get("Name") == "Aggregated":
                    row, count = line, count + 1
    except OSError:
        pass
    return row, count


def workers(log):
    try:
        with open(log, errors="replace") as handle:
            found = CONNECTED.findall(handle.read())
    except OSError:
        return None
    return int(found[-1]) if found else None


def number(row, key, kind):
    try:
        return kind(float(row.get(key) or 0))
    except ValueError:
        return kind(0)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--unit", default="locust-master.service")
    parser.add_argument("--history", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--wait", type=float, default=10)
    args = parser.parse_args()
    deadline = time.monotonic() + args.wait
    while active(args.unit) and time.monotonic() < deadline:
        time.sleep(0.5)
    row, rows = last_aggregated(args.history)
    print(
        json.dumps(
            {
                "active": active(args.unit),
                "users": number(row, "User Count", int),
                "rps": round(number(row, "Requests/s", float), 1),
                "requests": number(row, "Total Request Count", int),
                "failures": number(row, "Total Failure Count", int),
                "workers": workers(args.log),
                "history_rows": rows,
            }
        )
    )


if __name__ == "__main__":
    main()
