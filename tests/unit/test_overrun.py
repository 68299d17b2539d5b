"""More users than asked (the missed-heartbeat cascade) is a verdict, not a detail; Locust's
master warnings reach the summary."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import UTC, datetime
from pathlib import Path

from locust_fleet.outcome import ExitCode, decide
from locust_fleet.overrun import master_warnings
from locust_fleet.results.loader import load_run
from locust_fleet.results.model import RunEvent
from locust_fleet.saturation import verdict_for

DATA = Path(__file__).resolve().parents[1] / "data" / "runs"
CASCADE_LOG = (DATA.parent / "logs" / "heartbeat_cascade_master.log").read_text()


def run_with(tmp_path: Path, peak_users: int, log: str) -> Path:
    run = tmp_path / "run"
    shutil.copytree(DATA / "distributed", run)
    history = run / "locust_stats_history.csv"
    lines = history.read_text().splitlines()
    header = lines[0].split(",")
    users = header.index("User Count")
    rows = []
    for line in lines[1:]:
        cells = line.split(",")
        if ",Aggregated," in line:
            cells[users] = str(peak_users)
        rows.append(",".join(cells))
    history.write_text("\n".join([lines[0], *rows]) + "\n")
    (run / "master.log").write_text(log)
    return run


def test_a_history_above_the_users_asked_is_an_overrun_exit_4(tmp_path: Path) -> None:
    results = load_run(run_with(tmp_path, 10**6, CASCADE_LOG))
    asked = results.metadata.parameters.users
    found = verdict_for(results)
    assert found.overran and found.saturated
    text = found.summary()
    assert text.startswith(
        f"OVERRUN: the history shows up to 1,000,000 users for a run of {asked:,}"
    )
    assert "missed heartbeats (2x), spawn rate above 100/s per worker (1x)" in text
    assert decide(results, (), found).code is ExitCode.SATURATED


def test_a_run_within_its_users_only_lists_the_masters_warnings(tmp_path: Path) -> None:
    results = load_run(run_with(tmp_path, 1, CASCADE_LOG))
    found = verdict_for(results)
    assert not found.overran
    assert found.summary().endswith(
        "Locust's master warned: missed heartbeats (2x), spawn rate above 100/s per worker (1x)."
    )
    assert master_warnings("all quiet\n") == ()


def test_a_dead_workers_stale_count_until_it_is_taken_for_lost_is_no_overrun(
    tmp_path: Path,
) -> None:
    import json

    run = run_with(tmp_path, 10**6, CASCADE_LOG)
    rows = [r for r in load_run(run).aggregated_history]
    first, last = rows[0].timestamp, rows[-1].timestamp
    record = json.loads((run / "run.json").read_text())
    record["events"] = [
        {"time": first.isoformat(), "host": "w1", "kind": "worker_died", "message": "killed"},
        {"time": last.isoformat(), "host": "w1", "kind": "worker_missing", "message": "lost"},
    ]
    (run / "run.json").write_text(json.dumps(record))
    found = verdict_for(load_run(run))
    assert not found.overran  # every inflated row lies between the death and the loss


def test_an_overrun_the_fleet_corrected_says_when(tmp_path: Path) -> None:
    results = load_run(run_with(tmp_path, 10**6, CASCADE_LOG))
    at = datetime(2026, 12, 4, 5, 35, 10, tzinfo=UTC)
    event = RunEvent(at, "m1", "users_over", "the workers run 5000 users for a test of 4000")
    meta = dataclasses.replace(results.metadata, events=(*results.metadata.events, event))
    text = verdict_for(dataclasses.replace(results, metadata=meta)).summary()
    assert "told every worker its share" in text and "again at 05:35:10" in text
