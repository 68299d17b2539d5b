"""The verdict beyond CPU (locust_fleet.limits): a generator that ran out of ports, files,
conntrack entries or memory is named with its figure and fix, and the run exits 4."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from locust_fleet.limits import limits_verdict
from locust_fleet.outcome import ExitCode, decide
from locust_fleet.record.build import merge_cpu_samples
from locust_fleet.results.csvfiles import read_limit_samples
from locust_fleet.results.model import LimitSample
from locust_fleet.saturation import verdict

T0 = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)


def sample(second: int, limit: str, subject: str, used: int, maximum: int, host="lf-worker1"):
    return LimitSample(T0 + timedelta(seconds=second), host, limit, subject, used, maximum)


def test_a_host_out_of_ports_toward_the_target_is_named_with_its_figure_and_fix() -> None:
    samples = [sample(s, "local_ports", "10.213.7.20:80", 9000 * s + 1, 28232) for s in range(4)]
    samples.append(sample(3, "memory", "MemAvailable", 2_000_000, 8_000_000))
    found = limits_verdict(samples)
    assert [p.limit for p in found.bound] == ["local_ports"]
    assert found.summary() == (
        "LIMIT REACHED: lf-worker1 used 27,001 of 28,232 local ports toward 10.213.7.20:80; "
        "widen net.ipv4.ip_local_port_range (locust_tuning_sysctl_overrides) or add worker "
        "hosts. The generator ran out (at 95% or more of the limit): its failures are not the "
        "target's."
    )


def test_a_process_out_of_files_names_the_process() -> None:
    unit = "locust-worker@2.service[4242]"
    found = limits_verdict([sample(1, "open_files", unit, 1024, 1024, host="lf-worker2")])
    assert "lf-worker2 used 1,024 of 1,024 open files in locust-worker@2.service[4242]" in (
        found.summary()
    )
    assert "locust_tuning_nofile" in found.summary()


def test_a_healthy_run_says_what_was_checked_and_the_highest_share_of_each() -> None:
    found = limits_verdict(
        [
            sample(1, "open_files", "locust-worker@1.service[7]", 40, 65535),
            sample(1, "local_ports", "10.213.7.20:80", 300, 28232),
            sample(2, "local_ports", "10.213.7.20:80", 600, 28232, host="lf-worker2"),
            sample(1, "conntrack", "nf_conntrack", 10, 262144),
            sample(1, "memory", "MemAvailable", 800_000, 8_000_000),
        ]
    )
    assert found.bound == ()
    assert found.summary() == (
        "limits checked, highest share of each: conntrack entries 0% (lf-worker1), "
        "local ports 2% (lf-worker2), memory 10% (lf-worker1), open files 0% (lf-worker1)."
    )


def test_a_bound_limit_makes_the_run_saturated_exit_4_even_with_idle_cpu() -> None:
    cpu = verdict([])
    bound = replace(cpu, limits=limits_verdict([sample(1, "conntrack", "nf_conntrack", 99, 100)]))
    assert bound.saturated and not bound.workers_saturated
    assert bound.summary().startswith("LIMIT REACHED: lf-worker1 used 99 of 100 conntrack")
    outcome = decide(None, (), bound, errors=["x"])
    assert outcome.code is ExitCode.ERROR  # no results: an error first, as before
    assert not replace(cpu, limits=limits_verdict([])).saturated


def test_the_hosts_files_merge_into_one_csv_that_reads_back(tmp_path: Path) -> None:
    (tmp_path / "limits").mkdir()
    (tmp_path / "limits" / "limits-lf-worker1.csv").write_text(
        "2026-12-03T18:00:01.000+00:00,lf-worker1,local_ports,10.213.7.20:80,120,28232\n"
    )
    (tmp_path / "limits" / "limits-lf-master.csv").write_text(
        "2026-12-03T18:00:00.500+00:00,lf-master,memory,MemAvailable,100,1000"
    )
    merge_cpu_samples(tmp_path)
    rows = read_limit_samples(tmp_path / "limits_samples.csv")
    assert [(r.host, r.limit, r.used, r.maximum) for r in rows] == [
        ("lf-master", "memory", 100, 1000),
        ("lf-worker1", "local_ports", 120, 28232),
    ]


def test_a_full_link_binds_while_host_cpu_run_queue_and_retransmits_are_only_reported() -> None:
    found = limits_verdict(
        [
            sample(1, "link", "eth0", 1_200_000_000, 1_250_000_000),
            sample(1, "host_cpu", "all cores", 1000, 1000),
            sample(1, "run_queue", "procs_running", 9, 2),
            sample(1, "retransmits", "tcp", 90, 100),
        ]
    )
    assert [p.limit for p in found.bound] == ["link"]
    assert "lf-worker1 used 1,200,000,000 of 1,250,000,000 bytes a second of its link's" in (
        found.summary()
    )
    quiet = limits_verdict([sample(1, "host_cpu", "all cores", 1000, 1000)])
    assert quiet.bound == () and "host CPU 100% (lf-worker1)" in quiet.summary()
