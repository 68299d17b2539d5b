"""The master's run claim (roles/locust_run/files/locust-run-claim.py), run as the hosts run it,
on a claim file of its own; the master unit is one this machine does not have (never active)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "roles/locust_run/files/locust-run-claim.py"
UNIT = "locust-fleet-unit-test-never-there.service"


@pytest.fixture
def claim_file(tmp_path: Path) -> Path:
    return tmp_path / "run" / "claim.json"


def call(claim_file: Path, *args: str) -> dict:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), *args, f"--path={claim_file}", f"--unit={UNIT}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def claim(claim_file: Path, run_id: str, *, deadline_in: float = 600, grace: float = 300) -> dict:
    return call(
        claim_file,
        "claim",
        f"--run-id={run_id}",
        "--by=ops@controller",
        f"--deadline={time.time() + deadline_in}",
        f"--grace={grace}",
    )


def test_a_second_run_is_refused_and_told_who_holds_the_fleet(claim_file: Path) -> None:
    first = claim(claim_file, "run-a")
    assert first["claimed"] and first["stale"] is None
    second = claim(claim_file, "run-b")
    assert not second["claimed"]
    assert second["holder"]["run_id"] == "run-a"
    assert second["holder"]["by"] == "ops@controller"


def test_release_by_another_run_does_nothing_then_the_holder_gives_it_back(
    claim_file: Path,
) -> None:
    claim(claim_file, "run-a")
    assert call(claim_file, "release", "--run-id=run-b") == {"released": False}
    assert call(claim_file, "release", "--run-id=run-a")["released"]
    assert claim(claim_file, "run-b")["claimed"]


def test_release_any_frees_whoever_holds_it(claim_file: Path) -> None:
    claim(claim_file, "run-a")
    assert call(claim_file, "release", "--any") == {"released": True, "run_id": "run-a"}
    assert call(claim_file, "release", "--any") == {"released": False}


def test_the_same_run_may_claim_again(claim_file: Path) -> None:
    claim(claim_file, "run-a")
    assert claim(claim_file, "run-a")["claimed"]


def test_of_many_runs_claiming_at_once_exactly_one_wins(claim_file: Path) -> None:
    claim_file.parent.mkdir(parents=True)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: claim(claim_file, f"run-{i}"), range(8)))
    winners = [r["holder"]["run_id"] for r in results if r["claimed"]]
    assert len(winners) == 1
    assert all(r["holder"]["run_id"] == winners[0] for r in results)


def test_a_claim_past_its_deadline_is_taken_over(claim_file: Path) -> None:
    claim(claim_file, "run-a", deadline_in=-1)
    second = claim(claim_file, "run-b")
    assert second["claimed"]
    assert second["stale"]["run_id"] == "run-a"


def test_a_claim_whose_master_never_started_holds_only_for_the_grace(claim_file: Path) -> None:
    claim(claim_file, "run-a")
    assert not claim(claim_file, "run-b", grace=300)["claimed"]
    assert claim(claim_file, "run-b", grace=0)["claimed"]


def test_a_claim_from_before_the_last_boot_is_stale(claim_file: Path) -> None:
    claim(claim_file, "run-a")
    holder = json.loads(claim_file.read_text())
    claim_file.write_text(json.dumps({**holder, "boot_id": "another-boot"}))
    assert claim(claim_file, "run-b")["claimed"]


def test_a_torn_claim_file_holds_nothing(claim_file: Path) -> None:
    claim_file.parent.mkdir(parents=True)
    claim_file.write_text('{"run_id": "run-a", "dead')
    assert claim(claim_file, "run-b")["claimed"]


def test_claim_without_a_run_id_is_a_usage_error(claim_file: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "claim", f"--path={claim_file}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "claim needs --run-id and --deadline" in proc.stderr
