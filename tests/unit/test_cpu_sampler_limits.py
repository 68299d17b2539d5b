"""The host sampler's limit rows, read from this machine's own /proc (the script runs on the
hosts' system Python; here it is loaded as a module)."""

from __future__ import annotations

import importlib.util
import os
import socket
from pathlib import Path

SAMPLER = Path(__file__).resolve().parents[2] / "roles/locust_common/files/locust-cpu-sampler.py"


def _sampler():
    spec = importlib.util.spec_from_file_location("locust_cpu_sampler", SAMPLER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_open_files_resident_memory_and_the_kernels_connect_counts() -> None:
    sampler = _sampler()
    me = {os.getpid(): ("worker", "locust-worker@1.service")}
    state: dict = {}
    sampler.limit_rows(me, state, now=0.0)
    held = [socket.socket() for _ in range(5)]  # five more descriptors
    try:
        refused = socket.socket()
        refused.settimeout(2)
        with socket.socket() as closed:  # a port nobody listens on: a failed connect
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        assert refused.connect_ex(("127.0.0.1", port)) != 0
        refused.close()
        rows = {(r[0], r[1]): r for r in sampler.limit_rows(me, state, now=1.0)}
        files = rows[("open_files", f"locust-worker@1.service[{os.getpid()}]")]
        assert files[2] == len(os.listdir("/proc/self/fd")) - 1  # listdir's own descriptor
        assert files[3] > 0  # the soft limit
        rss = rows[("process_memory", f"locust-worker@1.service[{os.getpid()}]")]
        assert 1000 < rss[2] < rss[3]  # kB resident, below the machine's total
        failed, opened = rows[("connect_failures", "tcp")][2:]
        assert failed >= 1  # the refused connect, seen by the kernel
        assert opened >= sampler.CONNECT_FLOOR  # one refused connect is not a 100% share
    finally:
        for s in held:
            s.close()


def test_the_port_scan_waits_for_its_budget_once_it_is_slow(monkeypatch) -> None:
    sampler = _sampler()
    clock = iter([100.0, 100.5, 101.0, 102.0])  # the scan took 0.5 s
    monkeypatch.setattr(sampler.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(sampler, "sockets_by_destination", lambda low, high: {"10.0.0.1:80": 3})
    state: dict = {"counters": None}
    monkeypatch.setattr(sampler, "rates", lambda state, now: [])
    first = [r for r in sampler.limit_rows({}, state, now=100.0) if r[0] == "local_ports"]
    assert first and state["next_port_scan"] == 100.0 + 0.5 / sampler.PORT_SCAN_BUDGET
    again = [r for r in sampler.limit_rows({}, state, now=101.0) if r[0] == "local_ports"]
    assert again == []  # 50 s before the next scan
