"""Helpers shared by the testinfra verifiers of every scenario."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import testinfra.utils.ansible_runner
import yaml

PROJECT = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def hosts(pattern: str) -> list[str]:
    """Molecule's inventory hosts matching an Ansible pattern, for testinfra_hosts."""
    runner = testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"])
    return runner.get_hosts(pattern)


def role_defaults(role: str) -> dict:
    return yaml.safe_load((PROJECT / "roles" / role / "defaults" / "main.yml").read_text())


def unit_properties(host, unit: str, *names: str) -> dict[str, str]:
    out = host.check_output("systemctl show %s --property=%s", unit, ",".join(names))
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def open_files_limit(host, pid: int) -> tuple[int, int]:
    """(soft, hard) open-file limit of a process, from /proc/<pid>/limits."""
    text = host.file(f"/proc/{pid}/limits").content_string
    match = re.search(r"^Max open files\s+(\d+)\s+(\d+)", text, re.M)
    assert match, f"no 'Max open files' line in /proc/{pid}/limits"
    return int(match.group(1)), int(match.group(2))


def pid1_nofile_hard(host) -> int:
    return open_files_limit(host, 1)[1]


def expected_nofile(host, wanted: int = 65535) -> int:
    """What a unit asking LimitNOFILE=wanted can get: no more than fs.nr_open, and no more
    than PID 1's own hard limit when PID 1 lacks CAP_SYS_RESOURCE (as in a container)."""
    nr_open = int(host.file("/proc/sys/fs/nr_open").content_string)
    status = host.file("/proc/1/status").content_string
    cap_eff = int(re.search(r"^CapEff:\s*([0-9a-f]+)", status, re.M).group(1), 16)
    can_raise = bool(cap_eff >> 24 & 1)
    return min([wanted, nr_open] + ([] if can_raise else [pid1_nofile_hard(host)]))


def exposure(host, unit: str) -> float:
    """The overall exposure `systemd-analyze security` gives a unit (0 best, 10 worst)."""
    out = host.check_output("systemd-analyze security --no-pager %s", unit)
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out)
    assert match, out
    return float(match.group(1))


# Unit settings both locust units must carry (house style: hardened units).
HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectControlGroups": "yes",
    "RestrictNamespaces": "yes",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
    "CapabilityBoundingSet": "",
    "ProtectProc": "invisible",
}


def run_playbook(playbook: str | Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ansible-playbook against Molecule's inventory, as Molecule runs it."""
    env = dict(os.environ)
    env["ANSIBLE_ROLES_PATH"] = str(PROJECT / "roles")
    ephemeral = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
    if (ephemeral / "ansible.cfg").exists():
        env["ANSIBLE_CONFIG"] = str(ephemeral / "ansible.cfg")
    env["ANSIBLE_NOCOLOR"] = "1"
    env.pop("ANSIBLE_FORCE_COLOR", None)
    env.pop("PY_COLORS", None)
    cmd = [
        str(Path(sys.executable).with_name("ansible-playbook")),
        "-i",
        os.environ["MOLECULE_INVENTORY_FILE"],
        str(playbook),
        *args,
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)
    done.stdout = ANSI.sub("", done.stdout)
    return done


def recap(output: str) -> dict[str, dict[str, int]]:
    """PLAY RECAP counters per host: {"worker1": {"ok": 3, "changed": 1, ...}}."""
    result = {}
    for line in output.split("PLAY RECAP", 1)[-1].splitlines():
        match = re.match(r"^(\S+)\s+:\s+(.*)$", line.strip())
        if match:
            result[match.group(1)] = {
                k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(2))
            }
    return result


def scenario_file(name: str) -> Path:
    return Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"]) / name


def host_vars(name: str) -> dict:
    """Inventory variables of one Molecule host (ansible_host, groups, ...)."""
    runner = testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"])
    return runner.get_variables(name)


def host(name: str):
    """A testinfra host for one Molecule host (for tests that involve several hosts)."""
    return testinfra.get_host(
        f"ansible://{name}?ansible_inventory={os.environ['MOLECULE_INVENTORY_FILE']}"
    )


def can_connect(client, address: str, port: int, timeout: int = 3) -> bool:
    """Whether a TCP connection from the client host to address:port succeeds."""
    return client.run("nc -z -w %s %s %s", str(timeout), address, str(port)).rc == 0


def hardening_gaps(props: dict[str, str]) -> dict[str, str]:
    """HARDENING settings a unit lacks: {name: what the unit has instead}."""
    return {
        name: props.get(name, "(unset)")
        for name, value in HARDENING.items()
        if sorted(props.get(name, "(unset)").split()) != sorted(value.split())
    }
