#!/usr/bin/python3
"""Work out the open-file limit a systemd unit on this host can actually get (read-only).

Runs on the host's system Python (3.8 or later), standard library only besides
ansible.module_utils. The work is in plain functions; main() only wires
AnsibleModule to them.
"""

from __future__ import annotations

import re

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: locust_nofile_ceiling
short_description: The open-file limit (LimitNOFILE) a unit on this host can get
description:
  - Reads, in one round trip and without changing anything, the three figures that cap a
    unit's C(LimitNOFILE) - the kernel's per-process ceiling C(fs.nr_open), the hard
    open-file limit of the service manager (PID 1), and whether PID 1 holds
    C(CAP_SYS_RESOURCE) (bit 24 of C(CapEff)).
  - No process gets more than C(fs.nr_open); a service manager without C(CAP_SYS_RESOURCE)
    (a container's) cannot give a unit more than its own hard limit, and clamps
    C(LimitNOFILE) without a word.
options:
  wanted:
    description: The open-file limit the unit asks for.
    type: int
    required: true
attributes:
  check_mode:
    support: full
author: locust-fleet
"""

EXAMPLES = r"""
- name: Work out the open-file limit units can get
  fleet.locust.locust_nofile_ceiling:
    wanted: 65535
  register: __locust_tuning_nofile
"""

RETURN = r"""
effective:
  description: The limit a unit asking for O(wanted) gets - the smallest of O(wanted),
    RV(nr_open) and, unless RV(pid1_can_raise), RV(pid1_hard).
  returned: always
  type: int
  sample: 65535
nr_open:
  description: C(/proc/sys/fs/nr_open).
  returned: always
  type: int
pid1_hard:
  description: The hard C(Max open files) of PID 1 (C(unlimited) as 1073741816, the kernel's
    largest C(nr_open)).
  returned: always
  type: int
pid1_can_raise:
  description: Whether PID 1 holds C(CAP_SYS_RESOURCE), so it can raise a unit above its own
    hard limit.
  returned: always
  type: bool
"""

UNLIMITED = 1073741816
CAP_SYS_RESOURCE = 24


def pid1_hard_limit(limits_text):
    """The hard 'Max open files' figure of a /proc/<pid>/limits text."""
    match = re.search(r"^Max open files\s+(\S+)\s+(\S+)", limits_text, re.MULTILINE)
    if match is None:
        raise ValueError("no 'Max open files' line in /proc/1/limits")
    hard = match.group(2)
    return UNLIMITED if hard == "unlimited" else int(hard)


def can_raise(status_text):
    """Whether a /proc/<pid>/status text's CapEff holds CAP_SYS_RESOURCE."""
    match = re.search(r"^CapEff:\s*([0-9a-fA-F]+)", status_text, re.MULTILINE)
    if match is None:
        raise ValueError("no CapEff line in /proc/1/status")
    return bool(int(match.group(1), 16) >> CAP_SYS_RESOURCE & 1)


def ceiling(wanted, limits_text, status_text, nr_open_text):
    nr_open = int(nr_open_text.strip())
    hard = pid1_hard_limit(limits_text)
    raise_ok = can_raise(status_text)
    caps = [wanted, nr_open] + ([] if raise_ok else [hard])
    return {
        "effective": min(caps),
        "nr_open": nr_open,
        "pid1_hard": hard,
        "pid1_can_raise": raise_ok,
    }


def read(path):
    with open(path) as handle:
        return handle.read()


def main():
    module = AnsibleModule(
        argument_spec={"wanted": {"type": "int", "required": True}},
        supports_check_mode=True,
    )
    try:
        result = ceiling(
            module.params["wanted"],
            read("/proc/1/limits"),
            read("/proc/1/status"),
            read("/proc/sys/fs/nr_open"),
        )
    except (OSError, ValueError) as err:
        module.fail_json(msg=f"cannot read the host's open-file ceiling: {err}")
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
