"""Live metrics on the sandbox fleet, read back through a real Prometheus (issue 13).

The session sandbox gets a monitoring host (`sandbox up --monitoring`: Debian's
Prometheus scraping the master's metrics port, listed in group `monitoring`, with
`locust_metrics_enabled` in the inventory); the fleet is provisioned again, a run
goes, and Prometheus's HTTP API must show that run's requests and users while it runs.
Afterwards the monitor is removed and the master provisioned without metrics again.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.unit.test_metrics_dashboard import dashboard_metric_names

from .sandbox_hosts import SandboxHosts, cli, stop

METRICS_PORT = 9646
PROMETHEUS_PORT = 9090


def sandbox_up(fleet: SandboxHosts, *extra: str) -> SandboxHosts:
    proc = cli(
        "sandbox", "up", "--name", fleet.name, "--workers", str(len(fleet.role("worker"))),
        "--inventory", str(fleet.inventory), "--json", *extra,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    return SandboxHosts(fleet.name, fleet.inventory, fleet.key, data["hosts"])


@pytest.fixture(scope="module")
def monitored(fleet):
    """The session fleet with a monitoring host and metrics on; put back as it was after."""
    hosts = sandbox_up(fleet, "--monitoring")
    (monitor,) = hosts.role("monitor")
    try:
        site = hosts.playbook("playbooks/site.yml", "-e", "locust_testplan_src=locustfiles/website")
        assert site.returncode == 0, site.stdout[-4000:]
        wait_for_prometheus(monitor["ip"])
        yield hosts
    finally:
        back = sandbox_up(fleet)
        assert not back.role("monitor")
        off = back.playbook("playbooks/site.yml", "--tags", "locust_master")
        assert off.returncode == 0, off.stdout[-4000:]


def prometheus(ip: str, path: str, **params: str) -> dict:
    url = f"http://{ip}:{PROMETHEUS_PORT}{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=10) as answer:
        body = json.loads(answer.read())
    assert body["status"] == "success", body
    return body["data"]


def query(ip: str, promql: str) -> list[dict]:
    return prometheus(ip, "/api/v1/query", query=promql)["result"]


def wait_for_prometheus(ip: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            targets = prometheus(ip, "/api/v1/targets")["activeTargets"]
        except OSError:
            targets = []
        if targets:
            return
        assert time.monotonic() < deadline, "Prometheus on the monitoring host never answered"
        time.sleep(1)


def scrape_from(hosts: SandboxHosts, host: str, master_ip: str) -> int:
    """curl's exit code for the master's /metrics from `host` (0: got it; 28: timed out)."""
    url = f"http://{master_ip}:{METRICS_PORT}/metrics"
    return hosts.ssh(host, f"curl -sf -o /dev/null -m 5 {url}", check=False).returncode


def screenshot_graph(browser, ip: str, run_id: str, shot: Path, not_before: float) -> None:
    """Prometheus's own graph page of the run's requests per second, in headless Chromium,
    once the run has drawn ~30 s of lines (time.monotonic() >= not_before).

    With LOCUST_FLEET_SCREENSHOTS=DIR the picture is also copied there (the README's is
    docs/images/prometheus-live-requests.png, taken this way)."""
    from selenium.webdriver.common.by import By

    promql = f'rate(locust_requests_total{{run_id="{run_id}"}}[15s])'
    page = urllib.parse.urlencode({"g0.expr": promql, "g0.tab": "0", "g0.range_input": "1m"})
    time.sleep(max(0.0, not_before - time.monotonic()))
    browser.set_window_size(1400, 1150)  # the legend below the chart too
    browser.get(f"http://{ip}:{PROMETHEUS_PORT}/graph?{page}")
    deadline = time.monotonic() + 30
    # The legend names each series by its labels: the run's endpoints were drawn.
    while 'name="/"' not in browser.find_element(By.TAG_NAME, "body").text:
        assert time.monotonic() < deadline, "Prometheus's graph page never drew the run's series"
        time.sleep(1)
    time.sleep(2)  # let the chart finish drawing
    assert browser.save_screenshot(str(shot)), "no screenshot"
    assert shot.stat().st_size > 20_000, "the screenshot is (nearly) blank"
    if os.environ.get("LOCUST_FLEET_SCREENSHOTS"):
        shutil.copy(
            shot, Path(os.environ["LOCUST_FLEET_SCREENSHOTS"]) / "prometheus-live-requests.png"
        )
    print(f"screenshot of Prometheus's graph of run {run_id}: {shot}")


def test_prometheus_sees_the_runs_requests_and_users_while_it_runs(monitored, browser, tmp_path):
    (monitor,) = monitored.role("monitor")
    (master,) = monitored.role("master")
    worker = monitored.role("worker")[0]["name"]
    # Between runs nothing listens on the metrics port, not even for the allowed monitor.
    assert scrape_from(monitored, monitor["name"], master["ip"]) == 7  # connection refused

    run = monitored.start_run(tmp_path, users="10", rate="10", run_time="45s")
    done = False
    try:
        run_id = monitored.wait_until_running(run.proc, run.before)
        running_since = time.monotonic()
        users, requests = 0.0, 0.0
        deadline = time.monotonic() + 25
        while time.monotonic() < deadline and not (users == 10 and requests > 0):
            time.sleep(2)
            found = query(monitor["ip"], f'sum(locust_users{{run_id="{run_id}"}})')
            users = float(found[0]["value"][1]) if found else 0.0
            found = query(monitor["ip"], f'sum(locust_requests_total{{run_id="{run_id}"}})')
            requests = float(found[0]["value"][1]) if found else 0.0
        assert users == 10, f"Prometheus saw {users} users of run {run_id}, not 10"
        assert requests > 0, f"Prometheus saw no requests of run {run_id}"
        by_endpoint = query(monitor["ip"], f'locust_requests_total{{run_id="{run_id}"}}')
        assert {r["metric"]["name"] for r in by_endpoint} >= {"/"}
        connected = query(monitor["ip"], f'locust_workers_connected{{run_id="{run_id}"}}')
        expected = query(monitor["ip"], f'locust_workers_expected{{run_id="{run_id}"}}')
        assert float(expected[0]["value"][1]) > 0
        assert connected[0]["value"][1] == expected[0]["value"][1]
        cpu = query(monitor["ip"], f'locust_worker_cpu_percent{{run_id="{run_id}"}}')
        assert {r["metric"]["host"] for r in cpu} == {h["name"] for h in monitored.role("worker")}

        # The fence: the monitor (an allowed source) gets the page, a worker does not.
        assert scrape_from(monitored, monitor["name"], master["ip"]) == 0
        assert scrape_from(monitored, worker, master["ip"]) == 28  # dropped: curl timed out
        screenshot_graph(
            browser, monitor["ip"], run_id, tmp_path / "prometheus.png", running_since + 32
        )
        out, err = run.proc.communicate(timeout=300)
        done = True
    finally:
        if not done:
            stop(run.proc)
    assert run.proc.returncode in (0, 4), out[-3000:] + err[-3000:]  # 4: saturated sandbox
    # The run is over: the master, and its metrics port, are gone.
    assert scrape_from(monitored, monitor["name"], master["ip"]) == 7

    # Every metric the Grafana dashboard asks for is one Prometheus scraped from the master.
    scraped = set(prometheus(monitor["ip"], "/api/v1/label/__name__/values"))
    for promql, names in dashboard_metric_names().items():
        assert names <= scraped, f"dashboard query {promql!r}: {names - scraped} never scraped"
