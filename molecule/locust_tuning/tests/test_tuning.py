"""locust_tuning: the sysctl file, the live kernel values, the limits file."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))
import checks

testinfra_hosts = checks.hosts("all")

WANTED = checks.role_defaults("locust_tuning")["locust_tuning_sysctl_defaults"]
# Per network namespace: a container sets these like a machine does.
NAMESPACED = [
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_tw_reuse",
    "net.ipv4.tcp_fin_timeout",
    "net.core.somaxconn",
    "net.ipv4.tcp_max_syn_backlog",
]


def live(host, key: str) -> str | None:
    result = host.run("sysctl -n %s", key)
    return " ".join(result.stdout.split()) if result.rc == 0 else None


def test_sysctl_file_holds_every_setting(host):
    conf = host.file("/etc/sysctl.d/60-locust.conf")
    assert conf.user == "root" and conf.mode == 0o644
    lines = {
        line.split(" = ", 1)[0]: line.split(" = ", 1)[1]
        for line in conf.content_string.splitlines()
        if " = " in line and not line.startswith("#")
    }
    assert lines == {key: str(value) for key, value in WANTED.items()}


def test_namespaced_settings_are_live(host):
    for key in NAMESPACED:
        assert live(host, key) == " ".join(str(WANTED[key]).split()), key


def test_other_settings_are_live_or_refused_by_the_container(host):
    virt = host.check_output("systemd-detect-virt || true")
    for key in set(WANTED) - set(NAMESPACED):
        value = live(host, key)
        if value == str(WANTED[key]):
            continue
        # Not live: only acceptable where the kernel refuses the key to this host.
        assert virt not in ("", "none"), f"{key} is {value}, wanted {WANTED[key]}, on a machine"
        refused = host.run("sysctl -w %s=%s", key, str(WANTED[key]))
        assert refused.rc != 0, f"{key} could be set but was left at {value}"


def test_limits_file_gives_the_locust_user_65535_open_files(host):
    text = host.file("/etc/security/limits.d/60-locust.conf").content_string
    entries = {
        tuple(line.split()) for line in text.splitlines() if line and not line.startswith("#")
    }
    assert entries == {("locust", "soft", "nofile", "65535"), ("locust", "hard", "nofile", "65535")}
