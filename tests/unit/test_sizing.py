"""The sizing preflight (collection filter locust_sizing_problems): a run whose users cannot fit
the worker processes' open files or a host's local ports is refused with the numbers and fix."""

from __future__ import annotations

import importlib

sizing = importlib.import_module("ansible_collections.fleet.locust.plugins.filter.locust_sizing")

UNITS = ["locust-worker@1.service", "locust-worker@2.service"]


def host(nofile=20000, ports=(10240, 65535), units=UNITS) -> dict:
    return {
        "worker_instances": units,
        "workers_nofile": dict.fromkeys(units, nofile),
        "local_port_range": list(ports),
    }


def test_users_beyond_the_open_files_of_the_processes_name_the_processes_needed() -> None:
    hosts = {"w1": host(), "w2": host()}
    assert sizing.locust_sizing_problems(hosts, 100000) == [
        "100000 users need at least 6 worker processes at 20000 open files each (25000 users "
        "per process now, and 50 files for the process itself); the fleet has 4: set "
        "locust_worker_processes or add hosts, or raise the open-file limit (locust_tuning_nofile)"
    ]
    assert sizing.locust_sizing_problems(hosts, 79800) == []  # 19950 per process fits


def test_users_beyond_a_hosts_port_range_name_the_host_and_its_range() -> None:
    hosts = {"w1": host(ports=(60000, 60039)), "w2": host()}
    (problem,) = sizing.locust_sizing_problems(hosts, 400)
    assert problem.startswith("w1: 200 users on its 2 worker processes need 200 local ports")
    assert "(60000-60039) has 40: widen it" in problem


def test_nothing_to_size_without_users_or_processes() -> None:
    assert sizing.locust_sizing_problems({"w1": host()}, 0) == []
    assert sizing.locust_sizing_problems({"w1": host(units=[])}, 100) == []


def test_more_than_half_a_hosts_port_range_is_a_caution_not_a_refusal() -> None:
    # 4 hosts x 2 processes: 25,000 users a host, 45% of 10240-65535: no caution.
    four = {f"w{i}": host() for i in range(1, 5)}
    assert sizing.locust_sizing_cautions(four, 100000) == []
    # 3 hosts: 33,334 a host, 60% of the range: it fits, with a caution naming the figure.
    three = {f"w{i}": host() for i in range(1, 4)}
    assert sizing.locust_sizing_problems(three, 100000) == []
    cautions = sizing.locust_sizing_cautions(three, 100000)
    assert len(cautions) == 3
    assert cautions[0].startswith("w1: 33334 users take 60% of its local port range (10240-65535)")
    assert "keep it under 27648 per host" in cautions[0]
    # Beyond the whole range it is a refusal (locust_sizing_problems), not a caution.
    assert sizing.locust_sizing_cautions({"w1": host(ports=(60000, 60039))}, 100) == []
