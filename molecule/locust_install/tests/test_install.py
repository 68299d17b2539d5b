"""locust_install: user, directories, the pinned Locust from a verified wheelhouse."""

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))
import checks

testinfra_hosts = checks.hosts("all")

PIN = checks.role_defaults("locust_install")["locust_version"]
VENV = "/opt/locust/venv"
OLD = "2.46.0"


def installed_version(host) -> str:
    return host.check_output(f"{VENV}/bin/locust --version")


def test_locust_user_is_a_system_account_without_login(host):
    user = host.user("locust")
    assert user.exists
    assert user.uid < 1000
    assert user.group == "locust"
    assert user.shell in ("/usr/sbin/nologin", "/sbin/nologin")


@pytest.mark.parametrize(
    ("path", "owner", "group", "mode"),
    [
        ("/opt/locust", "root", "root", 0o755),
        ("/opt/locust/plans", "root", "root", 0o755),
        ("/etc/locust", "root", "locust", 0o750),
        ("/var/lib/locust", "locust", "locust", 0o750),
        ("/var/lib/locust/runs", "locust", "locust", 0o750),
    ],
)
def test_directories(host, path, owner, group, mode):
    d = host.file(path)
    assert d.is_directory
    assert (d.user, d.group, d.mode) == (owner, group, mode)


def test_locust_reports_the_pinned_version(host):
    assert installed_version(host).startswith(f"locust {PIN} from {VENV}/")


def test_wheels_on_the_host_match_the_controllers(host):
    probe = "import platform, sys; print('%d.%d-%s' % (*sys.version_info[:2], platform.machine()))"
    tag = host.check_output("/usr/bin/python3 -c %s", probe)
    cache = Path.home() / ".cache/locust-fleet/wheelhouse" / PIN / tag
    wheels = sorted(cache.glob("*.whl"))
    assert any(w.name.startswith(f"locust-{PIN}-") for w in wheels)
    for wheel in wheels:
        local = hashlib.sha256(wheel.read_bytes()).hexdigest()
        remote = host.file(f"/opt/locust/wheelhouse/{PIN}/{wheel.name}").sha256sum
        assert remote == local, wheel.name


@pytest.fixture
def old_locust_wheel(tmp_path_factory) -> Path:
    """Locust OLD's wheel (no dependencies), from the package index, cached on the controller."""
    cache = Path.home() / ".cache/locust-fleet/test-wheels"
    found = sorted(cache.glob(f"locust-{OLD}-*.whl"))
    if not found:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--disable-pip-version-check",
                "--no-deps",
                "--only-binary=:all:",
                f"locust=={OLD}",
                "-d",
                str(cache),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
        found = sorted(cache.glob(f"locust-{OLD}-*.whl"))
    return found[0]


def test_another_version_is_reported_in_check_mode_and_corrected(host, old_locust_wheel):
    # Put another Locust on the host, as drift would.
    wheel = f"/root/{old_locust_wheel.name}"
    host.ansible(
        "ansible.builtin.copy", f"src={old_locust_wheel} dest={wheel} mode=0644", check=False
    )
    host.check_output(
        f"{VENV}/bin/python -m pip install --no-index --no-deps --disable-pip-version-check {wheel}"
    )
    assert installed_version(host).startswith(f"locust {OLD} ")

    # Check mode: reported as a change, nothing changed on the host.
    checked = checks.run_playbook(checks.scenario_file("converge.yml"), "--check")
    assert checked.returncode == 0, checked.stdout[-3000:]
    assert f"Locust {OLD} is installed" in checked.stdout
    assert checks.recap(checked.stdout)[host.backend.host]["changed"] >= 1
    assert installed_version(host).startswith(f"locust {OLD} ")

    # A real run corrects it.
    fixed = checks.run_playbook(checks.scenario_file("converge.yml"))
    assert fixed.returncode == 0, fixed.stdout[-3000:]
    assert installed_version(host).startswith(f"locust {PIN} ")
