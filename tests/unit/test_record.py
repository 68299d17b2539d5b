"""run.json's typed record, and the hosts' archives brought home without trusting them."""

from __future__ import annotations

import base64
import io
import json
import tarfile
from pathlib import Path

import pytest

from locust_fleet.record import (
    SCHEMA_VERSION,
    ArchiveError,
    RecordHosts,
    bring_home,
    build_record,
    check_run_id,
    merge_cpu_samples,
    new_run_id,
)
from locust_fleet.results.runinfo import read_run_json


def _archive(*members: tuple[str, bytes | None, dict]) -> str:
    """(name, data or None for a symlink, TarInfo attributes) -> base64 tar.gz."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data, attrs in members:
            info = tarfile.TarInfo(name)
            for key, value in attrs.items():
                setattr(info, key, value)
            if data is None:
                info.type = attrs.get("type", tarfile.SYMTYPE)
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return base64.b64encode(buf.getvalue()).decode()


def test_a_host_sends_only_its_own_files(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    master = _archive(
        ("locust_stats.csv", b"master's stats", {}),
        ("journals/m1.log", b"journal", {}),
    )
    worker = _archive(
        ("locust_stats.csv", b"a worker's forgery", {}),
        ("cpu/cpu-w1.csv", b"1,w1,worker,u,1,50,0\n", {}),
        ("cpu/cpu-m1.csv", b"forged samples of another host\n", {}),
        ("journals/w1.log", b"w1 journal", {}),
    )
    bring_home("m1", master, run, is_master=True)
    got = bring_home("w1", worker, run, is_master=False)
    assert (run / "locust_stats.csv").read_bytes() == b"master's stats"
    assert sorted(got.files) == ["cpu/cpu-w1.csv", "journals/w1.log"]
    assert any(r.startswith("locust_stats.csv") for r in got.refused)
    assert any(r.startswith("cpu/cpu-m1.csv") for r in got.refused)
    assert not (run / "cpu" / "cpu-m1.csv").exists()
    assert [p.name for p in run.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(
    ("member", "why"),
    [
        (("journals/w1.log", None, {"linkname": "/etc/passwd"}), "not a regular file"),
        (("/etc/cron.d/x", b"evil", {}), "absolute or parent"),
        (("../../outside.txt", b"evil", {}), "absolute or parent"),
        (("journals/w1.log", b"x", {"mode": 0o4755}), "set-id"),
        (("journals/w1.log", None, {"type": tarfile.CHRTYPE}), "not a regular file"),
    ],
)
def test_links_devices_escapes_and_setid_are_refused(tmp_path: Path, member, why) -> None:
    run = tmp_path / "run"
    run.mkdir()
    got = bring_home("w1", _archive(member), run, is_master=False)
    assert got.files == []
    assert any(why in r for r in got.refused), got.refused
    assert not (tmp_path / "outside.txt").exists()
    assert not (run / "journals" / "w1.log").exists()


def test_a_link_already_in_the_run_folder_is_replaced_not_followed(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "journals").mkdir(parents=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (run / "journals" / "w1.log").symlink_to(victim)
    bring_home("w1", _archive(("journals/w1.log", b"journal", {})), run, is_master=False)
    assert victim.read_text() == "keep me"
    assert (run / "journals" / "w1.log").read_bytes() == b"journal"


def test_an_unreadable_archive_names_its_host(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="w2"):
        bring_home("w2", base64.b64encode(b"not a tar").decode(), tmp_path, is_master=False)


def _state(**over) -> dict:
    state = {
        "schema": 1,
        "run_id": "r1",
        "phase": "ended",
        "mode": "headless",
        "spec": {
            "plan": "/p/website",
            "users": "50",
            "spawn_rate": "25",
            "run_time": "20s",
            "run_seconds": 20,
            "tags": [],
            "checks": ["p95<500"],
            "allow_saturated": True,
            "secret_env_names": ["B", "A"],
        },
        "manifest_sha256": "ab" * 32,
        "expected_workers": 4,
        "worker_processes": {"w1": 2, "w2": 2},
        "controller": "ops@laptop",
        "created": 1764583000.0,
        "started": 1764583010.0,
        "ended": 1764583035.5,
        "exit": {"code": "exited", "status": "0", "result": "success"},
    }
    state.update(over)
    return state


def test_the_record_has_numbers_as_numbers_and_reads_back(tmp_path: Path) -> None:
    (tmp_path / "master.log").write_text(
        "[2026-12-01 10:00:11,000] m1/INFO/locust.runners: lf-w1_abc (index 0) reported as "
        "ready. 4 workers connected.\n"
    )
    record = build_record(
        tmp_path,
        run_id="r1",
        hosts=RecordHosts("m1", ["w1", "w2"], ["t1"]),
        state=_state(),
        phase="ended",
        locust_version="2.47.0",
    )
    record.write(tmp_path / "run.json")
    data = json.loads((tmp_path / "run.json").read_text())
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["parameters"]["users"] == 50 and data["parameters"]["spawn_rate"] == 25.0
    assert data["parameters"]["secret_env_names"] == ["A", "B"]
    assert data["master_exit_code"] == 0 and data["workers_connected"] == 4
    assert data["checks"] == ["p95<500"] and data["allow_saturated"] is True
    assert data["allow_no_requests"] is False  # not in the spec: the default
    assert data["started_at"] == "2025-12-01T09:56:50+00:00"
    meta = read_run_json(tmp_path / "run.json")
    assert meta.duration_s == 25.5 and meta.worker_processes == {"w1": 2, "w2": 2}


def _ended(run_dir: Path, state: dict):
    """The record of an ended run on master m1, with nothing fetched."""
    return build_record(
        run_dir,
        run_id="r1",
        hosts=RecordHosts("m1"),
        state=state,
        phase="ended",
        locust_version=None,
    )


def test_the_record_keeps_allow_no_requests_from_the_spec(tmp_path: Path) -> None:
    state = _state()
    state["spec"]["allow_no_requests"] = True  # run --allow-no-requests: attach applies it
    record = _ended(tmp_path, state)
    assert record.allow_no_requests is True and record.to_dict()["allow_no_requests"] is True


def test_a_master_killed_by_a_signal_has_no_exit_code(tmp_path: Path) -> None:
    state = _state(exit={"code": "killed", "status": "TERM", "result": "success"})
    record = _ended(tmp_path, state)
    assert record.master_exit_code is None and record.master_unit_result == "success"


def test_an_interactive_run_records_what_the_ui_started(tmp_path: Path) -> None:
    (tmp_path / "master.log").write_text(
        "[2026-12-01 10:00:00,000] m1/INFO/locust.runners: Sending spawn jobs of 30 users at "
        "5.00 spawn rate to 4 ready workers\n"
        "[2026-12-01 10:00:42,000] m1/INFO/locust.main: Shutting down (exit code 0)\n"
    )
    record = build_record(
        tmp_path,
        run_id="r1",
        hosts=RecordHosts("m1"),
        state=_state(mode="ui"),
        phase="ended",
        locust_version=None,
    )
    assert (record.parameters.users, record.parameters.spawn_rate) == (30, 5.0)
    assert record.parameters.run_seconds == 42


def test_cpu_samples_are_merged_under_one_header(tmp_path: Path) -> None:
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu-w1.csv").write_text("1,w1,worker,u,1,50,0\n")
    (tmp_path / "cpu" / "cpu-w2.csv").write_text("1,w2,worker,u,2,40,1")
    merge_cpu_samples(tmp_path)
    lines = (tmp_path / "cpu_samples.csv").read_text().splitlines()
    assert lines[0].startswith("timestamp,host") and len(lines) == 3


def test_run_ids() -> None:
    assert check_run_id(new_run_id()) is None
    assert check_run_id("nightly-1.2_a") is None
    for bad in ("", "-x", "a/b", "a b", "x" * 101, "../etc"):
        assert check_run_id(bad), bad


SHAPED_CUT = Path(__file__).parents[1] / "data" / "runs" / "shaped_cut"


def test_a_shaped_run_records_what_the_shape_ran_and_its_cut(tmp_path: Path) -> None:
    for name in ("locust_stats_history.csv", "shape.json"):
        (tmp_path / name).write_bytes((SHAPED_CUT / name).read_bytes())
    state = _state()
    state["spec"].update(
        run_seconds=6, run_time="6s", shape={"class": "ThreeStages", "use_common_options": False}
    )
    record = _ended(tmp_path, state)
    record.write(tmp_path / "run.json")
    shape = read_run_json(tmp_path / "run.json").shape
    assert shape is not None and shape.name == "ThreeStages"
    assert (shape.peak_users, shape.seconds, shape.bound_seconds) == (6, 6, 6)
    assert shape.cut_by_run_time is True and shape.uses_common_options is False


def test_a_run_without_a_shape_records_none(tmp_path: Path) -> None:
    record = _ended(tmp_path, _state())
    assert record.shape is None and record.to_dict()["shape"] is None
    record.write(tmp_path / "run.json")
    assert read_run_json(tmp_path / "run.json").shape is None
