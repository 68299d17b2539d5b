"""RESULTS.md from recorded bench data: ratios, scaling efficiency, search outcome, merge."""

from __future__ import annotations

from locust_fleet.bench import report
from locust_fleet.bench.main import _merge


def _run(rps: float, requests: int, cpu_s: float, **extra: object) -> dict:
    return {
        "command": f"locust-fleet run ... # {rps}",
        "rps": rps,
        "requests": requests,
        "worker_cpu_s": cpu_s,
        "req_per_cpu_s": requests / cpu_s,
        "wall_s": 70.0,
        "run_s": 10,
        "run_dir": "bench/runs/x",
        "error": "",
        "saturated": False,
        "saturation": "not saturated",
        "worker_mean": 50.0,
        "worker_peak": 60.0,
        "host_busy": 90.0,
        **extra,
    }


def _data() -> dict:
    fast = [_run(1000, 10000, 2.0), _run(1100, 11000, 2.0), _run(900, 9000, 2.0)]
    return {
        "config": {
            "quick": False,
            "reps": 3,
            "users_per_process": 10,
            "wrk_connections": 50,
            "hold_s": 60,
            "search_processes": 2,
            "search": {
                "start": 16000,
                "cap": 32000,
                "factor": 2,
                "resolution": 8000,
                "max_steps": 2,
            },
        },
        "started_at": "2026-11-28T14:00:00+00:00",
        "machine": {"cpus": 2, "kernel": "k", "loadavg_at_start": [1, 1, 1]},
        "runtime_s": 600,
        "workdir": "bench/runs/x",
        "sections": {
            "efficiency": {
                "http": [_run(400, 4000, 4.0)] * 3,
                "fast": fast,
                "wrk": [
                    {
                        "command": "wrk -t1",
                        "requests_per_s": 50000,
                        "cpu_s": 5.0,
                        "req_per_cpu_s": 100000.0,
                    }
                ]
                * 3,
            },
            "scaling": {
                "rows": {
                    "1": fast,
                    "2": [_run(1600, 16000, 4.0)] * 3,
                    "4": [_run(2000, 20000, 5.0)] * 3,
                }
            },
            "concurrency": {
                "tuned": {
                    "best": 16000,
                    "first_fail": 32000,
                    "steps": [
                        {
                            **_run(200, 16000, 20.0),
                            "users": 16000,
                            "spawn_rate": 534,
                            "held": True,
                            "reason": "held",
                            "failures": 0,
                        },
                        {
                            **_run(300, 30000, 20.0),
                            "users": 32000,
                            "spawn_rate": 1067,
                            "held": False,
                            "failures": 12,
                            "reason": "12 of 30000 requests failed (open-file limit)",
                        },
                    ],
                },
            },
        },
    }


def test_ratios_and_scaling_efficiency_are_rendered() -> None:
    text = report.render(_data())
    assert "**FastHttpUser / HttpUser = 5.00x; FastHttpUser / wrk = 0.05x" in text
    assert "| 2 | **1,600** |" in text and "0.80x" in text  # 1600 / (2 x 1000)
    assert "| 4 | **2,000** |" in text and "0.50x" in text
    assert "| largest users held | **16,000** |" in text
    assert "open-file limit" in text


def test_missing_sections_say_so_instead_of_failing() -> None:
    data = _data()
    data["sections"] = {}
    text = report.render(data)
    assert text.count("_not measured in this bench run_") >= 3


def test_merge_keeps_earlier_sections_and_replaces_one_level_down() -> None:
    old = {"orchestration": {"cold": [1]}, "concurrency": {"tuned": "a", "untuned": "broken"}}
    new = {"concurrency": {"untuned": "fixed"}}
    assert _merge(old, new) == {
        "orchestration": {"cold": [1]},
        "concurrency": {"tuned": "a", "untuned": "fixed"},
    }


def test_the_run_overhead_is_the_median_of_the_orchestration_sections_own_runs() -> None:
    data = _data()
    own = [_run(10, 100, 1.0, wall_s=w) for w in (17.5, 18.0, 30.0, 18.5, 19.0)]
    site = {"command": "ansible-playbook site.yml", "wall_s": 12.0, "changed": 0}
    data["sections"]["orchestration"] = {
        "cold": [site],
        "no_change": [site],
        "runs": own,
        "worker_hosts": 2,
    }
    lines, figures = report.orchestration(data)
    assert figures["run_overhead"] == 8.5  # 18.5 - 10: the outlier does not move the median
    text = "\n".join(lines)
    assert (
        "| `locust-fleet run` overhead (wall minus run time; 4 hosts, plan deployed, 5 runs" in text
    )
    assert "**8.5 s** | 7.5, 8.0, 20.0, 8.5, 9.0 |" in text
    assert "fresh sandbox: 1 master, 2 worker host(s)" in text
