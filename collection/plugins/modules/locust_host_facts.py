#!/usr/bin/python3
"""Read what a run's preflight needs to know about one host (read-only).

Runs on the host's system Python (3.8 or later), standard library only besides
ansible.module_utils. The work is in plain functions; main() only wires
AnsibleModule to them.
"""

from __future__ import annotations

import glob
import hashlib
import ipaddress
import os
import platform
import subprocess
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.fleet.locust.plugins.module_utils.locust_disk import free_mb

DOCUMENTATION = r"""
module: locust_host_facts
short_description: Read a host's Locust version, deployed test plan and Locust units
description:
  - Reads, without changing anything, what the run playbook's preflight checks on every
    master and worker host - the installed Locust version, the deployed test plan and how
    its files compare with the plan's sha256 manifest, whether C(locust-master.service)
    is active and which C(locust-worker@) instances are enabled.
  - Also returns the host's Python version, its clock (when the module's process started and
    when it answered) and its boot id. The action plugin of the same name times the call on
    the controller and turns the two clock readings into the host's clock offset.
  - The results are top-level keys of the result, not C(ansible_facts).
options:
  base_dir:
    description: The Locust installation folder (venv/, plans/).
    type: path
    default: /opt/locust
  fence_table:
    description:
      - An nftables table of family C(inet) that must be loaded on this host (the master's
        port filter, C(locust)); empty checks none.
    type: str
    default: ""
  free_space_path:
    description:
      - A folder whose filesystem's free space to report as C(free_space_mb) (the master's
        runs folder); empty reports none.
    type: path
    default: ""
attributes:
  check_mode:
    support: full
author: locust-fleet
"""

EXAMPLES = r"""
- name: Read the host's Locust version, deployed plan and units
  fleet.locust.locust_host_facts:
    base_dir: /opt/locust
  register: __locust_run_state
"""

RETURN = r"""
locust_version:
  description:
    - The version of Locust installed in C(<base_dir>/venv), read from its
      C(lib/python3*/site-packages/locust-*.dist-info/METADATA) (no Python of the venv runs).
    - Null unless there is exactly one such dist-info and C(venv/bin/locust) is executable.
  returned: always
  type: str
  sample: 2.47.0
plan:
  description: The folder C(<base_dir>/plans/current) points to; null when it is not a link.
  returned: always
  type: str
  sample: /opt/locust/plans/website-3f2a9be1
manifest_sha256:
  description: The sha256 of the plan's manifest file (C(<plan>.sha256)); null when unreadable.
  returned: always
  type: str
manifest:
  description: File name (relative to the plan) -> sha256 the manifest records.
  returned: always
  type: dict
mismatches:
  description: Files whose sha256 differs from the manifest's (actual C(missing) when absent).
  returned: always
  type: list
  elements: dict
  sample: [{file: locustfile.py, recorded: 3f2a..., actual: 9be1...}]
extra:
  description: Files in the plan folder that the manifest does not name, sorted.
  returned: always
  type: list
  elements: str
master_active:
  description: Whether C(locust-master.service) is active.
  returned: always
  type: bool
worker_instances:
  description: The enabled C(locust-worker@N.service) instances, sorted.
  returned: always
  type: list
  elements: str
  sample: [locust-worker@1.service, locust-worker@2.service]
master_exited:
  description:
    - When the main process of C(locust-master.service) last exited (epoch seconds, host
      clock); null when it has not run since the host booted.
  returned: always
  type: float
workers_started:
  description:
    - Each enabled worker instance -> when its running process started (epoch seconds, host
      clock); null for an instance that is not running. A worker that started after the
      master last exited has never served a test; prepare keeps it.
  returned: always
  type: dict
workers_nofile:
  description: Each enabled worker instance -> the soft open-file limit its processes get
    (C(LimitNOFILESoft)); null when systemd does not say.
  returned: always
  type: dict
local_port_range:
  description: The lowest and highest local port the kernel hands out
    (C(net.ipv4.ip_local_port_range)); null when unreadable.
  returned: always
  type: list
  elements: int
memory_total_kb:
  description: The host's C(MemTotal) in kB; null when unreadable.
  returned: always
  type: int
fence_loaded:
  description: Whether the table O(fence_table) is loaded now; null when none was asked for.
  returned: always
  type: bool
addresses:
  description:
    - The host's own addresses (IPv4 from C(/proc/net/fib_trie), IPv6 from
      C(/proc/net/if_inet6)), without loopback and link-local ones, sorted - what the
      master's port filter admits for a worker host.
  returned: always
  type: list
  elements: str
python_version:
  description: The version of the Python that ran the module.
  returned: always
  type: str
  sample: 3.11.2
clock:
  description: The host's time.time() when it was read, as the module answers (epoch seconds).
  returned: always
  type: float
started_clock:
  description:
    - The host's wall time when the module's process started (epoch seconds, to the kernel's
      10 ms tick), from C(/proc/self/stat) and C(CLOCK_BOOTTIME); null when unreadable.
  returned: always
  type: float
clock_offset_ms:
  description:
    - Set by the action plugin - how far the host's clock is ahead of the controller's in ms
      (negative when behind), estimated as NTP does from the call's send and receive times on
      the controller and RV(started_clock) and RV(clock) on the host.
  returned: when the host answered
  type: float
clock_delay_ms:
  description:
    - Set by the action plugin - the call's round trip minus the host's own time in it (ms);
      the offset is right to within half of it.
  returned: when the host answered
  type: float
boot_id:
  description: The host's boot id (changes at every boot); null when unreadable.
  returned: always
  type: str
free_space_mb:
  description:
    - MiB free to unprivileged users on the filesystem of O(free_space_path) (or of the
      nearest folder above it that exists); null when none was asked for or unreadable.
  returned: always
  type: float
"""

MASTER_UNIT = "locust-master.service"
WANTS_DIR = "/etc/systemd/system/multi-user.target.wants"
BOOT_ID_PATH = "/proc/sys/kernel/random/boot_id"


def run(argv, timeout=60):
    """(return code, stdout) of a command; (None, "") when it cannot be run."""
    try:
        proc = subprocess.run(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None, ""
    return proc.returncode, proc.stdout


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _metadata_version(path):
    """The Version: header of a dist-info METADATA file (headers end at the first blank
    line); None when it has none or cannot be read."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                line = line.rstrip("\r\n")
                if not line:
                    break
                name, sep, value = line.partition(":")
                if sep and name.strip().lower() == "version":
                    return value.strip() or None
    except OSError:
        return None
    return None


def locust_version(base):
    """The Locust version installed in <base>/venv, read from its dist-info metadata - no
    Python code of the venv runs. None unless there is exactly one locust dist-info and an
    executable locust script."""
    script = os.path.join(base, "venv", "bin", "locust")
    if not (os.path.isfile(script) and os.access(script, os.X_OK)):
        return None
    pattern = os.path.join(
        glob.escape(base), "venv", "lib", "python3*", "site-packages", "locust-*.dist-info"
    )
    found = glob.glob(os.path.join(pattern, "METADATA"))
    if len(found) != 1:
        return None
    return _metadata_version(found[0])


def extra_files(plan, recorded_sums):
    """Files in the plan folder that its manifest does not name (deploying removes them)."""
    extra = []
    for folder, _, names in os.walk(plan):
        for name in names:
            rel = os.path.relpath(os.path.join(folder, name), plan)
            if rel not in recorded_sums:
                extra.append(rel)
    return sorted(extra)


def plan_state(base):
    """(plan, manifest sha256, manifest, mismatches, extra) of the deployed plan."""
    current = os.path.join(base, "plans", "current")
    if not os.path.islink(current):
        return None, None, {}, [], []
    plan = os.path.realpath(current)
    manifest = plan + ".sha256"
    try:
        with open(manifest) as handle:
            lines = [line.split(None, 1) for line in handle.read().splitlines() if line.strip()]
        manifest_sha = sha256(manifest)
    except OSError:
        missing = {"file": os.path.basename(manifest), "recorded": "?", "actual": "missing"}
        return plan, None, {}, [missing], []
    recorded_sums = {entry[1].lstrip("*"): entry[0] for entry in lines if len(entry) == 2}
    mismatches = []
    for name, recorded in recorded_sums.items():
        try:
            actual = sha256(os.path.join(plan, name))
        except OSError:
            actual = "missing"
        if actual != recorded:
            mismatches.append({"file": name, "recorded": recorded, "actual": actual})
    return plan, manifest_sha, recorded_sums, mismatches, extra_files(plan, recorded_sums)


def worker_instances(wants=WANTS_DIR):
    try:
        names = os.listdir(wants)
    except OSError:
        return []
    return sorted(
        n for n in names if n.startswith("locust-worker@") and n != "locust-worker@.service"
    )


def master_active(unit=MASTER_UNIT):
    code, _ = run(["systemctl", "is-active", "--quiet", unit])
    return code == 0


def unit_times(units, master=MASTER_UNIT):
    """(master exited, {unit: started}, {unit: soft open-file limit}) from one systemctl
    show; times in epoch seconds, None where systemd has no time (never ran since boot, or
    not running)."""
    argv = ["systemctl", "show", "-p", "Id", "-p", "ActiveState", "-p", "SubState"]
    argv += ["-p", "ExecMainStartTimestampMonotonic", "-p", "ExecMainExitTimestampMonotonic"]
    argv += ["-p", "LimitNOFILESoft"]
    code, out = run([*argv, master, *units])
    now_wall, now_mono = time.time(), time.monotonic()

    def epoch(value):
        try:
            micro = int(value or 0)
        except ValueError:
            return None
        return round(now_wall - (now_mono - micro / 1e6), 3) if micro > 0 else None

    shown = {}
    for block in out.split("\n\n") if code == 0 else []:
        values = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if values.get("Id"):
            shown[values["Id"]] = values
    exited = epoch(shown.get(master, {}).get("ExecMainExitTimestampMonotonic"))
    started, nofile = {}, {}
    for unit in units:
        values = shown.get(unit, {})
        running = (values.get("ActiveState"), values.get("SubState")) == ("active", "running")
        started[unit] = epoch(values.get("ExecMainStartTimestampMonotonic")) if running else None
        soft = values.get("LimitNOFILESoft", "")
        nofile[unit] = int(soft) if soft.isdigit() else None
    return exited, started, nofile


def local_port_range(path="/proc/sys/net/ipv4/ip_local_port_range"):
    """[lowest, highest] local port the kernel hands out, or None."""
    try:
        with open(path) as handle:
            low, high = (int(x) for x in handle.read().split())
    except (OSError, ValueError):
        return None
    return [low, high]


def memory_total_kb(path="/proc/meminfo"):
    try:
        with open(path) as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def boot_id(path=BOOT_ID_PATH):
    try:
        with open(path) as handle:
            return handle.read().strip() or None
    except OSError:
        return None


def started_clock():
    """Wall time at which this process started, or None."""
    try:
        with open("/proc/self/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        ticks = int(fields[19])  # field 22, starttime: clock ticks after boot
        since_boot = time.clock_gettime(time.CLOCK_BOOTTIME)
        now = time.time()
    except (OSError, IndexError, ValueError, AttributeError):
        return None
    return now - (since_boot - ticks / os.sysconf("SC_CLK_TCK"))


def fence_loaded(table):
    """Whether the inet table is in the live ruleset (None when none is asked for)."""
    if not table:
        return None
    code, _ = run(["nft", "list", "table", "inet", table])
    return code == 0


def own_addresses():
    """The host's addresses but loopback and link-local ones, sorted."""
    found = set()
    try:
        with open("/proc/net/fib_trie") as handle:
            lines = handle.read().splitlines()
    except OSError:
        lines = []
    for before, line in zip(lines, lines[1:]):
        text = before.strip()
        if "/32 host LOCAL" in line and text.startswith("|--"):
            address = text[3:].strip()
            if not address.startswith("127."):
                found.add(address)
    try:
        with open("/proc/net/if_inet6") as handle:
            for line in handle:
                fields = line.split()
                raw, scope = fields[0], int(fields[3], 16)
                if scope != 0:  # host (loopback) and link scopes
                    continue
                address = ipaddress.IPv6Address(int(raw, 16))
                found.add(str(address))
    except (OSError, IndexError, ValueError):
        pass
    return sorted(found)


def host_facts(base_dir, fence_table="", free_space_path=""):
    plan, manifest_sha, recorded_sums, mismatches, extra = plan_state(base_dir)
    instances = worker_instances()
    master_exited, workers_started, workers_nofile = unit_times(instances)
    return {
        "locust_version": locust_version(base_dir),
        "plan": plan,
        "manifest_sha256": manifest_sha,
        "manifest": recorded_sums,
        "mismatches": mismatches,
        "extra": extra,
        "master_active": master_active(),
        "worker_instances": instances,
        "master_exited": master_exited,
        "workers_started": workers_started,
        "workers_nofile": workers_nofile,
        "local_port_range": local_port_range(),
        "memory_total_kb": memory_total_kb(),
        "fence_loaded": fence_loaded(fence_table),
        "addresses": own_addresses(),
        "python_version": platform.python_version(),
        "boot_id": boot_id(),
        "free_space_mb": free_mb(free_space_path) if free_space_path else None,
        "started_clock": started_clock(),
        "clock": time.time(),
    }


def main():
    module = AnsibleModule(
        argument_spec={
            "base_dir": {"type": "path", "default": "/opt/locust"},
            "fence_table": {"type": "str", "default": ""},
            "free_space_path": {"type": "path", "default": ""},
        },
        supports_check_mode=True,
    )
    params = module.params
    facts = host_facts(params["base_dir"], params["fence_table"], params["free_space_path"])
    module.exit_json(changed=False, **facts)


if __name__ == "__main__":
    main()
