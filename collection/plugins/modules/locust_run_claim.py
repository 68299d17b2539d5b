#!/usr/bin/python3
"""Claim the fleet for one run on its master host, or give it back.

Runs on the host's system Python (3.8 or later), standard library only besides
ansible.module_utils. The work is in plain functions; main() only wires
AnsibleModule to them.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import subprocess
import time

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: locust_run_claim
short_description: Claim the Locust fleet for one run on its master, or give it back
description:
  - Two runs started at the same instant both find the master idle in their preflight;
    the claim decides which one goes on. It is a small JSON file under C(/run) (gone at
    reboot) changed only under an exclusive lock, so exactly one claimant wins.
  - Another run's claim still holds while that run can be alive - its deadline (the host's
    own clock when it claimed, plus O(hold_seconds)) has not passed, and the master unit is
    running, or has not been started since the claim and the claim is younger than
    O(grace) seconds (the run is still deploying its plan).
  - A claim from before the last boot, past its deadline, or whose master has started and
    ended since, is stale and is taken over (returned as RV(stale)).
  - In check mode nothing is written; the result says what would happen.
options:
  action:
    description: C(claim) the fleet for O(run_id), or C(release) it.
    type: str
    choices: [claim, release]
    required: true
  run_id:
    description: The run that claims or releases. Required to claim; to release, this or O(any).
    type: str
  by:
    description: Who claims (user@host of the controller), shown to runs that are refused.
    type: str
    default: ""
  hold_seconds:
    description:
      - How long the claim holds at most, counted on the host's own clock from now
        (every wait of the run plus its run time). Required to claim.
    type: float
  grace:
    description: Seconds a claim holds while the master has not been started since it.
    type: float
    default: 300
  any:
    description: Release whichever run holds the claim (playbooks/stop.yml).
    type: bool
  path:
    description: The claim file.
    type: path
    default: /run/locust-fleet/claim.json
  unit:
    description: The master's systemd unit.
    type: str
    default: locust-master.service
attributes:
  check_mode:
    support: full
author: locust-fleet
"""

EXAMPLES = r"""
- name: Claim the fleet for this run on the master
  fleet.locust.locust_run_claim:
    action: claim
    run_id: 20261201T101010Z-abc123
    by: ops@controller
    hold_seconds: 1020
  register: __locust_run_claim

- name: Give the fleet back, whichever run holds it
  fleet.locust.locust_run_claim:
    action: release
    any: true
"""

RETURN = r"""
claimed:
  description: Whether this run holds the claim now.
  returned: action is claim
  type: bool
holder:
  description:
    - The claim that holds - this run's own when RV(claimed), the other run's otherwise.
    - Keys run_id, by, claimed_at (host epoch), claimed_monotonic, deadline (host epoch),
      boot_id, host.
  returned: action is claim
  type: dict
stale:
  description: Another run's claim that was taken over as stale; null when there was none.
  returned: action is claim
  type: dict
released:
  description: Whether a claim was removed.
  returned: action is release
  type: bool
run_id:
  description: The run whose claim was removed.
  returned: action is release and RV(released)
  type: str
"""

ACTIVE_STATES = ("active", "activating", "reloading", "refreshing", "deactivating")


def boot_id():
    with open("/proc/sys/kernel/random/boot_id") as handle:
        return handle.read().strip()


def master_state(unit):
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
    active = values.get("ActiveState") in ACTIVE_STATES
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
        holder = json.loads(text) if text else None
    except ValueError:
        return None  # a torn or foreign file holds nothing
    return holder if isinstance(holder, dict) else None


def write(handle, holder):
    handle.seek(0)
    handle.truncate()
    if holder is not None:
        handle.write(json.dumps(holder))
    handle.flush()
    os.fsync(handle.fileno())


def claim(handle, run_id, by, hold_seconds, grace, unit, dry_run=False):
    holder = read(handle) if handle is not None else None
    other = holder if holder and holder.get("run_id") != run_id else None
    if other and still_holds(other, grace, unit):
        return {"claimed": False, "holder": other, "stale": None}
    now = time.time()
    mine = {
        "run_id": run_id,
        "by": by,
        "claimed_at": now,
        "claimed_monotonic": time.monotonic(),
        "deadline": now + hold_seconds,
        "boot_id": boot_id(),
        "host": socket.gethostname(),
    }
    if not dry_run:
        write(handle, mine)
    return {"claimed": True, "holder": mine, "stale": other}


def release(handle, run_id, any_holder, dry_run=False):
    holder = read(handle) if handle is not None else None
    if holder is None or not (any_holder or holder.get("run_id") == run_id):
        return {"released": False}
    if not dry_run:
        write(handle, None)
    return {"released": True, "run_id": holder.get("run_id")}


def usage_error(params):
    """What is wrong with the options, or None."""
    if params["action"] == "claim" and (
        not params.get("run_id") or params.get("hold_seconds") is None
    ):
        return "claim needs run_id and hold_seconds"
    if params["action"] == "release" and not (params.get("run_id") or params.get("any")):
        return "release needs run_id or any"
    return None


def run_claim(params, check_mode=False):
    """Claim or release under the claim file's lock; the result of claim() or release()."""
    path = params["path"]
    action = params["action"]

    def act(handle):
        if action == "claim":
            return claim(
                handle,
                params["run_id"],
                params.get("by") or "",
                float(params["hold_seconds"]),
                float(params.get("grace", 300.0)),
                params.get("unit") or "locust-master.service",
                dry_run=check_mode,
            )
        return release(handle, params.get("run_id"), bool(params.get("any")), dry_run=check_mode)

    if check_mode:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return act(None)
        with os.fdopen(fd, "r") as handle:
            fcntl.flock(handle, fcntl.LOCK_SH)
            return act(handle)
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "r+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        return act(handle)


def main():
    module = AnsibleModule(
        argument_spec={
            "action": {"type": "str", "choices": ["claim", "release"], "required": True},
            "run_id": {"type": "str"},
            "by": {"type": "str", "default": ""},
            "hold_seconds": {"type": "float"},
            "grace": {"type": "float", "default": 300.0},
            "any": {"type": "bool"},
            "path": {"type": "path", "default": "/run/locust-fleet/claim.json"},
            "unit": {"type": "str", "default": "locust-master.service"},
        },
        required_if=[
            ("action", "claim", ("run_id", "hold_seconds")),
            ("action", "release", ("run_id", "any"), True),
        ],
        supports_check_mode=True,
    )
    problem = usage_error(module.params)
    if problem:
        module.fail_json(msg=problem)
    try:
        result = run_claim(module.params, check_mode=module.check_mode)
    except OSError as err:
        module.fail_json(msg="cannot use the claim file {}: {}".format(module.params["path"], err))
    changed = bool(result.get("claimed") or result.get("released"))
    module.exit_json(changed=changed, **result)


if __name__ == "__main__":
    main()
