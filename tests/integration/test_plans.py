"""Plans beyond plain HTTP on the real sandbox fleet, each judged as a user would see it."""

from __future__ import annotations

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
