"""fleet.locust.locust_host_facts: what the run's preflight reads on every host."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import platform
import time
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "fleet_locust_host_facts", REPO / "collection/plugins/modules/locust_host_facts.py"
)
facts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(facts)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """An installation with the plan 'website' deployed and current."""
    plan = tmp_path / "plans" / "website"
    (plan / "data").mkdir(parents=True)
    locustfile, users = b"print('hi')\n", b"a,b\n"
    (plan / "locustfile.py").write_bytes(locustfile)
    (plan / "data" / "users.csv").write_bytes(users)
    (tmp_path / "plans" / "website.sha256").write_text(
        f"{sha(locustfile)}  locustfile.py\n{sha(users)} *data/users.csv\n\n"
    )
    (tmp_path / "plans" / "current").symlink_to(plan)
    return tmp_path


def test_a_plan_that_matches_its_manifest_has_no_mismatch(base: Path) -> None:
    plan, manifest_sha, manifest, mismatches, extra = facts.plan_state(str(base))
    assert plan == str(base / "plans" / "website")
    assert manifest_sha == sha((base / "plans" / "website.sha256").read_bytes())
    assert manifest == {
        "locustfile.py": sha(b"print('hi')\n"),
        "data/users.csv": sha(b"a,b\n"),
    }
    assert mismatches == [] and extra == []


def test_changed_missing_and_extra_files_are_reported(base: Path) -> None:
    plan = base / "plans" / "website"
    (plan / "locustfile.py").write_bytes(b"print('changed')\n")
    (plan / "data" / "users.csv").unlink()
    (plan / "stray.py").write_text("")
    _, _, manifest, mismatches, extra = facts.plan_state(str(base))
    assert mismatches == [
        {
            "file": "locustfile.py",
            "recorded": manifest["locustfile.py"],
            "actual": sha(b"print('changed')\n"),
        },
        {"file": "data/users.csv", "recorded": manifest["data/users.csv"], "actual": "missing"},
    ]
    assert extra == ["stray.py"]


def test_a_missing_manifest_is_a_mismatch(base: Path) -> None:
    (base / "plans" / "website.sha256").unlink()
    plan, manifest_sha, manifest, mismatches, _ = facts.plan_state(str(base))
    assert plan and manifest_sha is None and manifest == {}
    assert mismatches == [{"file": "website.sha256", "recorded": "?", "actual": "missing"}]


def test_no_plan_without_a_current_link(tmp_path: Path) -> None:
    assert facts.plan_state(str(tmp_path)) == (None, None, {}, [], [])


def install_locust(base: Path, version: str = "2.47.0", python: str = "python3.11") -> Path:
    """A venv with the locust script and Locust's dist-info metadata; the script would
    fail if it were run."""
    script = base / "venv" / "bin" / "locust"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text("#!/bin/sh\necho 'locust 9.9.9'; exit 1\n")
    script.chmod(0o755)
    dist = base / "venv" / "lib" / python / "site-packages" / f"locust-{version}.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.4\nName: locust\n"
        f"Version: {version}\nSummary: load testing\n\nVersion: 0.0.0 (body, not a header)\n"
    )
    return dist


def test_the_locust_version_is_read_from_the_venv_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_commands(*args, **kwargs):
        raise AssertionError("the version must be read without running anything")

    monkeypatch.setattr(facts.subprocess, "run", no_commands)
    assert facts.locust_version(str(tmp_path)) is None
    install_locust(tmp_path)
    assert facts.locust_version(str(tmp_path)) == "2.47.0"


def test_no_version_without_an_executable_locust_script(tmp_path: Path) -> None:
    install_locust(tmp_path)
    script = tmp_path / "venv" / "bin" / "locust"
    script.chmod(0o644)
    assert facts.locust_version(str(tmp_path)) is None
    script.unlink()
    assert facts.locust_version(str(tmp_path)) is None


def test_no_version_unless_exactly_one_dist_info(tmp_path: Path) -> None:
    install_locust(tmp_path)
    other = install_locust(tmp_path, version="2.31.0", python="python3.12")
    assert facts.locust_version(str(tmp_path)) is None
    (other / "METADATA").unlink()
    assert facts.locust_version(str(tmp_path)) == "2.47.0"


def test_other_packages_named_locust_something_are_not_locust(tmp_path: Path) -> None:
    dist = install_locust(tmp_path)
    plugins = dist.parent / "locust_plugins-4.5.0.dist-info"
    plugins.mkdir()
    (plugins / "METADATA").write_text("Name: locust-plugins\nVersion: 4.5.0\n")
    assert facts.locust_version(str(tmp_path)) == "2.47.0"


def test_metadata_without_a_version_header_gives_none(tmp_path: Path) -> None:
    dist = install_locust(tmp_path)
    (dist / "METADATA").write_text("Metadata-Version: 2.4\nName: locust\n\nVersion: 1.0\n")
    assert facts.locust_version(str(tmp_path)) is None


def test_worker_instances_are_the_enabled_instances(tmp_path: Path) -> None:
    for name in ("locust-worker@2.service", "locust-worker@1.service", "locust-worker@.service"):
        (tmp_path / name).symlink_to("/dev/null")
    (tmp_path / "ssh.service").symlink_to("/dev/null")
    assert facts.worker_instances(str(tmp_path)) == [
        "locust-worker@1.service",
        "locust-worker@2.service",
    ]
    assert facts.worker_instances(str(tmp_path / "missing")) == []


def test_the_module_returns_everything_at_the_top_level_and_changes_nothing(
    base: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setattr(facts, "master_active", lambda unit=None: True)
    monkeypatch.setattr(facts, "worker_instances", lambda wants=None: ["locust-worker@1.service"])
    monkeypatch.setattr(facts, "boot_id", lambda path=None: "boot-1")
    install_locust(base)
    before = time.time()
    with (
        patch_module_args({"base_dir": str(base), "_ansible_check_mode": True}),
        pytest.raises(SystemExit),
    ):
        facts.main()
    result = json.loads(capsys.readouterr().out)
    assert result["changed"] is False
    assert "ansible_facts" not in result
    assert result["locust_version"] == "2.47.0"
    assert result["plan"] == str(base / "plans" / "website")
    assert result["mismatches"] == [] and result["extra"] == []
    assert result["master_active"] is True
    assert result["worker_instances"] == ["locust-worker@1.service"]
    assert result["python_version"] == platform.python_version()
    assert before <= result["clock"] <= time.time()
    assert result["boot_id"] == "boot-1"


def test_the_boot_id_is_read(tmp_path: Path) -> None:
    path = tmp_path / "boot_id"
    path.write_text("3f2a-9be1\n")
    assert facts.boot_id(str(path)) == "3f2a-9be1"
    assert facts.boot_id(str(tmp_path / "none")) is None
    if os.path.exists(facts.BOOT_ID_PATH):
        assert facts.boot_id()


def _action_plugin():
    spec = importlib.util.spec_from_file_location(
        "fleet_locust_host_facts_action", REPO / "collection/plugins/action/locust_host_facts.py"
    )
    action = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(action)
    return action


def test_the_clock_offset_is_computed_as_ntp_does() -> None:
    offset = _action_plugin().clock_offset
    # host 2.0 s ahead, 0.1 s each way, 0.3 s on the host
    got, delay = offset(sent=100.0, host_start=102.1, host_answer=102.4, received=100.5)
    assert got == pytest.approx(2.0) and delay == pytest.approx(0.2)
    # host behind, uneven legs: the error stays within half the delay
    got, delay = offset(sent=100.0, host_start=99.05, host_answer=99.3, received=100.4)
    assert abs(got - -1.0) <= delay / 2 + 1e-9


def test_the_module_reads_when_its_process_started() -> None:
    started = facts.started_clock()
    assert started is not None
    assert time.time() - 600 < started <= time.time() + 0.02


def test_unit_times_are_wall_clock_seconds_from_one_systemctl_show(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    booted = time.monotonic()
    shown = (
        "Id=locust-master.service\nActiveState=inactive\nSubState=dead\n"
        "ExecMainStartTimestampMonotonic=1000000\n"
        f"ExecMainExitTimestampMonotonic={int((booted - 30) * 1e6)}\n\n"
        "Id=locust-worker@1.service\nActiveState=active\nSubState=running\n"
        f"ExecMainStartTimestampMonotonic={int((booted - 10) * 1e6)}\n"
        "ExecMainExitTimestampMonotonic=0\nLimitNOFILESoft=20000\n\n"
        "Id=locust-worker@2.service\nActiveState=activating\nSubState=auto-restart\n"
        f"ExecMainStartTimestampMonotonic={int((booted - 50) * 1e6)}\n"
        "ExecMainExitTimestampMonotonic=0\n"
    )
    asked = []
    monkeypatch.setattr(facts, "run", lambda argv, timeout=60: asked.append(argv) or (0, shown))
    units = ["locust-worker@1.service", "locust-worker@2.service"]
    exited, started, nofile = facts.unit_times(units)
    assert nofile == {"locust-worker@1.service": 20000, "locust-worker@2.service": None}
    assert len(asked) == 1 and asked[0][-3:] == ["locust-master.service", *units]
    assert abs(exited - (time.time() - 30)) < 1
    assert abs(started["locust-worker@1.service"] - (time.time() - 10)) < 1
    assert started["locust-worker@2.service"] is None  # not running: it has no process to keep
    monkeypatch.setattr(facts, "run", lambda argv, timeout=60: (None, ""))
    assert facts.unit_times(units) == (None, dict.fromkeys(units), dict.fromkeys(units))


def test_the_hosts_own_addresses_are_those_the_kernel_holds_but_loopback_and_link_local():
    import ipaddress
    import json as _json
    import subprocess as _subprocess

    found = facts.own_addresses()
    assert found == sorted(found)
    for text in found:
        address = ipaddress.ip_address(text)
        assert not (address.is_loopback or address.is_link_local), text
    # The same as iproute2 lists with global scope, on this machine.
    shown = _subprocess.run(["ip", "-j", "addr"], capture_output=True, text=True, check=True)
    wanted = {
        a["local"]
        for link in _json.loads(shown.stdout)
        for a in link.get("addr_info", [])
        if a.get("scope") == "global"
    }
    assert set(found) == wanted
