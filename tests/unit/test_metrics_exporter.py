"""The master's live-metrics plugin (roles/locust_master/files/locust_fleet_metrics.py).

Real Locust objects (an Environment with a MasterRunner bound to loopback, WorkerNodes as
the master keeps them from heartbeats) and a real scrape over HTTP; no hosts.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import urllib.request
from argparse import Namespace
from pathlib import Path

import pytest
from locust import HttpUser, task
from locust.env import Environment
from locust.runners import WorkerNode
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

PLUGIN = Path(__file__).resolve().parents[2] / "roles/locust_master/files/locust_fleet_metrics.py"
RUN_ID = "20261202T120000Z-abc123"


def load_plugin():
    spec = importlib.util.spec_from_file_location("locust_fleet_metrics_under_test", PLUGIN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


metrics = load_plugin()


class SiteUser(HttpUser):
    host = "http://127.0.0.1:9"

    @task
    def index(self):  # never run: the tests log requests themselves
        pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_master() -> Environment:
    """A master as a run's config makes it: outputs under runs/<run id>/, 3 expected workers."""
    options = Namespace(
        csv_prefix=f"/var/lib/locust/runs/{RUN_ID}/locust", expect_workers=3, json_file=None
    )
    env = Environment(user_classes=[SiteUser], parsed_options=options, host="http://target")
    env.create_master_runner("127.0.0.1", free_port())
    return env


@pytest.fixture
def master():
    env = make_master()
    yield env
    env.runner.quit()


def add_worker(env, worker_id, state="running", cpu=0.0, warned=False, users=0):
    node = WorkerNode(worker_id, state=state)
    node.cpu_usage = cpu
    node.cpu_warning_emitted = warned
    node.memory_usage = 50_000_000
    node.user_classes_count = {"SiteUser": users}
    env.runner.clients[worker_id] = node
    return node


def scrape(env) -> dict:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(metrics.FleetCollector(env, metrics.run_id_of(env.parsed_options)))
    return samples(generate_latest(registry).decode())


def samples(text: str) -> dict:
    """{(sample name, frozenset of labels): value} from Prometheus text."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: dict, metric: str, /, **labels) -> float:
    key = (metric, frozenset({"run_id": RUN_ID, **labels}.items()))
    assert key in found, f"no sample {metric}{labels}; have {sorted(k[0] for k in found)}"
    return found[key]


def test_requests_failures_and_response_times_per_endpoint_carry_the_run_id(master):
    stats = master.runner.stats
    for millis in (3, 4, 40, 120, 2600):
        stats.log_request("GET", "/", millis, 100)
    stats.log_request("POST", "/cart", 8, 10)
    stats.log_error("POST", "/cart", "HTTPError 500")
    found = scrape(master)
    assert value(found, "locust_requests_total", method="GET", name="/") == 5
    assert value(found, "locust_failures_total", method="GET", name="/") == 0
    assert value(found, "locust_requests_total", method="POST", name="/cart") == 1
    assert value(found, "locust_failures_total", method="POST", name="/cart") == 1
    # The histogram's buckets are cumulative; count and sum are Locust's own.
    bucket = "locust_response_time_seconds_bucket"
    assert value(found, bucket, method="GET", name="/", le="0.005") == 2
    assert value(found, bucket, method="GET", name="/", le="0.05") == 3
    assert value(found, bucket, method="GET", name="/", le="0.25") == 4
    assert value(found, bucket, method="GET", name="/", le="2.5") == 4
    assert value(found, bucket, method="GET", name="/", le="5.0") == 5
    assert value(found, bucket, method="GET", name="/", le="+Inf") == 5
    assert value(found, "locust_response_time_seconds_count", method="GET", name="/") == 5
    total = value(found, "locust_response_time_seconds_sum", method="GET", name="/")
    assert total == pytest.approx((3 + 4 + 40 + 120 + 2600) / 1000)
    assert value(found, "locust_run_info", locust_version=locust_version(), target="http://target")
    # The total is a rate gauge only: summing the counters in Prometheus gives it otherwise.
    aggregated = frozenset({"run_id": RUN_ID, "method": "", "name": "Aggregated"}.items())
    assert ("locust_requests_total", aggregated) not in found
    assert value(found, "locust_requests_per_second", method="", name="Aggregated") >= 0


def test_workers_connected_missing_cpu_and_saturation_come_from_the_heartbeats(master):
    add_worker(master, "w1_aaa", cpu=35.5, users=4)
    add_worker(master, "w1_bbb", cpu=97.0, warned=True, users=3)
    add_worker(master, "host_with_underscores_ccc", state="missing")
    found = scrape(master)
    assert value(found, "locust_users") == 7
    assert value(found, "locust_workers_expected") == 3
    assert value(found, "locust_workers_connected") == 2
    assert value(found, "locust_workers_missing") == 1
    assert value(found, "locust_workers", state="running") == 2
    assert value(found, "locust_workers", state="missing") == 1
    cpu = "locust_worker_cpu_percent"
    assert value(found, cpu, worker="w1_aaa", host="w1") == 35.5
    assert value(found, cpu, worker="w1_bbb", host="w1") == 97.0
    assert value(found, cpu, worker="host_with_underscores_ccc", host="host_with_underscores") == 0
    assert value(found, "locust_worker_cpu_warning", worker="w1_bbb", host="w1") == 1
    assert value(found, "locust_worker_cpu_warning", worker="w1_aaa", host="w1") == 0
    assert value(found, "locust_worker_users", worker="w1_aaa", host="w1") == 4
    assert value(found, "locust_worker_memory_bytes", worker="w1_aaa", host="w1") == 50_000_000
    # Locust's own flag, set by the heartbeat handler, drives the saturation gauge.
    assert value(found, "locust_saturated") == 0
    master.runner.worker_cpu_warning_emitted = True
    assert value(scrape(master), "locust_saturated") == 1


def test_runner_state_is_one_for_the_current_state_only(master):
    found = scrape(master)
    states = {
        dict(labels)["state"]: v
        for (name, labels), v in found.items()
        if name == "locust_runner_state"
    }
    assert states["ready"] == 1
    assert sum(states.values()) == 1


def test_run_id_is_the_name_of_the_runs_output_folder():
    assert metrics.run_id_of(Namespace(csv_prefix="/var/lib/locust/runs/R1/locust")) == "R1"
    assert metrics.run_id_of(Namespace(csv_prefix=None, json_file="/x/runs/R2/stats")) == "R2"
    assert metrics.run_id_of(None) == "unknown"


def test_settings_missing_or_off_mean_no_metrics(tmp_path):
    assert metrics.read_settings(tmp_path / "absent.json") == {"enabled": False}
    off = tmp_path / "off.json"
    off.write_text(json.dumps({"enabled": False, "port": 9646}))
    assert metrics.read_settings(off)["enabled"] is False
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert metrics.read_settings(broken) == {"enabled": False}


def test_the_plugin_serves_metrics_over_http_when_enabled(master, tmp_path, monkeypatch):
    port = free_port()
    settings = tmp_path / "locust_fleet_metrics.json"
    settings.write_text(json.dumps({"enabled": True, "port": port, "listen": "127.0.0.1"}))
    monkeypatch.setattr(metrics, "SETTINGS_FILE", settings)
    master.runner.stats.log_request("GET", "/", 5, 1)
    metrics._start_metrics(environment=master)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            assert answer.status == 200
            assert answer.headers["Content-Type"].startswith("text/plain")
            found = samples(answer.read().decode())
    finally:
        while metrics._SERVERS:
            metrics._SERVERS.pop().stop(timeout=1)
    assert value(found, "locust_requests_total", method="GET", name="/") == 1
    assert any(name.startswith("locust_master_process_") for name, _ in found)


def test_the_plugin_does_not_listen_when_metrics_are_off(master, tmp_path, monkeypatch):
    port = free_port()
    settings = tmp_path / "locust_fleet_metrics.json"
    settings.write_text(json.dumps({"enabled": False, "port": port, "listen": "127.0.0.1"}))
    monkeypatch.setattr(metrics, "SETTINGS_FILE", settings)
    metrics._start_metrics(environment=master)
    assert not metrics._SERVERS
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_a_taken_port_is_logged_and_leaves_the_test_alone(master, tmp_path, monkeypatch, caplog):
    import locust.log

    with socket.socket() as blocker:
        blocker.bind(("0.0.0.0", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        settings = tmp_path / "locust_fleet_metrics.json"
        settings.write_text(json.dumps({"enabled": True, "port": port, "listen": "0.0.0.0"}))
        monkeypatch.setattr(metrics, "SETTINGS_FILE", settings)
        metrics._start_metrics(environment=master)
    assert not metrics._SERVERS
    assert "this run has no live metrics" in caplog.text
    assert not locust.log.unhandled_greenlet_exception


def locust_version() -> str:
    from importlib.metadata import version

    return version("locust")
