"""`locust-fleet size` on the sandbox: a short calibration run of a real plan, and what
100,000 of its users would need, from the fleet's own measurements."""

from __future__ import annotations

import re

from .sandbox_hosts import cli, flat


def test_size_measures_the_plan_and_projects_the_users_asked(fleet, tmp_path):
    done = cli(
        "size", "-i", str(fleet.inventory), "--plan", "locustfiles/website", "-u", "100000",
        "--calibrate-users", "10", "--calibrate-time", "8s", "--results", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    said = flat(done.stdout)
    measured = re.search(
        r"measured with 10 users: ([\d.]+) requests/s per user, ([\d.]+) ms of worker CPU per "
        r"request, ([\d,]+) kB per user, ([\d.]+) open files per user",
        said,
    )
    assert measured, said
    assert 0.3 < float(measured.group(1)) < 1.5  # the plan waits 1-2 s between requests
    assert float(measured.group(2)) > 0
    projected = re.search(
        r"100,000 users: about ([\d,]+) requests/s .* they need (\d+) worker processes .* on "
        r"(\d+) worker host\(s\) of (\d+) cores \(at least (\d+) to keep each under half its "
        r"([\d,]+) local ports toward the target\), ([\d.,]+) GB of memory",
        said,
    )
    assert projected, said
    assert int(projected.group(2)) >= 6  # 20,000 open files a process at most on the sandbox
    # About a connection a user: 100,000 over half of a host's range (10240-65535) each.
    assert projected.group(6) == "55,296" and int(projected.group(5)) >= 4
    assert int(projected.group(3)) >= int(projected.group(5))
    assert "calibration run: " in done.stderr


def test_size_refuses_a_user_count_that_is_not_one(fleet, tmp_path):
    done = cli("size", "-i", str(fleet.inventory), "--plan", "locustfiles/website", "-u", "0")
    assert done.returncode == 2
    assert "-u '0' must be a whole number above 0" in flat(done.stderr)
