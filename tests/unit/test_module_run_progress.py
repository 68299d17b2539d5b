"""fleet.locust.locust_run_progress: a run's progress read on its master."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import time
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "fleet_locust_run_progress", REPO / "collection/plugins/modules/locust_run_progress.py"
)
progress = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(progress)

HEADER = (
    "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,Total Request Count,"
    "Total Failure Count\n"
)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    (tmp_path / "locust_stats_history.csv").write_text(
        HEADER
        + "1,10,GET,/,5.0,0,12,50,0\n"
        + "1,10,,Aggregated,5.0,0,12,50,0\n"
        + "2,20,GET,/,9.0,0,12,140,1\n"
        + "2,20,,Aggregated,12.345,0.5,12,160,3\n"
    )
    (tmp_path / "master.log").write_text(
        "... 2 workers connected\n... Ramping to 20 users\n... 4 workers connected\n"
    )
    return tmp_path


class FakeUnit:
    """The master unit: active for the first ``polls`` reads, then inactive."""

    def __init__(self, polls: int, entered: float | None):
        self.polls, self.entered, self.reads = polls, entered, 0

    def __call__(self, unit: str):
        self.reads += 1
        return self.reads <= self.polls, self.entered


def test_progress_is_read_from_the_last_aggregated_row_and_the_log(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress, "unit_state", FakeUnit(0, time.monotonic() - 42))
    result = progress.progress(
        "locust-master.service",
        str(run_dir / "locust_stats_history.csv"),
        str(run_dir / "master.log"),
        10,
    )
    assert result == {
        "active": False,
        "users": 20,
        "rps": 12.3,
        "requests": 160,
        "failures": 3,
        "workers": 4,
        "history_rows": 2,
        "elapsed": pytest.approx(42, abs=1),
    }


def test_it_returns_as_soon_as_the_unit_is_inactive(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unit = FakeUnit(2, 100.0)
    monkeypatch.setattr(progress, "unit_state", unit)
    monkeypatch.setattr(progress.time, "sleep", lambda seconds: None)
    started = time.monotonic()
    result = progress.progress("u", str(run_dir / "none.csv"), str(run_dir / "none.log"), 60)
    assert time.monotonic() - started < 5
    assert result["active"] is False
    assert unit.reads == 3


def test_it_waits_at_most_wait_seconds_for_a_unit_that_keeps_running(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress, "unit_state", FakeUnit(10**6, time.monotonic()))
    started = time.monotonic()
    result = progress.progress("u", str(run_dir / "none.csv"), str(run_dir / "none.log"), 0.3)
    waited = time.monotonic() - started
    assert 0.25 <= waited < 3
    assert result["active"] is True


def test_no_history_and_no_log_yet_reads_as_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress, "unit_state", FakeUnit(10**6, None))
    result = progress.progress("u", str(tmp_path / "h.csv"), str(tmp_path / "m.log"), 0)
    assert result == {
        "active": True,
        "users": 0,
        "rps": 0.0,
        "requests": 0,
        "failures": 0,
        "workers": None,
        "history_rows": 0,
        "elapsed": None,
    }


def test_unreadable_numbers_read_as_zero(tmp_path: Path) -> None:
    history = tmp_path / "h.csv"
    history.write_text(HEADER + "1,N/A,,Aggregated,nan,0,0,,inf\n")
    row, rows = progress.last_aggregated(str(history))
    assert rows == 1
    assert progress.number(row, "User Count", int) == 0
    assert progress.number(row, "Requests/s", float) == 0.0
    assert progress.number(row, "Total Request Count", int) == 0
    assert progress.number(row, "Total Failure Count", int) == 0


def test_unit_state_reads_systemctl_show(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake_run(argv, **kwargs):
        calls.append(argv)
        out = "ActiveState=deactivating\nActiveEnterTimestampMonotonic=123456789\n"
        return subprocess.CompletedProcess(argv, 0, stdout=out)

    monkeypatch.setattr(progress.subprocess, "run", fake_run)
    assert progress.unit_state("locust-master.service") == (True, 123.456789)
    assert calls[0][:3] == ["systemctl", "show", "locust-master.service"]

    def never_started(argv, **kwargs):
        out = "ActiveState=inactive\nActiveEnterTimestampMonotonic=0\n"
        return subprocess.CompletedProcess(argv, 0, stdout=out)

    monkeypatch.setattr(progress.subprocess, "run", never_started)
    assert progress.unit_state("locust-master.service") == (False, None)


def test_the_module_changes_nothing(run_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(progress, "unit_state", FakeUnit(0, None))
    args = {
        "history": str(run_dir / "locust_stats_history.csv"),
        "log": str(run_dir / "master.log"),
        "wait": 0,
        "_ansible_check_mode": True,
    }
    with patch_module_args(args), pytest.raises(SystemExit):
        progress.main()
    result = json.loads(capsys.readouterr().out)
    assert result["changed"] is False
    assert result["users"] == 20 and result["workers"] == 4 and result["elapsed"] is None
