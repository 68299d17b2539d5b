"""fleet.locust.locust_run_collect: one host's share of a run, packed in memory, never
following a link the unprivileged locust user could have planted."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "fleet_locust_run_collect", REPO / "collection/plugins/modules/locust_run_collect.py"
)
collect = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(collect)

JOURNAL = b"2026-12-01T10:10:10+0000 w1 locust[1]: Starting\n"


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A run folder as the locust user could leave it: outputs, and things to refuse."""
    run = tmp_path / "runs" / "r1"
    run.mkdir(parents=True)
    (run / "locust_stats.csv").write_text("Type,Name\n")
    (run / "master.log").write_text("4 workers connected\n")
    (run / "cpu-w1.csv").write_text("t,cpu\n1,50\n")
    (run / ".hidden").write_text("kept")
    (run / "journal-old.log").write_text("an old copy")
    (run / "passwd").symlink_to("/etc/passwd")
    os.mkfifo(run / "pipe")
    (run / "sub").mkdir()
    (run / "sub" / "inner.txt").write_text("not taken")
    return run


def members(archive: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        return {m.name: m for m in tar.getmembers()}


def content(archive: bytes, name: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        return tar.extractfile(name).read()


def reasons(skipped: list[dict]) -> dict[str, str]:
    return {s["name"]: s["reason"] for s in skipped}


def test_only_the_run_folders_regular_files_are_archived(run_dir: Path) -> None:
    data, names, skipped = collect.collect(str(run_dir), "w1", JOURNAL)
    assert names == [
        "journals/w1.log",
        ".hidden",
        "cpu/cpu-w1.csv",
        "locust_stats.csv",
        "master.log",
    ]
    assert list(members(data)) == names
    assert content(data, "journals/w1.log") == JOURNAL
    assert content(data, "cpu/cpu-w1.csv") == b"t,cpu\n1,50\n"
    assert content(data, "master.log") == b"4 workers connected\n"
    why = reasons(skipped)
    assert why["passwd"] == "a symbolic link"
    assert why["pipe"] == "a fifo"
    assert why["sub"] == "a folder"
    assert "journal-old.log" in why
    assert not any("inner" in name for name in names)


def test_members_are_plain_root_owned_files(run_dir: Path) -> None:
    (run_dir / "master.log").chmod(0o4755)
    data, _, _ = collect.collect(str(run_dir), "w1", JOURNAL)
    for member in members(data).values():
        assert member.isreg()
        assert member.mode == 0o644
        assert (member.uid, member.gid) == (0, 0)
        assert not member.issym() and not member.islnk()


def test_a_hard_linked_file_is_refused(run_dir: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret"
    outside.write_text("root's secret")
    os.link(outside, run_dir / "looks-innocent.csv")
    _, names, skipped = collect.collect(str(run_dir), "w1", JOURNAL)
    assert "looks-innocent.csv" not in names
    assert "hard links" in reasons(skipped)["looks-innocent.csv"]


def test_a_run_folder_that_is_a_link_yields_the_journal_and_says_so(
    run_dir: Path, tmp_path: Path
) -> None:
    link = tmp_path / "runs" / "r2"
    link.symlink_to(run_dir)
    _, names, skipped = collect.collect(str(link), "w1", JOURNAL)
    assert names == ["journals/w1.log"]  # nothing of what the link points to
    (why,) = skipped
    assert why["name"] == str(link)
    assert "r2 is a symbolic link" in why["reason"] and "nothing in it was taken" in why["reason"]


def test_a_link_on_the_way_is_followed_only_in_a_folder_only_root_can_change(
    run_dir: Path, tmp_path: Path
) -> None:
    trusted = tmp_path / "trusted"
    trusted.mkdir(mode=0o755)
    (trusted / "runs").symlink_to(run_dir.parent)
    _, names, _ = collect.collect(str(trusted / "runs" / "r1"), "w1", JOURNAL)
    assert "master.log" in names
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    (shared / "runs").symlink_to(run_dir.parent)
    _, names, skipped = collect.collect(str(shared / "runs" / "r1"), "w1", JOURNAL)
    assert names == ["journals/w1.log"]
    assert "another user can change" in skipped[0]["reason"]


def test_a_missing_run_folder_yields_the_journal_alone(tmp_path: Path) -> None:
    data, names, skipped = collect.collect(str(tmp_path / "runs" / "gone"), "w1", JOURNAL)
    assert names == ["journals/w1.log"] and skipped == []
    assert list(members(data)) == names


def test_the_state_file_is_added_as_state_json(run_dir: Path, tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    (state_dir / "r1.json").write_text('{"schema": 1}')
    data, names, _ = collect.collect(str(run_dir), "m", JOURNAL, str(state_dir / "r1.json"))
    assert names[-1] == "state.json"
    assert content(data, "state.json") == b'{"schema": 1}'


def test_a_state_file_that_is_a_link_missing_or_not_roots_is_skipped(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    (state_dir / "r1.json").symlink_to("/etc/passwd")
    _, names, skipped = collect.collect(str(run_dir), "m", JOURNAL, str(state_dir / "r1.json"))
    assert "state.json" not in names
    assert "a symbolic link" in reasons(skipped)["state.json"]
    _, names, skipped = collect.collect(str(run_dir), "m", JOURNAL, str(state_dir / "r9.json"))
    assert "state.json" not in names and "missing" in reasons(skipped)["state.json"]
    (state_dir / "r2.json").write_text("{}")
    monkeypatch.setattr(collect, "STATE_OWNER", os.geteuid() + 1)
    _, names, skipped = collect.collect(str(run_dir), "m", JOURNAL, str(state_dir / "r2.json"))
    assert "state.json" not in names and "not root" in reasons(skipped)["state.json"]


def test_an_archive_over_max_bytes_is_refused_naming_host_folder_and_size(run_dir: Path) -> None:
    (run_dir / "locust_stats_history.csv").write_bytes(os.urandom(300_000))
    with pytest.raises(collect.TooBig) as refused:
        collect.collect(str(run_dir), "w1", JOURNAL, max_bytes=100_000)
    message = str(refused.value)
    assert "host w1" in message and str(run_dir) in message and "100000 bytes" in message


def test_a_host_name_that_cannot_name_a_file_is_refused(run_dir: Path) -> None:
    with pytest.raises(collect.CollectError):
        collect.collect(str(run_dir), "../w1", JOURNAL)


def test_the_journal_is_read_since_the_run_began(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake_run(argv, **kwargs):
        calls.append(argv)
        return subprocess.CompletedProcess(argv, 0, stdout=b"line\n")

    monkeypatch.setattr(collect.subprocess, "run", fake_run)
    assert collect.read_journal(1764583810.7) == b"line\n\n"
    assert calls[0][0] == "journalctl"
    assert "--since=@1764583810" in calls[0]
    assert "--unit=locust-master.service" in calls[0]
    assert "--unit=locust-worker@*.service" in calls[0]
    collect.stop_unit("locust-cpu-sampler-r1")
    assert calls[1] == ["systemctl", "stop", "locust-cpu-sampler-r1.service"]


def run_main(args: dict, capsys) -> dict:
    with patch_module_args(args), pytest.raises(SystemExit):
        collect.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def host_calls(monkeypatch: pytest.MonkeyPatch) -> list:
    calls: list = []
    monkeypatch.setattr(collect, "stop_unit", lambda unit: calls.append(("stop", unit)))
    monkeypatch.setattr(
        collect, "read_journal", lambda since: calls.append(("journal", since)) or JOURNAL
    )
    return calls


def test_the_module_returns_the_archive_and_changes_nothing(
    run_dir: Path, host_calls: list, capsys
) -> None:
    result = run_main(
        {"run_dir": str(run_dir), "host": "w1", "since": 1764583810, "sampler_unit": "s-r1"},
        capsys,
    )
    assert result["changed"] is False
    archive = base64.b64decode(result["archive_base64"])
    assert result["size"] == len(archive)
    assert result["sha256"] == hashlib.sha256(archive).hexdigest()
    assert result["members"] == list(members(archive))
    assert "passwd" in reasons(result["skipped"])
    assert host_calls == [("stop", "s-r1"), ("journal", 1764583810.0)]
    assert not list(run_dir.parent.glob(".*")), "nothing is written next to the run folder"


def test_check_mode_leaves_the_sampler_running(run_dir: Path, host_calls: list, capsys) -> None:
    result = run_main(
        {
            "run_dir": str(run_dir),
            "host": "w1",
            "since": 1,
            "sampler_unit": "s-r1",
            "_ansible_check_mode": True,
        },
        capsys,
    )
    assert "archive_base64" in result
    assert ("stop", "s-r1") not in host_calls


def test_the_module_reports_a_linked_run_folder_and_keeps_the_journal(
    run_dir: Path, tmp_path: Path, host_calls: list, capsys
) -> None:
    link = tmp_path / "runs" / "r2"
    link.symlink_to(run_dir)
    result = run_main(
        {"run_dir": str(link), "host": "w1", "since": 1, "sampler_unit": "s-r2"}, capsys
    )
    assert not result.get("failed")
    assert result["members"] == ["journals/w1.log"]
    assert "symbolic link" in result["skipped"][0]["reason"]


def test_the_runs_secrets_file_is_removed_and_a_link_there_is_not_followed(tmp_path):
    secrets = tmp_path / "secrets.env"
    secrets.write_text("TOKEN=abc\n")
    assert collect.remove_secrets(str(secrets)) is True
    assert not secrets.exists()
    assert collect.remove_secrets(str(secrets)) is False
    kept = tmp_path / "elsewhere"
    kept.write_text("keep\n")
    secrets.symlink_to(kept)
    assert collect.remove_secrets(str(secrets)) is True
    assert kept.read_text() == "keep\n"
