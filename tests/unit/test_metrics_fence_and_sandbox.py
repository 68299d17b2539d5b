"""The metrics port's fence (locust.nft.j2) and the sandbox's monitoring host, without hosts."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import jinja2
import yaml

from locust_fleet.sandbox.image import MONITOR_PACKAGES, recipe_hash
from locust_fleet.sandbox.inventory import write_inventory
from locust_fleet.sandbox.lab import Sandbox
from locust_fleet.sandbox.monitor import METRICS_PORT, prometheus_config
from locust_fleet.sandbox.state import HostRecord, SandboxState

ROOT = Path(__file__).resolve().parents[2]
NFT = ROOT / "roles/locust_master/templates/locust.nft.j2"


def render_nft(**overrides) -> str:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True)
    env.filters["comment"] = lambda text: f"# {text}"
    env.filters["bool"] = bool
    env.tests["match"] = lambda value, pattern: re.match(pattern, value) is not None
    defaults = yaml.safe_load((ROOT / "roles/locust_master/defaults/main.yml").read_text())
    values = {
        "ansible_managed": "Ansible managed",
        "locust_master_port": defaults["locust_master_port"],
        "locust_metrics_enabled": defaults["locust_metrics_enabled"],
        "locust_metrics_port": defaults["locust_metrics_port"],
        "locust_metrics_allowed_sources": defaults["locust_metrics_allowed_sources"],
        "_locust_master_allowed_ipv4": ["10.0.0.31", "10.0.0.32"],
        "_locust_master_allowed_ipv6": [],
        **overrides,
    }
    return env.from_string(NFT.read_text()).render(**values)


def test_metrics_off_leaves_the_metrics_port_out_of_the_table():
    table = render_nft()
    assert "9646" not in table
    assert "tcp dport 5557 counter drop" in table


def test_metrics_on_accepts_loopback_and_the_allowed_sources_and_drops_everyone_else():
    table = render_nft(
        locust_metrics_enabled=True,
        locust_metrics_allowed_sources=["10.0.0.5", "192.0.2.0/24", "2001:db8::7"],
    )
    rules = [line.strip() for line in table.splitlines()]
    assert 'iif "lo" tcp dport 9646 accept' in rules
    assert "ip saddr @metrics_ipv4 tcp dport 9646 accept" in rules
    assert "ip6 saddr @metrics_ipv6 tcp dport 9646 accept" in rules
    assert "elements = { 10.0.0.5, 192.0.2.0/24 }" in rules
    assert "elements = { 2001:db8::7 }" in rules
    # The drop comes after every accept, and the workers' set does not open this port.
    assert rules.index("tcp dport 9646 counter drop") > rules.index(
        "ip6 saddr @metrics_ipv6 tcp dport 9646 accept"
    )
    assert "ip saddr @workers_ipv4 tcp dport 9646 accept" not in rules


def test_metrics_on_without_sources_is_loopback_only():
    rules = [
        line.strip()
        for line in render_nft(locust_metrics_enabled=True).splitlines()
        if "9646" in line and not line.startswith("#")
    ]
    assert rules == ['iif "lo" tcp dport 9646 accept', "tcp dport 9646 counter drop"]


def state_with_monitor() -> SandboxState:
    return SandboxState(
        "t",
        "10.9.9.0/24",
        "lfbr-t",
        [
            HostRecord("t-monitor", "monitor", "10.9.9.5"),
            HostRecord("t-master", "master", "10.9.9.10"),
            HostRecord("t-target", "target", "10.9.9.20"),
            HostRecord("t-worker1", "worker", "10.9.9.31"),
        ],
    )


def test_the_monitor_is_in_group_monitoring_and_let_through_the_fence(tmp_path):
    path = tmp_path / "hosts.yml"
    write_inventory(path, state_with_monitor(), Path("/k/id"))
    data = yaml.safe_load(path.read_text())["all"]
    assert data["children"]["monitoring"]["hosts"] == {"t-monitor": {"ansible_host": "10.9.9.5"}}
    assert list(data["children"]["locust_workers"]["hosts"]) == ["t-worker1"]
    assert data["vars"]["locust_metrics_enabled"] is True
    # The monitor and this machine (the bridge's address), nobody else.
    assert data["vars"]["locust_metrics_allowed_sources"] == ["10.9.9.5", "10.9.9.1"]


def test_without_a_monitor_the_inventory_leaves_metrics_alone(tmp_path):
    state = state_with_monitor()
    state.hosts = [h for h in state.hosts if h.role != "monitor"]
    path = tmp_path / "hosts.yml"
    write_inventory(path, state, Path("/k/id"))
    data = yaml.safe_load(path.read_text())["all"]
    assert "monitoring" not in data["children"]
    assert "locust_metrics_enabled" not in data["vars"]


def test_monitoring_adds_one_host_and_prometheus_scrapes_the_master():
    sandbox = Sandbox("t", inventory=Path("/nonexistent/hosts.yml"), log=lambda _m: None)
    subnet = ipaddress.ip_network("10.9.9.0/24")
    plain = sandbox._wanted_hosts(subnet, 2)
    monitored = sandbox._wanted_hosts(subnet, 2, monitoring=True)
    assert [h.name for h in monitored if h not in plain] == ["t-monitor"]
    assert {h.ip for h in monitored} == {h.ip for h in plain} | {"10.9.9.5"}
    config = yaml.safe_load(prometheus_config("t", "10.9.9.10"))
    (job,) = config["scrape_configs"]
    assert job["static_configs"][0]["targets"] == [f"10.9.9.10:{METRICS_PORT}"]


def test_the_monitoring_image_leaves_the_hosts_image_alone():
    assert recipe_hash(MONITOR_PACKAGES) != recipe_hash()
    assert recipe_hash(()) == recipe_hash()
    assert "prometheus" in MONITOR_PACKAGES
