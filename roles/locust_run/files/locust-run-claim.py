#!/usr/bin/python3
"""Claim the fleet for one run on its master host, or give it back.

Two runs started at the same instant both find the master idle in their preflight;
the claim decides which one goes on. It is a small JSON file under /run (gone at
reboot) changed only under an exclusive lock, so exactly one claimant wins.

    locust-run-claim.py claim   --run-id ID --by WHO --deadline EPOCH
    locust-run-claim.py release --run-id ID      (or --any: playbooks/stop.yml)

Prints one JSON object: {"claimed": bool, "holder": {...} or null, "stale": {...} or null}
for claim, {"released": bool} for release. Exit 0 unless the arguments are wrong.

Another run's claim still holds while that run can be alive:
- its deadline (run time plus every wait, from the playbook) has not passed, and
- the master is running, or has not been started since the claim and the claim is
  younger than --grace seconds (the run is still deploying its plan).
A claim from before the last boot, past its deadline, or whose master has started
and ended since, is stale and is taken over.
Standard library only: it runs on the host's system Python.
"""

import argparse
import fcntl
import json
import os
import socket
import subprocess
import sys
import time

DEFAULT_PATH = "/run/locust-fleet/claim.json"
MASTER_UNIT = "locust-master.service"


def boot_id():
    with open("/proc/sys/kernel/random/boot_id") as handle:
        return handle.read().strip()


def master_state(unit):
    """(active, monotonic seconds when it last became active or None)."""
    out = subprocess.run(
        ["systemctl", "show", unit, "-p", "ActiveState", "-p", "ActiveEnterTimestampMonotonic"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    entered = int(values.get("ActiveEnterTimestampMonotonic") or 0)
    active = values.get("ActiveState") in ("active", "activating", "reloading", "deactivating")
    return active, (entered / 1e6 if entered else None)


def still_holds(holder, grace, unit):
    if holder.get("boot_id") != boot_id() or time.time() > holder.get("deadline", 0):
        return False
    active, entered = master_state(unit)
    if active:
        return True
    if entered is not None and entered > holder.get("claimed_monotonic", 0):
        return False  # its master ran and has ended
    return time.monotonic() - holder.get("claimed_monotonic", 0) < grace


def read(handle):
    handle.seek(0)
    text = handle.read().strip()
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None  # a torn or foreign file holds nothing


def write(handle, holder):
    handle.seek(0)
    handle.truncate()
    if holder is not None:
        handle.write(json.dumps(holder))
    handle.flush()
    os.fsync(handle.fileno())


def claim(handle, args):
    holder = read(handle)
    other = holder if holder and holder.get("run_id") != args.run_id else None
    if other and still_holds(other, args.grace, args.unit):
        return {"claimed": False, "holder": other, "stale": None}
    mine = {
        "run_id": args.run_id,
        "by": args.by,
        "claimed_at": time.time(),
        "claimed_monotonic": time.monotonic(),
        "deadline": args.deadline,
        "boot_id": boot_id(),
        "host": socket.gethostname(),
    }
    write(handle, mine)
    return {"claimed": True, "holder": mine, "stale": other}


def release(handle, args):
    holder = read(handle)
    if holder is None or not (args.any or holder.get("run_id") == args.run_id):
        return {"released": False}
    write(handle, None)
    return {"released": True, "run_id": holder.get("run_id")}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["claim", "release"])
    parser.add_argument("--run-id")
    parser.add_argument("--by", default="")
    parser.add_argument("--deadline", type=float, help="epoch seconds after which it is stale")
    parser.add_argument("--grace", type=float, default=300.0)
    parser.add_argument("--any", action="store_true", help="release whoever holds it")
    parser.add_argument("--path", default=DEFAULT_PATH)
    parser.add_argument("--unit", default=MASTER_UNIT)
    args = parser.parse_args()
    if args.action == "claim" and (not args.run_id or args.deadline is None):
        parser.error("claim needs --run-id and --deadline")
    if args.action == "release" and not (args.run_id or args.any):
        parser.error("release needs --run-id or --any")
    os.makedirs(os.path.dirname(args.path), mode=0o755, exist_ok=True)
    fd = os.open(args.path, os.O_RDWR | os.O_CREAT, 0o644)
    with os.fdopen(fd, "r+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        result = claim(handle, args) if args.action == "claim" else release(handle, args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
