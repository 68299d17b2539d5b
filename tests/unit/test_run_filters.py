"""The run playbook's filters: durations, plan manifests and events read from Locust's logs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from locust_fleet.record import events as record_events

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "logs"
_spec = importlib.util.spec_from_file_location(
    "locust_run_filters", REPO / "collection" / "plugins" / "filter" / "locust_run.py"
)
filters = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(filters)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("20s", 20),
        ("90", 90),
        (45, 45),
        ("5m", 300),
        ("1h30m", 5400),
        ("1h2m3s", 3723),
        ("10x", -1),
        ("", -1),
        ("-5", -1),
        ("1.5m", -1),
        ("m", -1),
    ],
)
def test_duration_seconds(text, seconds):
    assert filters.locust_duration_seconds(text) == seconds


def test_manifest_mismatch_names_file_and_both_hashes():
    manifest = "aaa111  locustfile.py\nbbb222  data/users.csv\n"
    now = "aaa111  locustfile.py\nccc333  data/users.csv\n"
    (mismatch,) = filters.locust_manifest_mismatches(manifest, now)
    assert mismatch == {"file": "data/users.csv", "recorded": "bbb222", "actual": "ccc333"}
    message = filters.locust_mismatch_message(mismatch, "w2")
    assert message.startswith("host w2: data/users.csv sha256 ccc333")
    assert "controller's bbb222" in message
    assert filters.locust_manifest_mismatches(manifest, manifest) == []
    (missing,) = filters.locust_manifest_mismatches("aaa111  gone.py\n", "")
    assert "gone.py is missing" in filters.locust_mismatch_message(missing, "w1")


def test_workers_connected_from_a_real_master_log():
    log = (DATA / "master-clean.log").read_text()
    assert record_events.workers_connected(log) == 4
    assert record_events.workers_connected("") is None


def test_events_name_the_host_of_each_worker():
    master_log = "\n".join(
        [
            "[2026-11-28 13:20:01,100] m1/INFO/locust.runners: Worker w2_0a1b2c failed to send "
            "heartbeat, setting state to missing.",
            "[2026-11-28 13:20:05,000] m1/WARNING/locust.runners: Worker w1_99aa (index 0) "
            "exceeded cpu threshold (will only log this once per worker)",
            "[2026-11-28 13:20:09,000] m1/INFO/locust.runners: The last worker went missing, "
            "stopping test.",
        ]
    )
    journal = (
        "2026-11-28T13:20:03+0000 w1 systemd[1]: locust-worker@2.service: Main process exited, "
        "code=killed, status=9/KILL\n"
        "2026-11-28T13:20:08+0000 w1 systemd[1]: locust-worker@2.service: Scheduled restart job, "
        "restart counter is at 1.\n"
    )
    events = record_events.run_events(master_log, "m1", {"w1": journal})
    assert [(e["kind"], e["host"]) for e in events] == [
        ("worker_missing", "w2"),
        ("worker_died", "w1"),
        ("cpu_warning", "w1"),
        ("worker_restarted", "w1"),
        ("all_workers_missing", "m1"),
    ]
    assert events[0]["time"] == "2026-11-28T13:20:01"
    later = record_events.run_events(master_log, "m1", {"w1": journal}, "2026-11-28T13:20:05+00:00")
    assert ("worker_died", "w1") not in [(e["kind"], e["host"]) for e in later]
    assert ("worker_restarted", "w1") in [(e["kind"], e["host"]) for e in later]
    before_end = record_events.run_events("", "m1", {"w1": journal}, None, "2026-11-28T13:20:05")
    assert [(e["kind"], e["host"]) for e in before_end] == [("worker_died", "w1")]
    assert record_events.run_events((DATA / "master-clean.log").read_text(), "m1", {}) == []


def test_a_worker_that_joined_the_running_test_is_an_event_of_its_host():
    master_log = (
        "[2026-12-04 04:58:35,754] m1/INFO/locust.runners: Worker 'w2_7163' (index 2) quit. "
        "0 workers ready.\n"
        "[2026-12-04 04:58:39,100] m1/INFO/locust_fleet.keep_users: locust-fleet: worker w2_6951 "
        "joined the running test with no users\n"
    )
    events = record_events.run_events(master_log, "m1")
    assert [(e["kind"], e["host"]) for e in events] == [
        ("worker_quit", "w2"),
        ("worker_joined", "w2"),
    ]


def test_a_worker_systemd_gave_up_on_is_an_event_with_its_last_error():
    journal = (
        "2026-12-04T05:30:01+0000 w1 locust-worker-2[88]: ModuleNotFoundError: no 'x'\n"
        "2026-12-04T05:30:02+0000 w1 locust-worker-1[90]: Traceback (most recent call last):\n"
        "2026-12-04T05:30:02+0000 w1 locust-worker-1[90]: ImportError: cannot import name 'y'\n"
        "2026-12-04T05:30:30+0000 w1 systemd[1]: locust-worker@1.service: Start request "
        "repeated too quickly.\n"
        "2026-12-04T05:30:30+0000 w1 systemd[1]: locust-worker@1.service: Failed with result "
        "'exit-code'.\n"
    )
    (event,) = [e for e in record_events.run_events("", "m1", {"w1": journal}) if e["host"] == "w1"]
    assert event["kind"] == "worker_gave_up"
    assert event["message"] == (
        "locust-worker@1.service could not start and systemd gave up on it (its start limit); "
        "its last error: ImportError: cannot import name 'y'"
    )
