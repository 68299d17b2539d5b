"""The master's run claim as the module fleet.locust.locust_run_claim does it, on a claim file
of its own; the master unit's state is given by the test (systemd is not asked)."""

from __future__ import annotations

import importlib.util
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "fleet_locust_run_claim", REPO / "collection/plugins/modules/locust_run_claim.py"
)
claim_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(claim_module)


@pytest.fixture
def claim_file(tmp_path: Path) -> Path:
    return tmp_path / "run" / "claim.json"


@pytest.fixture(autouse=True)
def master(monkeypatch: pytest.MonkeyPatch) -> dict:
    """The master unit: inactive and never started, unless a test says otherwise."""
    state = {"active": False, "entered": None}
    monkeypatch.setattr(
        claim_module, "master_state", lambda unit: (state["active"], state["entered"])
    )
    return state


def params(claim_file: Path, action: str, **options) -> dict:
    return {
        "action": action,
        "run_id": None,
        "by": "",
        "hold_seconds": None,
        "grace": 300.0,
        "any": None,
        "path": str(claim_file),
        "unit": "locust-master.service",
        **options,
    }


def claim(claim_file: Path, run_id: str, *, hold: float = 600, grace: float = 300) -> dict:
    return claim_module.run_claim(
        params(
            claim_file, "claim", run_id=run_id, by="ops@controller", hold_seconds=hold, grace=grace
        )
    )


def release(claim_file: Path, run_id: str | None = None, *, any_holder: bool = False) -> dict:
    return claim_module.run_claim(params(claim_file, "release", run_id=run_id, any=any_holder))


def run_main(args: dict, capsys: pytest.CaptureFixture) -> dict:
    with patch_module_args(args), pytest.raises(SystemExit):
        claim_module.main()
    return json.loads(capsys.readouterr().out)


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
    assert release(claim_file, "run-b") == {"released": False}
    assert release(claim_file, "run-a")["released"]
    assert claim(claim_file, "run-b")["claimed"]


def test_release_any_frees_whoever_holds_it(claim_file: Path) -> None:
    claim(claim_file, "run-a")
    assert release(claim_file, any_holder=True) == {"released": True, "run_id": "run-a"}
    assert release(claim_file, any_holder=True) == {"released": False}


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
    assert json.loads(claim_file.read_text())["run_id"] == winners[0]


def test_a_claim_past_its_deadline_is_taken_over(claim_file: Path) -> None:
    claim(claim_file, "run-a", hold=-1)
    second = claim(claim_file, "run-b")
    assert second["claimed"]
    assert second["stale"]["run_id"] == "run-a"


def test_the_deadline_is_the_hosts_clock_plus_the_hold(claim_file: Path) -> None:
    before = time.time()
    holder = claim(claim_file, "run-a", hold=600)["holder"]
    assert before + 600 <= holder["deadline"] <= time.time() + 600
    assert holder["claimed_at"] == pytest.approx(holder["deadline"] - 600)


def test_a_claim_whose_master_never_started_holds_only_for_the_grace(claim_file: Path) -> None:
    claim(claim_file, "run-a")
    assert not claim(claim_file, "run-b", grace=300)["claimed"]
    assert claim(claim_file, "run-b", grace=0)["claimed"]


def test_a_claim_whose_master_is_running_holds_past_the_grace(
    claim_file: Path, master: dict
) -> None:
    claim(claim_file, "run-a")
    master["active"] = True
    assert not claim(claim_file, "run-b", grace=0)["claimed"]


def test_a_claim_whose_master_ran_and_ended_since_is_stale(claim_file: Path, master: dict) -> None:
    claim(claim_file, "run-a")
    master["entered"] = time.monotonic() + 1  # the master became active after the claim
    second = claim(claim_file, "run-b", grace=300)
    assert second["claimed"] and second["stale"]["run_id"] == "run-a"


def test_a_claim_from_before_the_last_boot_is_stale(claim_file: Path) -> None:
    claim(claim_file, "run-a")
    holder = json.loads(claim_file.read_text())
    claim_file.write_text(json.dumps({**holder, "boot_id": "another-boot"}))
    assert claim(claim_file, "run-b")["claimed"]


def test_a_torn_claim_file_holds_nothing(claim_file: Path) -> None:
    claim_file.parent.mkdir(parents=True)
    claim_file.write_text('{"run_id": "run-a", "dead')
    assert claim(claim_file, "run-b")["claimed"]


def test_claim_without_a_run_id_is_a_usage_error(claim_file: Path, capsys) -> None:
    result = run_main({"action": "claim", "path": str(claim_file)}, capsys)
    assert result["failed"]
    assert "run_id" in result["msg"] and "hold_seconds" in result["msg"]
    result = run_main(
        {"action": "claim", "run_id": "", "hold_seconds": 60, "path": str(claim_file)}, capsys
    )
    assert result["failed"]
    assert result["msg"] == "claim needs run_id and hold_seconds"
    assert not claim_file.exists()


def test_release_without_a_run_id_or_any_is_a_usage_error(claim_file: Path, capsys) -> None:
    result = run_main({"action": "release", "path": str(claim_file)}, capsys)
    assert result["failed"] and "run_id" in result["msg"]
    result = run_main({"action": "release", "any": False, "path": str(claim_file)}, capsys)
    assert result["failed"] and result["msg"] == "release needs run_id or any"


def test_the_module_reports_a_change_only_when_it_claimed_or_released(
    claim_file: Path, capsys
) -> None:
    args = {"action": "claim", "run_id": "run-a", "hold_seconds": 600, "path": str(claim_file)}
    first = run_main(args, capsys)
    assert first["changed"] and first["claimed"]
    refused = run_main({**args, "run_id": "run-b"}, capsys)
    assert not refused["changed"] and not refused["claimed"]
    assert refused["holder"]["run_id"] == "run-a"
    gone = run_main({"action": "release", "run_id": "run-a", "path": str(claim_file)}, capsys)
    assert gone["changed"] and gone["released"] and gone["run_id"] == "run-a"
    again = run_main({"action": "release", "run_id": "run-a", "path": str(claim_file)}, capsys)
    assert not again["changed"] and not again["released"]


def test_check_mode_says_what_would_happen_and_writes_nothing(claim_file: Path, capsys) -> None:
    args = {
        "action": "claim",
        "run_id": "run-a",
        "hold_seconds": 600,
        "path": str(claim_file),
        "_ansible_check_mode": True,
    }
    result = run_main(args, capsys)
    assert result["changed"] and result["claimed"]
    assert not claim_file.exists()
    claim(claim_file, "run-b")
    result = run_main(args, capsys)
    assert not result["claimed"] and result["holder"]["run_id"] == "run-b"
    result = run_main(
        {"action": "release", "any": True, "path": str(claim_file), "_ansible_check_mode": True},
        capsys,
    )
    assert result["released"] and result["run_id"] == "run-b"
    assert json.loads(claim_file.read_text())["run_id"] == "run-b"
