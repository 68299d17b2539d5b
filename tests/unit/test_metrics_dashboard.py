"""The Grafana dashboard (dashboards/locust-fleet.json) asks only for metrics the exporter serves.

The served names come from a real scrape of the master's plugin fed with Locust's own
objects (see test_metrics_exporter.py); tests/integration/test_metrics.py checks the same
names against what Prometheus scraped from a sandbox master during a run.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from .test_metrics_exporter import add_worker, make_master, metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboards" / "locust-fleet.json"

KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or"}
KEYWORDS |= {"unless", "offset", "le", "inf", "nan"}


def dashboard_queries(dashboard: dict) -> list[str]:
    """Every PromQL expression of every panel, and the template variables' queries."""
    queries = [
        target["expr"]
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
        if target.get("expr")
    ]
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            query = variable["query"]
            queries.append(query["query"] if isinstance(query, dict) else query)
    return queries


def metric_names(query: str) -> set[str]:
    """The metric names a PromQL expression (or label_values(...)) reads."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', query)  # string literals
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range selectors
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    text = re.sub(r"label_values\(\s*([A-Za-z_:][\w:]*)\s*,[^)]*\)", r"\1", text)
    names = set()
    for match in re.finditer(r"(?<![\w$.])([A-Za-z_:][\w:]*)(\s*\()?", text):
        word, call = match.group(1), match.group(2)
        if call or word.lower() in KEYWORDS:
            continue  # a function or an aggregation, or a keyword
        names.add(word)
    return names


def dashboard_metric_names(path: Path = DASHBOARD) -> dict[str, set[str]]:
    """{query: metric names it reads} for the whole dashboard."""
    return {q: metric_names(q) for q in dashboard_queries(json.loads(path.read_text()))}


def served_names(text: str) -> set[str]:
    return {s.name for f in text_string_to_metric_families(text) for s in f.samples}


def test_the_query_parser_finds_metric_names_and_nothing_else():
    query = (
        "histogram_quantile(0.95, sum by (le, run_id) (rate(locust_response_time_seconds_bucket"
        '{run_id=~"$run_id", name="up"}[$__rate_interval]))) / on (run_id) locust_users == 1'
    )
    assert metric_names(query) == {"locust_response_time_seconds_bucket", "locust_users"}
    assert metric_names("label_values(locust_run_info, run_id)") == {"locust_run_info"}
    assert metric_names("up") == {"up"}


def scrape_names() -> set[str]:
    """The sample names of one scrape of a master with a worker and requests."""
    from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest

    master = make_master()
    try:
        master.runner.stats.log_request("GET", "/", 12, 100)
        master.runner.stats.log_error("GET", "/", "boom")
        add_worker(master, "w1_aaa", cpu=20.0, users=2)
        registry = CollectorRegistry(auto_describe=False)
        registry.register(metrics.FleetCollector(master, "R1"))
        ProcessCollector(namespace="locust_master", registry=registry)
        return served_names(generate_latest(registry).decode())
    finally:
        master.runner.quit()


def test_every_dashboard_query_names_only_metrics_a_scrape_shows():
    served = scrape_names()

    queries = dashboard_metric_names()
    assert len(queries) >= 15, "the dashboard lost its panels"
    for query, names in queries.items():
        assert names, f"query names no metric: {query}"
        unknown = names - served
        assert not unknown, f"{DASHBOARD.name}: {query!r} asks for {unknown}, not served"
    used = set().union(*queries.values())
    # The figures each have a panel.
    for needed in (
        "locust_users",
        "locust_requests_total",
        "locust_failures_total",
        "locust_response_time_seconds_bucket",
        "locust_requests_per_second",
        "locust_workers_connected",
        "locust_workers_missing",
        "locust_worker_cpu_percent",
        "locust_saturated",
        "locust_run_info",
    ):
        assert needed in used, f"no panel shows {needed}"


def test_the_dashboard_is_importable_grafana_json():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert '$run_id"' in target["expr"], f"{panel['title']}: not filtered by run"
