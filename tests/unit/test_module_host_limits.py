"""fleet.locust.locust_nofile_ceiling and fleet.locust.locust_sysctl on recorded /proc texts and
a /proc/sys tree of their own."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def load(name: str):
    spec = importlib.util.spec_from_file_location(
        f"fleet_{name}", REPO / f"collection/plugins/modules/{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ceiling = load("locust_nofile_ceiling")
sysctl = load("locust_sysctl")

# /proc/1/limits and /proc/1/status as a systemd-nspawn container's PID 1 has them.
LIMITS = (
    "Limit                     Soft Limit           Hard Limit           Units     \n"
    "Max processes             63457                63457                processes \n"
    "Max open files            1024                 524288               files     \n"
)
STATUS_NO_SYS_RESOURCE = "Name:\tsystemd\nCapEff:\t00000000fcecfbff\n"  # bit 24 clear
STATUS_FULL = "Name:\tsystemd\nCapEff:\t000001ffffffffff\n"


def test_a_container_pid1_without_cap_sys_resource_clamps_to_its_hard_limit() -> None:
    got = ceiling.ceiling(1_048_576, LIMITS, STATUS_NO_SYS_RESOURCE, "1048576\n")
    assert got == {
        "effective": 524288,
        "nr_open": 1048576,
        "pid1_hard": 524288,
        "pid1_can_raise": False,
    }


def test_a_pid1_that_can_raise_is_capped_by_nr_open_only() -> None:
    got = ceiling.ceiling(2_000_000, LIMITS, STATUS_FULL, "1048576\n")
    assert got["effective"] == 1048576 and got["pid1_can_raise"] is True
    assert ceiling.ceiling(65535, LIMITS, STATUS_FULL, "1048576")["effective"] == 65535


def test_unlimited_hard_limit_counts_as_the_kernel_maximum() -> None:
    text = LIMITS.replace("1024                 524288", "unlimited            unlimited")
    assert ceiling.pid1_hard_limit(text) == 1073741816


def make_proc(root: Path, values: dict[str, str]) -> Path:
    for key, value in values.items():
        path = root.joinpath(*key.split("."))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n")
    return root


def test_only_keys_that_differ_are_written_and_whitespace_does_not_count(tmp_path: Path) -> None:
    root = make_proc(
        tmp_path,
        {"net.ipv4.ip_local_port_range": "10240\t65535", "net.core.somaxconn": "4096"},
    )
    got = sysctl.settle(
        {"net.ipv4.ip_local_port_range": "10240 65535", "net.core.somaxconn": 65535}, root=str(root)
    )
    assert got["applied"] == ["net.core.somaxconn"]
    assert got["unapplied"] == [] and got["errors"] == {}
    assert (root / "net/core/somaxconn").read_text() == "65535\n"
    assert got["live"] == {
        "net.core.somaxconn": "65535",
        "net.ipv4.ip_local_port_range": "10240 65535",
    }
    again = sysctl.settle({"net.core.somaxconn": "65535"}, root=str(root))
    assert again["applied"] == []


def test_missing_and_refused_keys_are_reported_not_raised(tmp_path: Path, monkeypatch) -> None:
    root = make_proc(tmp_path, {"fs.file-max": "100"})
    # what a container's kernel answers for fs.file-max (root could write the test's file)
    monkeypatch.setattr(sysctl, "write_live", lambda key, value, root: "Read-only file system")
    got = sysctl.settle(
        {"fs.file-max": "2097152", "net.core.netdev_max_backlog": "65535"}, root=str(root)
    )
    assert got["unapplied"] == ["fs.file-max", "net.core.netdev_max_backlog"]
    assert got["applied"] == []
    assert got["live"] == {"fs.file-max": "100", "net.core.netdev_max_backlog": None}
    assert got["errors"] == {
        "fs.file-max": "Read-only file system",
        "net.core.netdev_max_backlog": "no such key",
    }


def test_check_mode_reads_only_and_reports_what_it_would_write(tmp_path: Path) -> None:
    root = make_proc(tmp_path, {"net.core.somaxconn": "4096"})
    got = sysctl.settle({"net.core.somaxconn": "65535"}, check_mode=True, root=str(root))
    assert got["applied"] == ["net.core.somaxconn"] and got["unapplied"] == []
    assert (root / "net/core/somaxconn").read_text() == "4096\n"


def test_apply_false_only_reads(tmp_path: Path) -> None:
    root = make_proc(tmp_path, {"net.core.somaxconn": "4096"})
    got = sysctl.settle({"net.core.somaxconn": "65535"}, apply=False, root=str(root))
    assert got["applied"] == [] and got["unapplied"] == ["net.core.somaxconn"]


def test_a_slash_in_a_key_is_a_dot_in_one_part_and_dot_dot_is_refused(tmp_path: Path) -> None:
    assert sysctl.key_path("net.ipv4.conf.eth0/1.rp_filter", "/proc/sys") == (
        "/proc/sys/net/ipv4/conf/eth0.1/rp_filter"
    )
    live, why = sysctl.read_live("net....x", str(tmp_path))
    assert live is None and "not a sysctl key" in why
