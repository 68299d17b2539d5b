"""Plans beyond plain HTTP on the real sandbox fleet, each judged as a user would see it."""

from __future__ import annotations

import json
from pathlib import Path

from .sandbox_hosts import flat

PLANS = Path(__file__).parent / "plans"


def test_a_run_without_requests_fails_with_exit_3_unless_allowed(fleet, tmp_path):
    plan = str(PLANS / "messages_only")
    # A 5 s run on a just-booted 2-core sandbox may see a worker saturated at start; that
    # verdict (exit 4) would outrank the one under test.
    refused = fleet.run(
        tmp_path / "refused", "--allow-saturated", plan=plan, users="2", run_time="5s"
    )
    assert refused.returncode == 3, refused.stdout[-3000:] + refused.stderr[-3000:]
    said = flat(refused.stdout + refused.stderr)
    assert "No requests were made" in said and "--allow-no-requests" in said
    (run_dir,) = (tmp_path / "refused").iterdir()
    assert "No requests were made" in (run_dir / "summary.md").read_text()
    assert 'type="NoRequests"' in (run_dir / "junit.xml").read_text()
    # The plan's custom messages went from the workers to the master all the same.
    master = fleet.role("master")[0]["name"]
    assert "hello from" in (run_dir / "journals" / f"{master}.log").read_text()

    allowed = fleet.run(
        tmp_path / "allowed",
        "--allow-no-requests",
        "--allow-saturated",
        plan=plan,
        users="2",
        run_time="5s",
    )
    assert allowed.returncode == 0, allowed.stdout[-3000:] + allowed.stderr[-3000:]
    assert "allowed by --allow-no-requests" in flat(allowed.stdout + allowed.stderr)


def _only_run(results: Path) -> tuple[Path, dict]:
    (run_dir,) = results.iterdir()
    return run_dir, json.loads((run_dir / "run.json").read_text())


def test_a_shape_longer_than_the_run_time_is_cut_there_and_reported_as_it_ran(fleet, tmp_path):
    # Three stages of 8 s (2, 6, 4 users): 24 s of shape, bounded by -t 12s. Plain Locust
    # would ignore -t and run the whole shape; the fleet ends it at -t, cleanly.
    done = fleet.run(
        tmp_path / "cut",
        "--arg", "stage-seconds=8", "--allow-saturated",
        plan=str(PLANS / "staged"), users="1", rate="1", run_time="12s",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    run_dir, record = _only_run(tmp_path / "cut")
    shape = record["shape"]
    assert shape["name"] == "ThreeStages" and shape["cut_by_run_time"] is True
    assert shape["peak_users"] == 6, shape  # the second stage ran; -u 1 did not
    assert 10 <= shape["seconds"] <= 16, shape
    assert record["master_exit_code"] == 0 and record["error"] == ""
    summary = (run_dir / "summary.md").read_text()
    assert "Load shape `ThreeStages` drove the run: up to 6 users" in summary
    assert "cut at the run time 12s" in summary and "-u and -r were not used" in summary
    assert "1 users at 1/s" not in summary
    assert "(shape ThreeStages)" in flat(done.stdout + done.stderr)


def test_a_shape_shorter_than_the_run_time_ends_the_run_by_itself(fleet, tmp_path):
    done = fleet.run(
        tmp_path / "whole",
        "--arg", "stage-seconds=3", "--allow-saturated",
        plan=str(PLANS / "staged"), users="1", rate="1", run_time="60s",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    run_dir, record = _only_run(tmp_path / "whole")
    shape = record["shape"]
    assert shape["cut_by_run_time"] is False and shape["peak_users"] == 6, shape
    assert shape["seconds"] <= 15, shape  # 9 s of shape, not the 60 s of -t
    summary = (run_dir / "summary.md").read_text()
    assert "ended by the shape itself, within the run time 60s" in summary


def _requests(run_dir: Path) -> dict[str, int]:
    import csv

    with (run_dir / "locust_stats.csv").open() as handle:
        return {row["Name"]: int(row["Request Count"]) for row in csv.DictReader(handle)}


def test_a_plan_using_what_real_plans_use_runs_as_plain_locust_runs_it(fleet, tmp_path):
    # 9 users: one Admin (fixed_count), the other 8 split 3:1 into 6 Browsers and 2 Buyers.
    done = fleet.run(
        tmp_path / "features",
        "--arg", "catalogue=large", "--arg", "shop-name=fleet",
        "--exclude-tag", "slow", "--allow-saturated",
        plan=str(PLANS / "features"), users="9", rate="9", run_time="10s",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (run_dir,) = (tmp_path / "features").iterdir()
    counts = _requests(run_dir)
    assert counts.get("login") == 6 and counts.get("admin login") == 1, counts
    assert counts.get("catalogue:large", 0) > 0 and "catalogue:small" not in counts, counts
    assert "slow" not in counts and counts.get("buy", 0) > 0, counts
    assert counts.get("product", 0) > 0, counts
    master = fleet.role("master")[0]["name"]
    journal = (run_dir / "journals" / f"{master}.log").read_text()
    assert "took 100 ids, disjoint and complete: True" in journal, journal[-2000:]
    hooked = int(journal.split("request hook counted ")[1].split()[0])
    assert abs(hooked - counts["Aggregated"]) <= 0.05 * counts["Aggregated"] + 5, (hooked, counts)


def test_a_plan_with_a_requirements_txt_runs_with_its_package_on_every_worker(fleet, tmp_path):
    done = fleet.run(
        tmp_path / "req", "--allow-saturated",
        plan=str(PLANS / "with_requirements"), users="4", rate="4", run_time="6s",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (run_dir,) = (tmp_path / "req").iterdir()
    counts = _requests(run_dir)
    assert counts.get("Home Page", 0) > 0 and counts.get("About Us", 0) > 0, counts


def test_a_plan_that_cannot_start_on_the_workers_is_given_up_on_and_named(fleet, tmp_path):
    proc = fleet.run(tmp_path, plan=str(PLANS / "fails_on_workers"), users="2", run_time="5s")
    said = flat(proc.stdout + proc.stderr)
    assert proc.returncode == 2, said[-3000:]
    worker = fleet.role("worker")[0]["name"]
    assert f"{worker}: locust-worker@1.service could not start and systemd gave up on it" in said, (
        said[-3000:]
    )
    assert "ImportError: cannot import name 'only_on_the_controller'" in said
    assert f"journals/{worker}.log" in said
    # Given up, not restarting forever; the next run starts them again (reset-failed).
    state = fleet.ssh(worker, "systemctl is-failed locust-worker@1.service", check=False)
    assert state.stdout.strip() == "failed", state.stdout
    after = fleet.run(tmp_path / "after", "--allow-saturated", users="2", run_time="3s")
    assert after.returncode == 0, after.stdout[-3000:] + after.stderr[-2000:]
