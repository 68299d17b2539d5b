"""Live Prometheus metrics of the running test, served by the Locust master (fleet plugin).

The fleet loads this file next to the plan on the master only (an extra entry of the
master's locustfile list, role locust_master). It reads its settings from the JSON file
beside it (same name, ``.json``), which provisioning writes from ``locust_metrics_enabled``
and ``locust_metrics_port``: with metrics off, or without that file, it does nothing.

With metrics on, it serves ``/metrics`` with prometheus-client on a port of its own for as
long as the master process lives (one run), and nothing between runs. Every figure is read
from Locust's own state at scrape time (``runner.stats``, ``runner.clients`` with the
workers' heartbeats): there is no second stats pipeline. Each series carries the run's id
(the name of the run's output folder, ``.../runs/<run id>/``) as the label ``run_id``.

It defines no User class, so the workers never need it. A problem here (port taken,
prometheus-client missing) is logged and leaves the test alone.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Iterator

from locust import events

logger = logging.getLogger("locust_fleet.metrics")

SETTINGS_FILE = Path(__file__).with_suffix(".json")
# Upper bounds of the response-time histogram, seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
RUNNER_STATES = ("ready", "spawning", "running", "cleanup", "stopping", "stopped", "missing")
WORKER_STATES = ("ready", "spawning", "running", "cleanup", "stopping", "stopped", "missing")
# The server lives as long as the master process (one run): kept referenced here.
_SERVERS: list = []


def read_settings(path: Path | None = None) -> dict[str, Any]:
    """The provisioned settings: {"enabled": bool, "port": int, "listen": str}; off if absent."""
    path = path or SETTINGS_FILE
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        return {"enabled": False}
    except (OSError, ValueError) as err:
        logger.error("locust-fleet metrics: cannot read %s (%s); no live metrics", path, err)
        return {"enabled": False}
    return {
        "enabled": bool(raw.get("enabled", False)),
        "port": int(raw.get("port", 9646)),
        "listen": str(raw.get("listen", "::")),
    }


def run_id_of(options: Any) -> str:
    """The run's id: the name of its output folder, where the CSV prefix points."""
    for attr in ("csv_prefix", "json_file", "html_file", "logfile"):
        value = getattr(options, attr, None) if options is not None else None
        if value:
            return Path(str(value)).parent.name or "unknown"
    return "unknown"


def worker_host(worker_id: str) -> str:
    """Locust names a worker '<hostname>_<hex id>'; the host is the part before the last '_'."""
    host, sep, _suffix = worker_id.rpartition("_")
    return host if sep else worker_id


class FleetCollector:
    """A prometheus-client collector that reads the master's Locust state when scraped."""

    def __init__(self, environment: Any, run_id: str) -> None:
        self.environment = environment
        self.run_id = run_id

    def describe(self) -> list:
        return []  # no registration-time collect: the runner may not exist yet

    def collect(self) -> Iterator:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
            InfoMetricFamily,
        )

        run_id = self.run_id
        runner = self.environment.runner
        version = _locust_version()
        info = InfoMetricFamily("locust_run", "The run this master serves.", labels=["run_id"])
        info.add_metric(
            [run_id],
            {"locust_version": version, "target": str(self.environment.host or "")},
        )
        yield info
        if runner is None:
            return

        state = str(getattr(runner, "state", "") or "")
        states = GaugeMetricFamily(
            "locust_runner_state",
            "1 for the master's current state, 0 for the others.",
            labels=["run_id", "state"],
        )
        for name in sorted(set(RUNNER_STATES) | {state} - {""}):
            states.add_metric([run_id, name], 1.0 if name == state else 0.0)
        yield states

        users = GaugeMetricFamily("locust_users", "Users running now.", labels=["run_id"])
        users.add_metric([run_id], float(runner.user_count))
        yield users

        yield from self._requests(runner, run_id, CounterMetricFamily, HistogramMetricFamily)
        yield from self._rates(runner, run_id, GaugeMetricFamily)
        yield from self._workers(runner, run_id, GaugeMetricFamily)

    def _requests(self, runner, run_id, counter_family, histogram_family) -> Iterator:
        labels = ["run_id", "method", "name"]
        requests = counter_family("locust_requests", "Requests made, per endpoint.", labels=labels)
        failures = counter_family("locust_failures", "Requests that failed.", labels=labels)
        times = histogram_family(
            "locust_response_time_seconds", "Response times, per endpoint.", labels=labels
        )
        for entry in _entries(runner.stats):
            key = [run_id, str(entry.method or ""), str(entry.name)]
            requests.add_metric(key, float(entry.num_requests))
            failures.add_metric(key, float(entry.num_failures))
            times.add_metric(
                key,
                _buckets(entry.response_times),
                sum_value=entry.total_response_time / 1000.0,
            )
        yield requests
        yield failures
        yield times

    def _rates(self, runner, run_id, gauge_family) -> Iterator:
        labels = ["run_id", "method", "name"]
        rps = gauge_family(
            "locust_requests_per_second",
            "Locust's current requests per second, per endpoint and in total (name 'Aggregated').",
            labels=labels,
        )
        fps = gauge_family(
            "locust_failures_per_second",
            "Locust's current failures per second, per endpoint and in total (name 'Aggregated').",
            labels=labels,
        )
        for entry in [*_entries(runner.stats), runner.stats.total]:
            key = [run_id, str(entry.method or ""), str(entry.name)]
            rps.add_metric(key, float(entry.current_rps or 0.0))
            fps.add_metric(key, float(entry.current_fail_per_sec or 0.0))
        yield rps
        yield fps

    def _workers(self, runner, run_id, gauge_family) -> Iterator:
        clients = getattr(runner, "clients", None)
        workers = [] if clients is None else sorted(clients.values(), key=lambda w: w.id)
        options = getattr(self.environment, "parsed_options", None)
        expected = gauge_family(
            "locust_workers_expected",
            "Worker processes the master waits for (--expect-workers).",
            labels=["run_id"],
        )
        expected.add_metric([run_id], float(getattr(options, "expect_workers", 0) or 0))
        yield expected
        missing = [w for w in workers if w.state == "missing"]
        connected = gauge_family(
            "locust_workers_connected",
            "Worker processes connected now (not missing).",
            labels=["run_id"],
        )
        connected.add_metric([run_id], float(len(workers) - len(missing)))
        yield connected
        gone = gauge_family(
            "locust_workers_missing",
            "Worker processes whose heartbeats stopped.",
            labels=["run_id"],
        )
        gone.add_metric([run_id], float(len(missing)))
        yield gone
        by_state = gauge_family(
            "locust_workers", "Worker processes per state.", labels=["run_id", "state"]
        )
        counts = {name: 0 for name in WORKER_STATES}
        for worker in workers:
            counts[str(worker.state)] = counts.get(str(worker.state), 0) + 1
        for name, count in sorted(counts.items()):
            by_state.add_metric([run_id, name], float(count))
        yield by_state

        labels = ["run_id", "worker", "host"]
        cpu = gauge_family(
            "locust_worker_cpu_percent",
            "CPU use of each worker process, from its heartbeats.",
            labels=labels,
        )
        memory = gauge_family(
            "locust_worker_memory_bytes",
            "Memory of each worker process, from its heartbeats.",
            labels=labels,
        )
        warned = gauge_family(
            "locust_worker_cpu_warning",
            "1 once the worker process went past Locust's CPU threshold in this run.",
            labels=labels,
        )
        users = gauge_family(
            "locust_worker_users", "Users running on each worker process.", labels=labels
        )
        for worker in workers:
            key = [run_id, str(worker.id), worker_host(str(worker.id))]
            cpu.add_metric(key, float(worker.cpu_usage or 0))
            memory.add_metric(key, float(getattr(worker, "memory_usage", 0) or 0))
            warned.add_metric(key, 1.0 if worker.cpu_warning_emitted else 0.0)
            users.add_metric(key, float(worker.user_count))
        yield cpu
        yield memory
        yield warned
        yield users

        master_cpu = gauge_family(
            "locust_master_cpu_percent", "CPU use of the master process.", labels=["run_id"]
        )
        master_cpu.add_metric([run_id], float(getattr(runner, "current_cpu_usage", 0.0) or 0.0))
        yield master_cpu
        saturated = gauge_family(
            "locust_saturated",
            "1 once the master or any worker went past Locust's CPU threshold in this run.",
            labels=["run_id"],
        )
        flagged = bool(getattr(runner, "cpu_warning_emitted", False)) or bool(
            getattr(runner, "worker_cpu_warning_emitted", False)
        )
        saturated.add_metric([run_id], 1.0 if flagged else 0.0)
        yield saturated


def _entries(stats) -> list:
    keys = sorted(stats.entries, key=lambda k: (str(k[0]), str(k[1])))
    return [stats.entries[key] for key in keys]


def _buckets(response_times: dict) -> list:
    """Cumulative (upper bound, count) pairs from Locust's {rounded ms: count} dict."""
    counts = [0] * len(BUCKETS)
    total = 0
    for millis, count in response_times.items():
        total += count
        seconds = millis / 1000.0
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                counts[i] += count
                break
    result, running = [], 0
    for bound, count in zip(BUCKETS, counts):
        running += count
        result.append((repr(bound), running))
    result.append(("+Inf", total))
    return result


def _locust_version() -> str:
    try:
        from importlib.metadata import version

        return version("locust")
    except Exception:  # pragma: no cover - metadata always present in the venv
        return "unknown"


def serve(environment: Any, settings: dict[str, Any]):
    """Start the /metrics server in this process (gevent, like Locust's own web UI)."""
    from gevent.pywsgi import WSGIServer
    from prometheus_client import CollectorRegistry, ProcessCollector, make_wsgi_app

    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector(environment, run_id_of(environment.parsed_options)))
    ProcessCollector(namespace="locust_master", registry=registry)
    app = make_wsgi_app(registry)
    last_error: Exception | None = None
    # "::" takes IPv4 too; a host without IPv6 gets 0.0.0.0. The port filter fences both.
    for listen in dict.fromkeys([settings["listen"], "0.0.0.0"]):
        server = WSGIServer((listen, settings["port"]), app, log=None)
        try:
            server.start()
        except OSError as err:
            last_error = err
            continue
        _SERVERS.append(server)
        return server
    raise OSError(f"cannot listen on port {settings['port']}: {last_error}")


@events.init.add_listener
def _start_metrics(environment, **_kwargs) -> None:
    from locust.runners import WorkerRunner

    if isinstance(environment.runner, WorkerRunner):
        return
    settings = read_settings()
    if not settings["enabled"]:
        return
    try:
        server = serve(environment, settings)
    except Exception as err:  # the test goes on without live metrics
        logger.error("locust-fleet metrics: %s; this run has no live metrics", err)
        return
    logger.info(
        "locust-fleet metrics: serving /metrics on port %s (pid %s)",
        server.server_port,
        os.getpid(),
    )
