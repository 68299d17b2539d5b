"""Does a run's user count fit the fleet? Decided before anything starts, from what each worker
host's fleet.locust.locust_host_facts returned.

Locust hands a headless run's users out evenly over the worker processes, and each user of an
HTTP plan holds one connection: one open file in its process, and one local port of its host
toward the target. So a run of U users over P processes needs about U/P open files per process
(plus the process's own) and U/P times the host's processes local ports per host. A run that
cannot fit would fail with EMFILE or EADDRNOTAVAIL, and its failures would read as the target's.

A run that fits but takes more than half a host's port range toward the target gets a caution
(locust_sizing_cautions): from there on, the kernel's connect() tries every even port of the
range before an odd one, so each new connection scans the ports in use. On the sandbox, a ramp
to 33,000 connections per host spent 40% of the machine's CPU in connect(); at 25,000 (45% of
the range) connect() did not show in the profile.
"""

from __future__ import annotations

import math

# Descriptors a worker process holds besides its users' connections (Python, gevent, ZeroMQ,
# its log and plan files; about 15 when idle, measured on the sandbox), with room to spare.
PROCESS_BASELINE_FILES = 50


def locust_sizing_problems(hosts: dict, users) -> list[str]:
    """Problems (empty when the run fits). ``hosts``: worker host -> its host facts
    (worker_instances, workers_nofile, local_port_range)."""
    users = int(users or 0)
    processes = {h: list(f.get("worker_instances") or []) for h, f in hosts.items()}
    total = sum(len(units) for units in processes.values())
    if users <= 0 or total == 0:
        return []
    per_process = math.ceil(users / total)
    problems = []
    limits = [
        n
        for host, facts in hosts.items()
        for unit, n in (facts.get("workers_nofile") or {}).items()
        if unit in processes[host] and n
    ]
    if limits:
        smallest = min(limits)
        room = smallest - PROCESS_BASELINE_FILES
        if per_process > room:
            needed = math.ceil(users / max(room, 1))
            problems.append(
                f"{users} users need at least {needed} worker processes at {smallest} open files "
                f"each ({per_process} users per process now, and {PROCESS_BASELINE_FILES} files "
                f"for the process itself); the fleet has {total}: set locust_worker_processes "
                "or add hosts, or raise the open-file limit (locust_tuning_nofile)"
            )
    for host, (on_host, count, low, high) in _users_per_host(hosts, users).items():
        size = high - low + 1
        if on_host > size:
            problems.append(
                f"{host}: {on_host} users on its {count} worker processes need "
                f"{on_host} local ports toward the target; its range "
                f"net.ipv4.ip_local_port_range ({low}-{high}) has {size}: widen it "
                "(locust_tuning_sysctl_overrides) or add worker hosts"
            )
    return problems


def _users_per_host(hosts: dict, users: int) -> dict[str, tuple[int, int, int, int]]:
    """host -> (users on it, its worker processes, lowest port, highest port)."""
    processes = {h: len(f.get("worker_instances") or []) for h, f in hosts.items()}
    total = sum(processes.values())
    if users <= 0 or total == 0:
        return {}
    per_process = math.ceil(users / total)
    found = {}
    for host, facts in sorted(hosts.items()):
        ports = facts.get("local_port_range")
        if ports and processes[host]:
            found[host] = (
                per_process * processes[host],
                processes[host],
                int(ports[0]),
                int(ports[1]),
            )
    return found


def locust_sizing_cautions(hosts: dict, users) -> list[str]:
    """Cautions for a run that fits but takes more than half a host's port range toward the
    target (see the module's docstring); empty otherwise."""
    cautions = []
    for host, (on_host, _n, low, high) in _users_per_host(hosts, int(users or 0)).items():
        size = high - low + 1
        if size // 2 < on_host <= size:
            cautions.append(
                f"{host}: {on_host} users take {on_host / size:.0%} of its local port range "
                f"({low}-{high}) toward the target; above half of it the kernel's connect() "
                "scans the ports in use for each new connection, and the ramp costs the "
                f"generator CPU: keep it under {size // 2} per host (add worker hosts, or "
                "widen net.ipv4.ip_local_port_range with locust_tuning_sysctl_overrides)"
            )
    return cautions


class FilterModule:
    def filters(self):
        return {
            "locust_sizing_problems": locust_sizing_problems,
            "locust_sizing_cautions": locust_sizing_cautions,
        }
