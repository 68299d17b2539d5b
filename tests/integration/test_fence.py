"""The master's port filter holds by itself: flushed since site.yml (by hand, another firewall
tool, a reload of nftables.service), it is back before the next run's master starts. A module
of its own: test_security's runs keep the fleet busy while its tests look at it."""

from __future__ import annotations

PORT = 5557


def test_a_port_filter_flushed_since_site_yml_is_restored_at_the_next_start(fleet, tmp_path):
    master = fleet.role("master")[0]["name"]
    flushed = fleet.ssh(master, "nft delete table inet locust")
    assert flushed.returncode == 0, flushed.stderr
    done = fleet.run(tmp_path, users="4", rate="4", run_time="3s")
    assert done.returncode == 0, done.stderr[-3000:]
    table = fleet.ssh(master, "nft list table inet locust")
    assert table.returncode == 0 and f"tcp dport {PORT} counter" in table.stdout
    assert not fleet.connects(fleet.role("target")[0]["name"], fleet.role("master")[0]["ip"], PORT)
