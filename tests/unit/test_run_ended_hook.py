"""The master's ExecStopPost hook (roles/locust_master/files/locust-run-ended.py)
marks the current run ended in its state file, keeps every other key, gives back
the fleet's claim when the run holds it, follows no link and never fails the unit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

HOOK = (
    Path(__file__).resolve().parents[2]
    / "roles"
    / "locust_master"
    / "files"
    / "locust-run-ended.py"
)
RUN_ID = "20261201T220000Z-k3v9qa"


def state(**changes: object) -> dict:
    base = {
        "schema": 1,
        "run_id": RUN_ID,
        "phase": "running",
        "mode": "headless",
        "spec": {"users": 4, "run_time": "10s"},
        "manifest_sha256": "9be1" * 16,
        "expected_workers": 4,
        "worker_processes": {"w1": 2, "w2": 2},
        "controller": "me@laptop",
        "created": 1764626400.0,
        "started": 1764626401.5,
        "ended": None,
        "exit": None,
        "sampler_unit": f"locust-cpu-sampler-{RUN_ID}",
        "run_dir": f"/var/lib/locust/runs/{RUN_ID}",
        "deadline": 1764626500.0,
        "boot_id": "0f3c",
    }
    base.update(changes)
    return base


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "state"
    folder.mkdir()
    (folder / "current").write_text(RUN_ID + "\n")
    (folder / f"{RUN_ID}.json").write_text(json.dumps(state()))
    return folder


def run_hook(state_dir: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in ("EXIT_CODE", "EXIT_STATUS", "SERVICE_RESULT")
    }
    environ.update(env)
    return subprocess.run(
        [
            sys.executable,
            str(HOOK),
            f"--state-dir={state_dir}",
            f"--claim-file={claim_file(state_dir)}",
        ],
        env=environ,
        capture_output=True,
        text=True,
        timeout=30,
    )


def claim_file(state_dir: Path) -> Path:
    return state_dir.parent / "claim.json"


def load(state_dir: Path) -> dict:
    return json.loads((state_dir / f"{RUN_ID}.json").read_text())


def test_a_running_run_is_marked_ended_with_the_units_exit(state_dir):
    before = time.time()
    done = run_hook(state_dir, EXIT_CODE="exited", EXIT_STATUS="0", SERVICE_RESULT="success")
    assert done.returncode == 0, done.stderr
    after = load(state_dir)
    assert after["phase"] == "ended"
    assert before <= after["ended"] <= time.time()
    assert after["exit"] == {"code": "exited", "status": 0, "result": "success"}
    unchanged = {k: v for k, v in after.items() if k not in ("phase", "ended", "exit")}
    assert unchanged == {k: v for k, v in state().items() if k not in ("phase", "ended", "exit")}
    assert len(done.stderr.strip().splitlines()) == 1
    # The replacement left no temp file behind and kept the file's mode.
    assert sorted(p.name for p in state_dir.iterdir()) == sorted(["current", f"{RUN_ID}.json"])


def test_a_killed_master_keeps_the_signal_name(state_dir):
    done = run_hook(state_dir, EXIT_CODE="killed", EXIT_STATUS="KILL", SERVICE_RESULT="signal")
    assert done.returncode == 0, done.stderr
    assert load(state_dir)["exit"] == {"code": "killed", "status": "KILL", "result": "signal"}


def test_missing_systemd_variables_are_null(state_dir):
    done = run_hook(state_dir)
    assert done.returncode == 0, done.stderr
    assert load(state_dir)["exit"] == {"code": None, "status": None, "result": None}


def test_the_file_mode_is_kept(state_dir):
    (state_dir / f"{RUN_ID}.json").chmod(0o640)
    assert run_hook(state_dir, EXIT_CODE="exited", EXIT_STATUS="1").returncode == 0
    assert (state_dir / f"{RUN_ID}.json").stat().st_mode & 0o777 == 0o640
    assert load(state_dir)["phase"] == "ended"


def test_an_ended_run_is_left_as_it_is(state_dir):
    ended = state(phase="ended", ended=123.0, exit={"code": "exited", "status": 2, "result": "x"})
    (state_dir / f"{RUN_ID}.json").write_text(json.dumps(ended))
    done = run_hook(state_dir, EXIT_CODE="exited", EXIT_STATUS="0", SERVICE_RESULT="success")
    assert done.returncode == 0
    assert load(state_dir) == ended
    assert "not running" in done.stderr


def test_no_current_run_is_not_an_error(tmp_path):
    folder = tmp_path / "state"
    folder.mkdir()
    done = run_hook(folder, EXIT_CODE="exited", EXIT_STATUS="0")
    assert done.returncode == 0
    assert done.stderr.count("\n") == 1 and "no current run" in done.stderr


def test_a_missing_state_folder_does_not_fail_the_unit(tmp_path):
    done = run_hook(tmp_path / "absent")
    assert done.returncode == 0
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_state_file_that_is_a_link_is_not_followed(state_dir, tmp_path):
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps(state()))
    (state_dir / f"{RUN_ID}.json").unlink()
    (state_dir / f"{RUN_ID}.json").symlink_to(elsewhere)
    done = run_hook(state_dir, EXIT_CODE="exited", EXIT_STATUS="0")
    assert done.returncode == 0
    assert json.loads(elsewhere.read_text())["phase"] == "running"
    assert (state_dir / f"{RUN_ID}.json").is_symlink()


def test_a_current_file_that_is_a_link_is_not_followed(state_dir, tmp_path):
    (tmp_path / "id").write_text(RUN_ID)
    (state_dir / "current").unlink()
    (state_dir / "current").symlink_to(tmp_path / "id")
    done = run_hook(state_dir, EXIT_CODE="exited", EXIT_STATUS="0")
    assert done.returncode == 0
    assert load(state_dir)["phase"] == "running"


def test_a_run_id_that_leaves_the_folder_is_refused(state_dir, tmp_path):
    (tmp_path / "outside.json").write_text(json.dumps(state()))
    (state_dir / "current").write_text("../outside")
    done = run_hook(state_dir, EXIT_CODE="exited", EXIT_STATUS="0")
    assert done.returncode == 0
    assert json.loads((tmp_path / "outside.json").read_text())["phase"] == "running"
    assert "no usable run id" in done.stderr


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", json.dumps(state(schema=2))])
def test_an_unreadable_state_file_is_left_alone(state_dir, content):
    (state_dir / f"{RUN_ID}.json").write_text(content)
    done = run_hook(state_dir, EXIT_CODE="exited", EXIT_STATUS="0")
    assert done.returncode == 0
    assert (state_dir / f"{RUN_ID}.json").read_text() == content
    assert len(done.stderr.strip().splitlines()) == 1
