"""Bad input to every verb and to the playbooks' variables: exit 2, a message naming the
problem (and the fix), never a traceback, and on the fleet nothing changed.

The verbs that never reach a host run without the sandbox; those that would run a test,
and the playbooks' variables, are tried on the session fleet and leave it as it was."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from . import test_run_refusals as refusals
from .sandbox_hosts import cli, flat

fingerprint = refusals.fingerprint
before = refusals.before  # the fleet at rest, as that module's tests see it


def refused(proc: subprocess.CompletedProcess, message: str) -> None:
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out[-3000:]
    assert "Traceback" not in out, out[-3000:]
    assert message in flat(out), out[-3000:]


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    """A run folder with a run.json that is not one (keys missing) and one not UTF-8."""
    root = tmp_path_factory.mktemp("folders")
    (root / "partial").mkdir()
    (root / "partial" / "run.json").write_text("{}")
    (root / "latin1").mkdir()
    (root / "latin1" / "run.json").write_bytes(b'{"run_id": "caf\xe9"}')
    return root


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nosuchverb"], "invalid choice: 'nosuchverb'"),
        (["report", "/nonexistent"], "/nonexistent: not a directory"),
        (["report", "{root}/partial"], "run.json: key 'parameters': missing"),
        (["report", "{root}/latin1"], "run.json"),
        (["compare", "{root}/partial", "{root}/partial", "--threshold", "-1"], "not a fraction"),
        (["compare", "{root}/partial", "{root}/partial", "--threshold", "nan"], "not a fraction"),
        (["compare", "{root}/partial", "{root}/partial", "--threshold", "abc"], "not a fraction"),
        (["sandbox", "up", "--name", "zz", "--subnet", "8.8.8.0/24"], "is not a private network"),
        (["sandbox", "up", "--name", "zz", "--subnet", "10.213.300.0/24"], "is not a network"),
        (["sandbox", "up", "--name", "zz", "--subnet", "10.213.92.0/23"], "must be a /24"),
        (["sandbox", "up", "--name", "../x"], "sandbox name '../x' is not valid"),
        (["sandbox", "up", "--name", "zz", "--workers", "0"], "--workers must be between 1"),
        (["sandbox", "down", "--name", "A;b"], "is not valid"),
        (["sandbox", "image", "--release", "jammy"], "invalid choice: 'jammy'"),
        (["status", "-i", "/nonexistent"], "inventory /nonexistent does not exist"),
        (["stop", "-i", "/nonexistent"], "inventory /nonexistent does not exist"),
        (["teardown", "-i", "/nonexistent"], "inventory /nonexistent does not exist"),
        (["fetch", "-i", "/nonexistent"], "inventory /nonexistent does not exist"),
        (["provision", "-i", "/nonexistent", "--plan", "locustfiles/website"], "does not exist"),
    ],
)
def test_a_verb_given_bad_input_off_the_fleet_says_why(run_folder, argv, message):
    proc = cli(*(arg.format(root=run_folder) for arg in argv))
    refused(proc, message)
    # No sandbox was begun: no state, no bridge.
    assert not Path("/var/lib/locust-fleet/sandbox/zz").exists()
    assert not Path("/sys/class/net/lfbr-zz").exists()


def _run(fleet, tmp_path, *args, users="2", run_time="5s"):
    return cli(
        "run", "-i", str(fleet.inventory), "--plan", "locustfiles/website", "-u", users,
        "-r", "2", "-t", run_time, "--results", str(tmp_path / "results"), *args,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--check", "p95<"], "Units: latencies in ms"),
        (["--check", "bogus<5"], "bogus"),
        (["--arg", "noequals"], "--arg 'noequals' must be NAME=VALUE"),
        (["--arg", "users=9"], "'users' is set by the fleet itself"),
        (["--arg", "note=a # b"], "locust_extra_args[note] holds a space followed by '#'"),
        (["--arg", "note= padded"], "locust_extra_args[note] starts or ends with a space"),
        (["--tag", "a,b"], "locust_tags: the item 'a,b' holds ','"),
        (["--max-clock-offset", "abc"], "--max-clock-offset 'abc' must be a number of ms"),
        (["--min-free-mb", "-1"], "--min-free-mb '-1' must be a number of MiB"),
        (["--run-id", "../x"], "run id '../x' must be 1-100 letters"),
        (["--junit", "/proc/x/j.xml"], "--junit /proc/x/j.xml cannot be written"),
        (["--results", "/proc/x"], "the results folder /proc/x cannot be written"),
        (["--secret-env", "LF_UNSET_SECRET"], "LF_UNSET_SECRET is not set"),
    ],
)
def test_a_run_given_bad_input_is_refused_and_the_fleet_is_as_it_was(
    fleet, before, tmp_path, args, message
):
    refused(_run(fleet, tmp_path, *args), message)
    assert fingerprint(fleet) == before


def test_a_run_time_beyond_30_days_is_refused(fleet, before, tmp_path):
    refused(_run(fleet, tmp_path, run_time="999h"), "locust_run_time '999h' is longer than 30")
    assert fingerprint(fleet) == before


@pytest.mark.parametrize(
    ("playbook", "variables", "message"),
    [
        (
            "run_test",
            {"locust_target_url": "http://t/\nmaster-bind-port = 1"},
            "locust_target_url holds a line break",
        ),
        ("run_test", {"locust_run_heartbeat_liveness": 0}, "locust_run_heartbeat_liveness is '0'"),
        ("run_test", {"locust_run_grace": -5}, "locust_run_grace is '-5'; give a whole number"),
        ("run_test", {"locust_run_stop_timeout": "abc"}, "'locust_run_stop_timeout' is of type"),
        ("run_test", {"locust_run_cpu_sample_interval": 0}, "locust_run_cpu_sample_interval is"),
        ("run_test", {"locust_tags": "checkout"}, "locust_tags and locust_exclude_tags must be"),
        ("run_test", {"locust_extra_args": {"csv": "/etc/x"}}, "'csv' is set by the fleet"),
        ("run_test", {"locust_secret_env": {"A-B": "x"}}, "secret name 'A-B' is not an"),
        ("run_test", {"locust_secret_env": {"TOKEN": "a\nB=c"}}, "secret TOKEN contains a newline"),
        ("ui", {"locust_ui_port": "abc"}, "'locust_ui_port' is of type str"),
        ("ui", {"locust_ui_port": 22}, "its SSH port 22"),
        ("ui", {"locust_ui_session_time": "abc"}, "locust_ui_session_time 'abc' is not a"),
        ("ui", {"locust_ui_run_time": "5m # x"}, "locust_ui_run_time holds a space followed"),
        ("run_test", {"locust_base_dir": "/opt/locust\nmaster = false"}, "locust_base_dir holds"),
        (
            "site",
            {"locust_base_dir": "/opt/locust\nExecStartPre=/bin/touch /tmp/INJ"},
            'locust_base_dir="/opt/locust\\nExecStartPre=/bin/touch /tmp/INJ"',
        ),
        ("site", {"locust_data_dir": "/var/lib/../etc"}, 'locust_data_dir="/var/lib/../etc"'),
        ("site", {"locust_user": "root;x"}, 'locust_user="root;x"'),
    ],
)
def test_a_playbook_variable_out_of_bounds_is_refused_naming_it(
    fleet, before, playbook, variables, message
):
    proc = fleet.playbook(
        f"playbooks/{playbook}.yml",
        "-e", "locust_plan=locustfiles/website", "-e", "locust_users=2",
        "-e", "locust_spawn_rate=2", "-e", "locust_run_time=5s", "-e", json.dumps(variables),
    )  # fmt: skip
    refused(proc, message)
    assert fingerprint(fleet) == before
    for host in fleet.hosts:  # nothing a value carried ran anywhere
        assert fleet.ssh(host["name"], "test ! -e /tmp/INJ", check=False).returncode == 0
