"""Interactive mode on the session's sandbox fleet: the web UI stays on the master's loopback,
an exposed UI is refused without a login, and a real headless Chromium drives a test through
`locust-fleet ui`'s SSH forward; `locust-fleet fetch` brings the run home for `report`."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

from .sandbox_hosts import CLI, REPO, SandboxHosts, cli, flat

UI_PORT = 8089


@pytest.fixture(scope="module")
def ui_fleet(fleet: SandboxHosts) -> Iterator[SandboxHosts]:
    """The provisioned session fleet; no UI master is left running after the module."""
    try:
        yield fleet
    finally:
        fleet.ssh(_master(fleet), "systemctl stop locust-master.service", check=False)


def _master(fleet: SandboxHosts) -> str:
    return fleet.role("master")[0]["name"]


def _worker_processes(fleet: SandboxHosts) -> int:
    total = 0
    for worker in fleet.role("worker"):
        out = fleet.ssh(
            worker["name"],
            "systemctl list-units --plain --no-legend --state=active 'locust-worker@*'",
        ).stdout
        total += len(out.splitlines())
    return total


def test_exposing_the_ui_without_a_login_is_refused(ui_fleet):
    proc = cli(
        "ui", "-i", str(ui_fleet.inventory), "--plan", "locustfiles/website", "--no-forward",
        "-e", "locust_ui_listen=0.0.0.0", "-e", "locust_ui_username=", "-e", "locust_ui_password=",
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "no login is set" in flat(proc.stderr)
    active = ui_fleet.ssh(_master(ui_fleet), "systemctl is-active locust-master.service", False)
    assert active.stdout.strip() != "active"


def test_exposing_the_ui_without_tls_is_refused(ui_fleet, monkeypatch):
    monkeypatch.setenv("LOCUST_UI_USERNAME", "tester")
    monkeypatch.setenv("LOCUST_UI_PASSWORD", "ui-test-Pw-3c9a")
    proc = cli(
        "ui", "-i", str(ui_fleet.inventory), "--plan", "locustfiles/website", "--no-forward",
        "-e", "locust_ui_listen=0.0.0.0", "-e", '{"locust_ui_allowed_sources": ["10.0.0.1"]}',
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    said = flat(proc.stderr)
    assert "in clear: give locust_ui_tls_cert and locust_ui_tls_key" in said, said[-2000:]
    active = ui_fleet.ssh(_master(ui_fleet), "systemctl is-active locust-master.service", False)
    assert active.stdout.strip() != "active"


def test_a_ui_port_that_would_shut_out_ssh_is_refused(ui_fleet):
    # The UI's port filter drops every source not allowed on its port: on port 22 it
    # would lock everyone out of the master.
    proc = cli(
        "ui", "-i", str(ui_fleet.inventory), "--plan", "locustfiles/website", "--no-forward",
        "-e", "locust_ui_port=22",
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "its SSH port 22 (the UI's port filter would shut SSH out)" in flat(proc.stderr)
    active = ui_fleet.ssh(_master(ui_fleet), "systemctl is-active locust-master.service", False)
    assert active.stdout.strip() != "active"
    assert ui_fleet.ssh(_master(ui_fleet), "true").returncode == 0  # SSH still works


def _header(driver, label: str) -> str:
    """The value under a label in the UI's top bar (Status, Workers, RPS, ...)."""
    from selenium.webdriver.common.by import By

    lines = [line.strip() for line in driver.find_element(By.TAG_NAME, "body").text.splitlines()]
    return lines[lines.index(label) + 1] if label in lines[:-1] else ""


def _button(driver, label: str):
    """The button showing this label (the UI upper-cases its labels with CSS)."""
    from selenium.webdriver.common.by import By

    buttons = [b for b in driver.find_elements(By.TAG_NAME, "button") if b.text.strip() == label]
    assert buttons, f"no {label} button on the page"
    return buttons[0]


def _wait(predicate, timeout: float, what: str, seen=None, interval: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    last = f" (last seen: {seen()!r})" if seen else ""
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}{last}")


def test_a_ui_start_that_fails_after_the_claim_gives_the_fleet_back(ui_fleet, tmp_path):
    """#14 class 8: the workers cannot start the plan, so the UI master never sees them; the
    start fails naming it, the master is stopped and the claim is released for the next run."""
    plan = REPO / "tests" / "integration" / "plans" / "fails_on_workers"
    proc = ui_fleet.playbook(
        "playbooks/ui.yml", "-e", f"locust_plan={plan}", "-e", "locust_run_expect_workers_timeout=9"
    )
    said = flat(proc.stdout + proc.stderr)
    assert proc.returncode == 2, said[-3000:]
    assert "the UI master did not come up with 4 worker processes within the wait" in said
    master = _master(ui_fleet)
    claim = ui_fleet.ssh(master, "cat /run/locust-fleet/claim.json", check=False).stdout
    assert claim.strip() == "", claim  # nobody holds the fleet
    state = ui_fleet.ssh(master, "systemctl is-active locust-master.service", check=False)
    assert state.stdout.strip() != "active"
    after = ui_fleet.run(tmp_path / "after", "--allow-saturated", users="2", run_time="3s")
    assert after.returncode == 0, after.stdout[-3000:] + after.stderr[-2000:]


def test_ui_driven_run_in_a_real_browser(ui_fleet, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    inventory = str(ui_fleet.inventory)
    master = _master(ui_fleet)
    results = tmp_path / "results"
    forward = None
    try:
        # Start: plan deployed, workers restarted, the master with its web UI (60 s pre-filled
        # in the form's run time as a backstop; the test stops it after a few seconds).
        start = cli(
            "ui", "-i", inventory, "--plan", "locustfiles/website", "-u", "3", "-r", "3",
            "--no-forward", "-e", "locust_ui_run_time=60s",
        )  # fmt: skip
        assert start.returncode == 0, (start.stdout + start.stderr)[-4000:]

        # Safe by default: loopback only, fenced, and the target host cannot reach it.
        listening = ui_fleet.ssh(master, f"ss -Hltn 'sport = :{UI_PORT}'").stdout
        local = {line.split()[3] for line in listening.splitlines() if line.strip()}
        assert local == {f"127.0.0.1:{UI_PORT}"}, listening
        master_ip = ui_fleet.role("master")[0]["ip"]
        target = ui_fleet.role("target")[0]["name"]
        assert not ui_fleet.connects(target, master_ip, UI_PORT)
        table = ui_fleet.ssh(master, "nft list table inet locust_ui").stdout
        assert f"tcp dport {UI_PORT} counter" in table and "drop" in table

        # Same origin only: a page of another site can neither start load nor read the UI.
        ui_url = f"http://127.0.0.1:{UI_PORT}"
        foreign = ui_fleet.ssh(
            master,
            f"curl -s -o /dev/null -w '%{{http_code}}' -X POST -H 'Origin: http://evil.example' "
            f"-d 'user_count=1&spawn_rate=1' {ui_url}/swarm",
        ).stdout
        assert foreign.strip() == "403", foreign
        headers = ui_fleet.ssh(
            master, f"curl -s -D - -o /dev/null -H 'Origin: {ui_url}' {ui_url}/stats/requests"
        ).stdout
        assert headers.startswith("HTTP/1.1 200"), headers
        assert "access-control-allow-origin" not in headers.lower(), headers

        # The forward: `locust-fleet ui` without --plan connects to the running UI.
        forward = subprocess.Popen(
            [CLI, "ui", "-i", inventory],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert forward.stdout is not None
        line = forward.stdout.readline()
        match = re.search(r"Locust web UI: (http://127\.0\.0\.1:\d+/)", line)
        assert match, line + (forward.stderr.read() if forward.poll() is not None else "")
        url = match.group(1)

        expected = _worker_processes(ui_fleet)
        assert expected >= 1
        browser.get(url)
        _wait(lambda: _header(browser, "Workers") == str(expected), 90, f"{expected} workers")
        assert _header(browser, "Status") == "READY"

        for name, value in (("userCount", "3"), ("spawnRate", "3")):
            field = browser.find_element(By.NAME, name)
            field.send_keys(Keys.CONTROL, "a")
            field.send_keys(value)
            assert field.get_attribute("value") == value
        _button(browser, "START").click()

        _wait(lambda: _header(browser, "Status") == "RUNNING", 60, "status RUNNING")
        rps = _wait(
            lambda: (v := _header(browser, "RPS")) and float(v or 0) > 0 and v, 90, "RPS above 0"
        )
        time.sleep(3)  # a few more seconds of charts for the screenshot
        shot = tmp_path / "ui-running.png"
        assert browser.save_screenshot(str(shot)), "no screenshot"
        print(f"screenshot of the running test (RPS {rps}): {shot}")

        _button(browser, "STOP").click()
        # The master shows STOPPING until it rechecks its workers, then STOPPED.
        _wait(
            lambda: _header(browser, "Status") in {"STOPPING", "STOPPED", "READY"},
            60,
            "the test to stop",
            lambda: _header(browser, "Status"),
        )
    finally:
        if forward is not None:
            forward.send_signal(signal.SIGTERM)  # `locust-fleet ui` closes its ssh by PID
            out, err = forward.communicate(timeout=60)
        fetched = cli("fetch", "-i", inventory, "--results", str(results), timeout=900)
    assert forward is not None and forward.returncode == 0, out + err
    assert "forward closed" in err
    assert fetched.returncode == 0, (fetched.stdout + fetched.stderr)[-4000:]
    active = ui_fleet.ssh(master, "systemctl is-active locust-master.service", check=False)
    assert active.stdout.strip() == "inactive"

    runs = [p for p in results.iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    run = runs[0]
    for name in ("locust_stats.csv", "locust_stats_history.csv", "report.html", "run.json"):
        assert (run / name).is_file(), f"{name} missing from {sorted(os.listdir(run))}"
    log = (run / "master.log").read_text()
    stopped_at = log.index("reported that it has stopped")  # the STOP click, before the fetch
    assert stopped_at < log.index("Shutting down")
    record = json.loads((run / "run.json").read_text())
    assert record["parameters"]["users"] == 3
    assert record["workers_expected"] == expected and record["error"] == ""
    report = cli("report", str(run))
    assert report.returncode == 0, (report.stdout + report.stderr)[-3000:]
    assert "Aggregated" in report.stdout
    shutil.copy(shot, run / "ui-running.png")


def test_exposed_ui_needs_the_login_tls_and_the_allowlist(ui_fleet, tmp_path, monkeypatch):
    """Opt-in exposure: HTTPS, a login from the controller's environment, only the allowlist."""
    import requests
    import urllib3

    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    cert, key = tmp_path / "ui.crt", tmp_path / "ui.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=locust-fleet-ui-test", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    password = "ui-test-Pw-7d1e"
    monkeypatch.setenv("LOCUST_UI_USERNAME", "tester")
    monkeypatch.setenv("LOCUST_UI_PASSWORD", password)
    # The controller's address on the sandbox bridge: the /24's first host.
    gateway = ui_fleet.role("master")[0]["ip"].rsplit(".", 1)[0] + ".1"
    inventory = str(ui_fleet.inventory)
    master = _master(ui_fleet)
    master_ip = ui_fleet.role("master")[0]["ip"]
    try:
        start = cli(
            "ui", "-i", inventory, "--plan", "locustfiles/website", "--no-forward",
            "-e", "locust_ui_listen=0.0.0.0", "-e", f"locust_ui_tls_cert={cert}",
            "-e", f"locust_ui_tls_key={key}",
            "-e", f'{{"locust_ui_allowed_sources": ["{gateway}"]}}',
        )  # fmt: skip
        assert start.returncode == 0, (start.stdout + start.stderr)[-4000:]
        assert password not in start.stdout + start.stderr

        session = requests.Session()
        base = f"https://{master_ip}:{UI_PORT}"
        page = session.get(f"{base}/", timeout=30, verify=False)
        assert urlparse(page.url).path == "/login", page.url  # no way in without the login
        refused = session.post(
            f"{base}/fleet_login",
            data={"username": "tester", "password": "wrong"},
            timeout=30,
            verify=False,
        )
        assert urlparse(refused.url).path == "/login", refused.url
        locked = session.get(f"{base}/stats/requests", timeout=30, verify=False)
        assert urlparse(locked.url).path == "/login", locked.url
        session.post(
            f"{base}/fleet_login",
            data={"username": "tester", "password": password},
            timeout=30,
            verify=False,
        )
        stats = session.get(f"{base}/stats/requests", timeout=30, verify=False)
        assert stats.headers.get("content-type", "").startswith("application/json"), stats.url
        assert stats.json()["state"] == "ready"

        target = ui_fleet.role("target")[0]["name"]
        assert not ui_fleet.connects(target, master_ip, UI_PORT)
        for worker in ui_fleet.role("worker"):
            assert not ui_fleet.connects(worker["name"], master_ip, UI_PORT)
        env = ui_fleet.ssh(master, "cat /etc/locust/secrets.env").stdout
        assert "LOCUST_FLEET_UI_PASSWORD=" in env
    finally:
        ui_fleet.ssh(master, "systemctl stop locust-master.service", check=False)
    journal = ui_fleet.ssh(master, "journalctl --no-pager -u locust-master", check=False).stdout
    assert password not in journal
