"""The sandbox's monitoring host: Debian's Prometheus scraping the master's live metrics.

`sandbox up --monitoring` adds `<name>-monitor`, booted from the monitoring image
(image.MONITOR_PACKAGES), with this scrape config in its overlay. The inventory lists
it in group `monitoring`, which no fleet play targets, and lets it (and this machine,
the bridge's address) through the master's metrics fence.
"""

from __future__ import annotations

from pathlib import Path

# The master's live-metrics port: locust_metrics_port's default (role locust_master).
METRICS_PORT = 9646
PROMETHEUS_PORT = 9090
SCRAPE_INTERVAL = "5s"

PROMETHEUS_CONFIG = """\
# Written by `locust-fleet sandbox up --monitoring`: the sandbox's Locust master,
# which serves /metrics on port {port} while a test runs (nothing between runs).
global:
  scrape_interval: {interval}
  evaluation_interval: {interval}

scrape_configs:
  - job_name: locust
    static_configs:
      - targets: ["{master}:{port}"]
        labels:
          sandbox: "{sandbox}"
"""


def prometheus_config(sandbox: str, master_ip: str, port: int = METRICS_PORT) -> str:
    return PROMETHEUS_CONFIG.format(
        sandbox=sandbox, master=master_ip, port=port, interval=SCRAPE_INTERVAL
    )


def write_prometheus_config(root: Path, sandbox: str, master_ip: str) -> None:
    """Into a monitoring host's root, before it boots."""
    path = root / "etc/prometheus/prometheus.yml"
    path.write_text(prometheus_config(sandbox, master_ip))
    path.chmod(0o644)
