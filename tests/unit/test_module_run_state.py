"""fleet.locust.locust_run_state: the runs' state files on the master (schema 1), in a state
folder of the test's own; systemd and the boot id are given by the test."""

from __future__ import annotations

import grp
import importlib.util
import json
import os
import stat
import subprocess
import time
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

REPO = Path(__file__).resolve().parents[2]


def load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


state_module = load(
    "fleet_locust_run_state", REPO / "collection/plugins/modules/locust_run_state.py"
)
ended_hook = load("locust_run_ended_hook", REPO / "roles/locust_master/files/locust-run-ended.py")


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture(autouse=True)
def host(monkeypatch: pytest.MonkeyPatch) -> dict:
    """This host: boot 'boot-1', the master unit inactive unless a test says otherwise;
    the state folder is trusted when owned by the user running the tests."""
    now = {"boot": "boot-1", "active": False}
    monkeypatch.setattr(state_module, "STATE_DIR_OWNER", os.geteuid())
    monkeypatch.setattr(state_module, "boot_id", lambda: now["boot"])
    monkeypatch.setattr(
        state_module,
        "master_unit",
        lambda unit=None: {
            "active": now["active"],
            "exec_main_status": 0,
            "exec_main_code": 1,
            "result": "success",
        },
    )
    return now


def start_params(run_id: str, **options) -> dict:
    return {
        "run_id": run_id,
        "spec": {"users": 100, "run_seconds": 600},
        "mode": "headless",
        "manifest_sha256": "3f2a",
        "expected_workers": 8,
        "worker_processes": {"w1": "4", "w2": 4},
        "clock_offsets_ms": {"m": 0.4, "w1": "-1.5"},
        "controller": "ops@laptop",
        "created": None,
        "sampler_unit": f"locust-cpu-sampler-{run_id}",
        "run_dir": f"/var/lib/locust/runs/{run_id}",
        "run_seconds_budget": 900.0,
        **options,
    }


def start(state_dir: Path, run_id: str, now: float | None = None, **options) -> dict:
    state, changed = state_module.start(str(state_dir), start_params(run_id, **options), now=now)
    assert changed
    return state


def test_start_writes_the_runs_state_and_names_it_current(state_dir: Path) -> None:
    state = start(state_dir, "r1", now=1000.0, created=990.0)
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o755
    on_disk = json.loads((state_dir / "r1.json").read_text())
    assert on_disk == state
    assert state == {
        "schema": 1,
        "run_id": "r1",
        "phase": "running",
        "mode": "headless",
        "spec": {"users": 100, "run_seconds": 600},
        "manifest_sha256": "3f2a",
        "expected_workers": 8,
        "worker_processes": {"w1": 4, "w2": 4},
        "controller": "ops@laptop",
        "created": 990.0,
        "started": 1000.0,
        "ended": None,
        "exit": {"code": None, "status": None, "result": None},
        "sampler_unit": "locust-cpu-sampler-r1",
        "run_dir": "/var/lib/locust/runs/r1",
        "deadline": 1900.0,
        "boot_id": "boot-1",
        "clock_offsets_ms": {"m": 0.4, "w1": -1.5},
        "cautions": [],
    }
    assert (state_dir / "current").read_text().strip() == "r1"
    assert stat.S_IMODE((state_dir / "r1.json").stat().st_mode) == 0o644
    assert sorted(p.name for p in state_dir.iterdir()) == ["current", "r1.json"]


def test_start_counts_on_the_hosts_clock(state_dir: Path) -> None:
    before = time.time()
    state = start(state_dir, "r1")
    assert before <= state["started"] <= time.time()
    assert state["created"] == state["started"]
    assert state["deadline"] == pytest.approx(state["started"] + 900)


def test_start_writes_the_master_config_before_the_state_then_starts_the_unit(
    state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "master.conf"
    config.write_text("users = 1\n")  # an earlier run's
    seen = []

    def systemctl(argv, **_):
        seen.append((argv, config.read_text(), (state_dir / "current").read_text().strip()))
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(state_module.subprocess, "run", systemctl)
    group = grp.getgrgid(os.getegid()).gr_name
    start(
        state_dir,
        "r1",
        master_config={"path": str(config), "content": "users = 100\n", "group": group},
        start_unit="locust-master.service",
    )
    assert seen == [(["systemctl", "start", "locust-master.service"], "users = 100\n", "r1")]
    assert stat.S_IMODE(config.stat().st_mode) == 0o640


def test_a_master_unit_that_does_not_start_fails_naming_its_journal(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        state_module.subprocess,
        "run",
        lambda argv, **_: subprocess.CompletedProcess(argv, 1, "", "Unit not found."),
    )
    with pytest.raises(state_module.StateError, match=r"journalctl -u locust-master\.service"):
        start(state_dir, "r1", start_unit="locust-master.service")


def test_a_run_id_is_used_once(state_dir: Path) -> None:
    start(state_dir, "r1")
    first = (state_dir / "r1.json").read_text()
    with pytest.raises(state_module.StateError, match="run id r1 was used already on this master"):
        start(state_dir, "r1")
    with pytest.raises(state_module.StateError, match="choose another --run-id"):
        start(state_dir, "r1")
    assert (state_dir / "r1.json").read_text() == first


@pytest.mark.parametrize("run_id", ["", "../etc/passwd", ".hidden", "a/b", "x" * 101, "a b"])
def test_an_unusable_run_id_is_refused(state_dir: Path, run_id: str) -> None:
    with pytest.raises(state_module.StateError, match="is not usable"):
        start(state_dir, run_id)
    assert not state_dir.exists() or not list(state_dir.iterdir())


def test_read_finds_a_run_the_current_one_or_the_newest(state_dir: Path, host: dict) -> None:
    start(state_dir, "r1", now=1000.0)
    start(state_dir, "r2", now=2000.0)
    state, run_id, _, master = state_module.read(str(state_dir), "r1")
    assert run_id == "r1" and state["started"] == 1000.0
    assert master == {
        "active": False,
        "exec_main_status": 0,
        "exec_main_code": 1,
        "result": "success",
    }
    (state_dir / "current").write_text("r1\n")
    assert state_module.read(str(state_dir))[1] == "r1"
    (state_dir / "current").unlink()
    assert state_module.read(str(state_dir))[1] == "r2"
    (state_dir / "current").write_text("../../etc/passwd")
    assert state_module.read(str(state_dir))[1] == "r2"
    assert state_module.read(str(state_dir), "r9")[:3] == (None, None, None)


def test_no_state_folder_means_no_run_and_reading_creates_nothing(state_dir: Path) -> None:
    assert state_module.read(str(state_dir))[:3] == (None, None, None)
    assert state_module.list_runs(str(state_dir)) == []
    assert not state_dir.exists()


def test_the_effective_phase(state_dir: Path, host: dict) -> None:
    start(state_dir, "r1")
    host["active"] = True
    assert state_module.read(str(state_dir), "r1")[2] == "running"
    host["active"] = False
    assert state_module.read(str(state_dir), "r1")[2] == "lost"  # its hook did not run
    host["active"] = True
    host["boot"] = "boot-2"
    assert state_module.read(str(state_dir), "r1")[2] == "lost"  # the host rebooted
    host["boot"] = "boot-1"
    start(state_dir, "r2")
    assert state_module.read(str(state_dir), "r1")[2] == "lost"  # a later run was started
    assert state_module.read(str(state_dir), "r2")[2] == "running"


def test_the_masters_stop_hook_ends_the_run_it_started(state_dir: Path, host: dict) -> None:
    start(state_dir, "r1")
    environ = {"EXIT_CODE": "exited", "EXIT_STATUS": "1", "SERVICE_RESULT": "exit-code"}
    ended_hook.record_end(str(state_dir), environ, 5000.0)
    host["active"] = False
    state, run_id, phase, _ = state_module.read(str(state_dir))
    assert (run_id, phase, state["phase"], state["ended"]) == ("r1", "ended", "ended", 5000.0)
    assert state["exit"]["code"] == "exited" and state["exit"]["result"] == "exit-code"
    with pytest.raises(state_module.StateError, match="used already"):
        start(state_dir, "r1")


def test_list_is_newest_first(state_dir: Path) -> None:
    start(state_dir, "r1", now=1000.0)
    start(state_dir, "r3", now=3000.0)
    start(state_dir, "r2", now=2000.0)
    (state_dir / "notes.txt").write_text("not a run")
    (state_dir / "broken.json").write_text("{")
    assert state_module.list_runs(str(state_dir)) == [
        {"run_id": "r3", "phase": "running", "started": 3000.0, "ended": None},
        {"run_id": "r2", "phase": "running", "started": 2000.0, "ended": None},
        {"run_id": "r1", "phase": "running", "started": 1000.0, "ended": None},
    ]


def test_a_state_folder_that_is_a_link_is_refused(state_dir: Path, tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o755)
    state_dir.symlink_to(real)
    with pytest.raises(state_module.StateError, match="not a folder one can trust"):
        start(state_dir, "r1")
    with pytest.raises(state_module.StateError, match="not a folder one can trust"):
        state_module.read(str(state_dir))
    assert not list(real.iterdir())


def test_a_state_folder_not_owned_by_root_or_writable_by_others_is_refused(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    start(state_dir, "r1")
    monkeypatch.setattr(state_module, "STATE_DIR_OWNER", os.geteuid() + 1)
    with pytest.raises(state_module.StateError, match="not root"):
        state_module.read(str(state_dir))
    monkeypatch.setattr(state_module, "STATE_DIR_OWNER", os.geteuid())
    state_dir.chmod(0o777)
    with pytest.raises(state_module.StateError, match="writable by others"):
        state_module.list_runs(str(state_dir))


def test_a_state_file_that_is_a_link_is_not_followed(state_dir: Path, tmp_path: Path) -> None:
    start(state_dir, "r1", now=1000.0)
    planted = tmp_path / "planted.json"
    planted.write_text(json.dumps({"schema": 1, "run_id": "r2", "phase": "ended", "started": 9e9}))
    (state_dir / "r2.json").symlink_to(planted)
    with pytest.raises(state_module.StateError, match="is a link"):
        state_module.read(str(state_dir), "r2")
    assert [r["run_id"] for r in state_module.list_runs(str(state_dir))] == ["r1"]
    (state_dir / "current").unlink()
    (state_dir / "current").symlink_to(tmp_path / "elsewhere")
    assert state_module.read(str(state_dir))[1] == "r1"


def run_main(args: dict, capsys) -> dict:
    with patch_module_args(args), pytest.raises(SystemExit):
        state_module.main()
    return json.loads(capsys.readouterr().out)


def test_the_module_starts_reads_and_lists(state_dir: Path, host: dict, capsys) -> None:
    common = {"state_dir": str(state_dir)}
    started = run_main({**common, "action": "start", **start_params("r1")}, capsys)
    assert started["changed"] and started["run_id"] == "r1"
    assert started["state"]["phase"] == "running"
    host["active"] = True
    read = run_main({**common, "action": "read", "run_id": "", "_ansible_check_mode": True}, capsys)
    assert not read["changed"]
    assert (read["run_id"], read["effective_phase"]) == ("r1", "running")
    assert read["master"]["active"] is True
    assert read["state"] == started["state"]
    listed = run_main({**common, "action": "list"}, capsys)
    assert [r["run_id"] for r in listed["runs"]] == ["r1"]
    again = run_main({**common, "action": "start", **start_params("r1")}, capsys)
    assert again["failed"] and "was used already" in again["msg"]


def test_start_needs_its_options_and_check_mode_writes_nothing(state_dir: Path, capsys) -> None:
    failed = run_main({"state_dir": str(state_dir), "action": "start", "run_id": "r1"}, capsys)
    assert failed["failed"] and "run_seconds_budget" in failed["msg"]
    checked = run_main(
        {
            "state_dir": str(state_dir),
            "action": "start",
            **start_params("r1"),
            "_ansible_check_mode": True,
        },
        capsys,
    )
    assert checked["changed"] and checked["state"]["run_id"] == "r1"
    assert not state_dir.exists()


def test_a_stop_is_noted_once_in_a_running_runs_state_and_the_hook_keeps_it(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    start(state_dir, "r-stop", now=1000.0)
    state, changed = state_module.mark_stop(
        str(state_dir), "r-stop", "ops@laptop", "stopped by playbooks/stop.yml", now=1010.0
    )
    assert changed and state["stop_requested"]["reason"] == "stopped by playbooks/stop.yml"
    _, again = state_module.mark_stop(str(state_dir), "r-stop", "x@y", "other")
    assert not again  # the first stop is the one kept
    saved = json.loads((state_dir / "r-stop.json").read_text())
    assert saved["stop_requested"] == {
        "by": "ops@laptop",
        "reason": "stopped by playbooks/stop.yml",
        "at": 1010.0,
    }
    with pytest.raises(state_module.StateError, match="no run nope"):
        state_module.mark_stop(str(state_dir), "nope", "", "")
