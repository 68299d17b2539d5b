#!/usr/bin/python3
"""Wait a little for the master unit to stop, then report the run's progress (read-only).

Runs on the host's system Python (3.8 or later), standard library only besides
ansible.module_utils. The work is in plain functions; main() only wires
AnsibleModule to them.
"""

from __future__ import annotations

import csv
import math
import re
import subprocess
import time

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: locust_run_progress
short_description: Report a Locust run's progress on its master
description:
  - Waits up to O(wait) seconds for the master unit to stop (it returns as soon as the unit
    is inactive), then reads the run's progress from the last C(Aggregated) row of Locust's
    stats history and the number of connected workers from the master's log.
  - RV(elapsed) is counted on the host's own clock, from the unit's
    C(ActiveEnterTimestampMonotonic).
  - Changes nothing.
options:
  unit:
    description: The master's systemd unit.
    type: str
    default: locust-master.service
  history:
    description: Locust's stats history CSV (C(locust_stats_history.csv) in the run folder).
    type: path
    required: true
  log:
    description: The master's log file (C(master.log) in the run folder).
    type: path
    required: true
  wait:
    description: Seconds to wait at most for the unit to stop; 0 reads at once.
    type: float
    default: 10
attributes:
  check_mode:
    support: full
author: locust-fleet
"""

EXAMPLES = r"""
- name: Wait for the master
  fleet.locust.locust_run_progress:
    history: /var/lib/locust/runs/20261201T101010Z-abc123/locust_stats_history.csv
    log: /var/lib/locust/runs/20261201T101010Z-abc123/master.log
    wait: 10
  register: __locust_run_progress
"""

RETURN = r"""
active:
  description: Whether the unit is still active (activating, active or deactivating) at the end.
  returned: always
  type: bool
users:
  description: The user count of the last Aggregated history row (0 without one).
  returned: always
  type: int
rps:
  description: Requests per second of the last Aggregated row, one decimal.
  returned: always
  type: float
requests:
  description: Total requests of the last Aggregated row.
  returned: always
  type: int
failures:
  description: Total failures of the last Aggregated row.
  returned: always
  type: int
workers:
  description: The last "N workers connected" the master logged; null when none yet.
  returned: always
  type: int
history_rows:
  description: How many Aggregated rows the history holds (one per second of the run).
  returned: always
  type: int
elapsed:
  description:
    - Seconds since the unit last became active, on the host's monotonic clock;
      null when it was never started since boot.
  returned: always
  type: float
"""

CONNECTED = re.compile(r"(\d+) workers connected")
ACTIVE_STATES = ("active", "activating", "reloading", "refreshing", "deactivating")


def unit_state(unit):
    """(active, monotonic seconds when it last became active or None)."""
    try:
        out = subprocess.run(
            ["systemctl", "show", unit, "-p", "ActiveState", "-p", "ActiveEnterTimestampMonotonic"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            check=False,
        ).stdout
    except OSError:
        out = ""
    values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    try:
        entered = int(values.get("ActiveEnterTimestampMonotonic") or 0)
    except ValueError:
        entered = 0
    return values.get("ActiveState") in ACTIVE_STATES, (entered / 1e6 if entered else None)


def last_aggregated(history):
    row, count = {}, 0
    try:
        with open(history, newline="", errors="replace") as handle:
            for line in csv.DictReader(handle):
                if line.get("Name") == "Aggregated":
                    row, count = line, count + 1
    except (OSError, csv.Error):
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
        value = float(row.get(key) or 0)
    except (TypeError, ValueError):
        return kind(0)
    return kind(value) if math.isfinite(value) else kind(0)


def wait_for_stop(unit, wait, poll=0.2):
    """Poll the unit until it is inactive or ``wait`` seconds passed; (active, entered)."""
    deadline = time.monotonic() + max(0.0, wait)
    active, entered = unit_state(unit)
    while active and time.monotonic() < deadline:
        time.sleep(min(poll, max(0.0, deadline - time.monotonic())))
        active, entered = unit_state(unit)
    return active, entered


def progress(unit, history, log, wait):
    active, entered = wait_for_stop(unit, wait)
    row, rows = last_aggregated(history)
    return {
        "active": active,
        "users": number(row, "User Count", int),
        "rps": round(number(row, "Requests/s", float), 1),
        "requests": number(row, "Total Request Count", int),
        "failures": number(row, "Total Failure Count", int),
        "workers": workers(log),
        "history_rows": rows,
        "elapsed": None if entered is None else round(max(0.0, time.monotonic() - entered), 3),
    }


def main():
    module = AnsibleModule(
        argument_spec={
            "unit": {"type": "str", "default": "locust-master.service"},
            "history": {"type": "path", "required": True},
            "log": {"type": "path", "required": True},
            "wait": {"type": "float", "default": 10.0},
        },
        supports_check_mode=True,
    )
    params = module.params
    result = progress(params["unit"], params["history"], params["log"], params["wait"])
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
