#!/usr/bin/python3
"""Make the live kernel settings match the wanted ones, in one round trip.

Runs on the host's system Python (3.8 or later), standard library only besides
ansible.module_utils. The work is in plain functions; main() only wires
AnsibleModule to them.
"""

from __future__ import annotations

import os

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: locust_sysctl
short_description: Apply the kernel settings whose live value differs, and read them all back
description:
  - Reads each key's live value from C(/proc/sys), writes the wanted value of each key that
    differs (as C(sysctl -w) does), and reads every key back. Values compare with their
    whitespace collapsed, so C(10240 65535) equals the kernel's C(10240\t65535).
  - A key the kernel refuses (a container may not set most of them) is reported in
    RV(unapplied) with the kernel's reason in RV(errors); the module itself does not fail,
    so the role decides what a refusal means.
  - Writing the settings file that makes them survive a reboot is the role's job, not this
    module's.
options:
  settings:
    description: Key (dotted, as sysctl names it) -> wanted value.
    type: dict
    required: true
  apply:
    description: Write the keys that differ; C(false) only reads them.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    details: Reads only; reports as changed what it would write.
author: locust-fleet
"""

EXAMPLES = r"""
- name: Apply the kernel settings that differ
  fleet.locust.locust_sysctl:
    settings:
      net.ipv4.ip_local_port_range: "10240 65535"
      net.core.somaxconn: 65535
  register: __locust_tuning_sysctl
"""

RETURN = r"""
applied:
  description: Keys written (in check mode, the keys that would be), sorted.
  returned: always
  type: list
  elements: str
live:
  description: Key -> its live value after applying (whitespace collapsed); null for a key
    the kernel does not have.
  returned: always
  type: dict
unapplied:
  description: Keys whose live value still differs from the wanted one, sorted.
  returned: always
  type: list
  elements: str
errors:
  description: Key -> why the kernel refused the write (or why the key could not be read).
  returned: always
  type: dict
"""

PROC_SYS = "/proc/sys"


def normalise(value):
    return " ".join(str(value).split())


def key_path(key, root=PROC_SYS):
    """/proc/sys path of a dotted key; a '/' in a key stands for a dot in one part of it
    (net.ipv4.conf.eth0/1.rp_filter), as sysctl(8) has it."""
    parts = [part.replace("/", ".") for part in key.split(".")]
    if not key or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"not a sysctl key: {key!r}")
    return os.path.join(root, *parts)


def read_live(key, root=PROC_SYS):
    """(normalised live value, None) or (None, reason)."""
    try:
        with open(key_path(key, root)) as handle:
            return normalise(handle.read()), None
    except FileNotFoundError:
        return None, "no such key"
    except (OSError, ValueError) as err:
        return None, str(err)


def write_live(key, value, root=PROC_SYS):
    """None when the kernel took the value, else its reason."""
    try:
        with open(key_path(key, root), "w") as handle:
            handle.write(normalise(value) + "\n")
    except FileNotFoundError:
        return "no such key"
    except (OSError, ValueError) as err:
        return getattr(err, "strerror", None) or str(err)
    return None


def settle(settings, apply=True, check_mode=False, root=PROC_SYS):
    wanted = {key: normalise(value) for key, value in settings.items()}
    errors = {}
    applied = []
    for key, value in sorted(wanted.items()):
        live, why = read_live(key, root)
        if live == value:
            continue
        if why is not None:
            errors[key] = why
            continue
        if not apply:
            continue
        if check_mode:
            applied.append(key)
            continue
        refused = write_live(key, value, root)
        if refused is None:
            applied.append(key)
        else:
            errors[key] = refused
    live = {}
    for key in sorted(wanted):
        live[key], why = read_live(key, root)
        if why is not None:
            errors.setdefault(key, why)
    if check_mode:
        unapplied = sorted(k for k in wanted if live[k] != wanted[k] and k not in applied)
        return {"applied": applied, "live": live, "unapplied": unapplied, "errors": errors}
    # A write the kernel took but rounded or ignored leaves the key unapplied, not changed:
    # otherwise every run would report it changed again.
    for key in applied:
        if live[key] != wanted[key]:
            errors.setdefault(key, f"the kernel took {wanted[key]!r} but reads back {live[key]!r}")
    applied = [key for key in applied if live[key] == wanted[key]]
    unapplied = sorted(key for key in wanted if live[key] != wanted[key])
    return {"applied": applied, "live": live, "unapplied": unapplied, "errors": errors}


def main():
    module = AnsibleModule(
        argument_spec={
            "settings": {"type": "dict", "required": True},
            "apply": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    try:
        result = settle(module.params["settings"], module.params["apply"], module.check_mode)
    except ValueError as err:
        module.fail_json(msg=str(err))
    module.exit_json(changed=bool(result["applied"]), **result)


if __name__ == "__main__":
    main()
