"""What N users of a plan need, from a short calibration run of it (``locust-fleet size``).

The calibration run's own figures give the plan's costs on this fleet:

- requests a second per user (the plan's wait times decide it);
- worker CPU-seconds per request (every worker process's CPU over the load window, from
  the 1 Hz samples, over the requests made in it);
- memory per user (on each worker host, the rise of memory in use from the sampler's first
  look, before the users, to its highest, over that host's users);
- open files per user (the rise of each worker process's descriptors, over its users).

The projection for N users scales those linearly, keeps every worker process under
``PROCESS_CPU_BUDGET`` of a core (the saturation verdict flags 90 %), gives each process
``locust_sizing``'s 50 descriptors of its own beside its users', and puts on each worker
host no more processes than it has cores (the run queue's maximum in the samples) and no
more connections toward the target than half its local port range (a user holds about one
connection per open file it adds): above half, the kernel's connect() scans the ports in use
for each new connection (the sizing preflight's caution says the same).

API::

    estimate(results, users) -> Estimate
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import timedelta

from locust_fleet.results.model import RunResults
from locust_fleet.saturation import load_window, verdict_for
from locust_fleet.saturation import verdict as cpu_verdict

PROCESS_CPU_BUDGET = 0.75  # of one core, per worker process
PROCESS_BASELINE_FILES = 50  # as the sizing preflight reserves (collection filter)
RAMP_SKIP_SECONDS = 3  # the start of the load window left out: the workers' start, the spawn
IDLE_PERCENT = 5.0  # below it, a worker's own idle cost is a large part of its CPU


class CalibrationError(ValueError):
    """The calibration run cannot give a figure; the message says which and why."""


@dataclass(frozen=True)
class Estimate:
    calibration_users: int
    rps_per_user: float
    cpu_seconds_per_request: float
    memory_kb_per_user: float | None
    files_per_user: float | None
    cores_per_host: int | None
    nofile: int | None  # the worker processes' open-file limit
    users: int
    worker_busy_percent: float = 0.0  # mean CPU of a worker process in the calibration hold
    port_range: int | None = None  # the smallest local port range of a worker host

    @property
    def rps(self) -> float:
        return self.users * self.rps_per_user

    @property
    def worker_cores(self) -> float:
        return self.rps * self.cpu_seconds_per_request

    @property
    def processes(self) -> int:
        by_cpu = math.ceil(self.worker_cores / PROCESS_CPU_BUDGET)
        by_files = 1
        if self.files_per_user and self.nofile and self.nofile > PROCESS_BASELINE_FILES:
            room = self.nofile - PROCESS_BASELINE_FILES
            by_files = math.ceil(self.users * self.files_per_user / room)
        return max(1, by_cpu, by_files)

    @property
    def hosts_by_ports(self) -> int:
        """Worker hosts (source addresses) so that each keeps its connections toward the
        target under half its port range."""
        if not self.port_range or self.port_range < 2:
            return 1
        connections = self.users * max(self.files_per_user or 1.0, 1.0)
        return max(1, math.ceil(connections / (self.port_range // 2)))

    @property
    def hosts(self) -> int | None:
        if not self.cores_per_host:
            return None
        return max(math.ceil(self.processes / self.cores_per_host), self.hosts_by_ports)

    @property
    def memory_gb(self) -> float | None:
        if self.memory_kb_per_user is None:
            return None
        return self.users * self.memory_kb_per_user / (1024 * 1024)

    def lines(self) -> list[str]:
        memory = (
            f"{self.memory_kb_per_user:,.0f} kB per user"
            if self.memory_kb_per_user is not None
            else "memory per user not measured"
        )
        files = (
            f"{self.files_per_user:.2f} open files per user"
            if self.files_per_user is not None
            else "open files per user not measured"
        )
        need_memory = f", {self.memory_gb:,.1f} GB of memory" if self.memory_gb is not None else ""
        hosts = (
            f" on {self.hosts} worker host(s) of {self.cores_per_host} cores"
            + (
                f" (at least {self.hosts_by_ports} to keep each under half its "
                f"{self.port_range:,} local ports toward the target)"
                if self.port_range and self.hosts_by_ports > 1
                else ""
            )
            if self.hosts is not None
            else ""
        )
        caution = (
            [
                f"caution: the workers were nearly idle ({self.worker_busy_percent:.1f}% of a "
                "core each), so the CPU per request includes their own idle cost and the "
                "processes are overstated; calibrate with more users (--calibrate-users)"
            ]
            if self.worker_busy_percent < IDLE_PERCENT
            else []
        )
        return [
            f"measured with {self.calibration_users} users: {self.rps_per_user:.3f} requests/s "
            f"per user, {self.cpu_seconds_per_request * 1000:.2f} ms of worker CPU per request, "
            f"{memory}, {files}",
            f"{self.users:,} users: about {self.rps:,.0f} requests/s and "
            f"{self.worker_cores:,.1f} cores of worker CPU; they need {self.processes} worker "
            f"processes (at most {PROCESS_CPU_BUDGET:.0%} of a core each"
            + (f", {self.nofile} open files each" if self.nofile else "")
            + f"){hosts}{need_memory}.",
            *caution,
        ]


def _rise_per_user(samples, key, users_of) -> float | None:
    """Sum over keys of (highest - first) used, over the users on them; None without data."""
    first: dict = {}
    highest: dict = {}
    for sample in samples:
        k = key(sample)
        first.setdefault(k, sample.used)
        highest[k] = max(highest.get(k, 0), sample.used)
    if not first:
        return None
    rises = [(highest[k] - first[k], users_of(k)) for k in first]
    users = sum(u for _, u in rises)
    return sum(r for r, _ in rises) / users if users else None


def estimate(results: RunResults, users: int) -> Estimate:
    meta = results.metadata
    asked = meta.parameters.users
    agg = results.aggregated
    if not asked or agg.request_count <= 0:
        raise CalibrationError(
            "the calibration run made no request: a plan must make requests to be sized "
            f"(see {results.run_dir / 'summary.md'})"
        )
    start, end = load_window(results)
    window = (end - start).total_seconds() if start and end else 0.0
    whole = verdict_for(results)
    if not whole.workers or window <= 0:
        raise CalibrationError(
            "the calibration run has no CPU samples of its workers in its load window"
        )
    # The hold only: the first seconds hold the workers' start and the spawning.
    hold_start = start + timedelta(seconds=RAMP_SKIP_SECONDS)
    rows = [r for r in results.aggregated_history if hold_start <= r.timestamp <= end]
    held = list(cpu_verdict(results.cpu_samples, hold_start, end).workers)
    if len(rows) >= 2 and held and rows[-1].total_request_count > rows[0].total_request_count:
        seconds = (rows[-1].timestamp - rows[0].timestamp).total_seconds()
        requests = rows[-1].total_request_count - rows[0].total_request_count
        cpu_seconds = sum(p.mean_percent / 100 * seconds for p in held)
        busy = statistics.fmean(p.mean_percent for p in held)
    else:  # too short a run for a hold: the whole window
        seconds, requests = window, agg.request_count
        cpu_seconds = sum(p.mean_percent / 100 * window for p in whole.workers)
        busy = statistics.fmean(p.mean_percent for p in whole.workers)
    rps = requests / seconds
    workers = set(meta.hosts.workers)
    per_host = {h: sum(1 for p in whole.workers if p.host == h) for h in workers}
    total_processes = max(sum(per_host.values()), 1)
    memory = [s for s in results.limit_samples if s.limit == "memory" and s.host in workers]
    files = [s for s in results.limit_samples if s.limit == "open_files" and s.host in workers]
    cores = [
        s.maximum for s in results.limit_samples if s.limit == "run_queue" and s.host in workers
    ]
    return Estimate(
        calibration_users=asked,
        rps_per_user=rps / asked,
        cpu_seconds_per_request=cpu_seconds / requests,
        worker_busy_percent=busy,
        memory_kb_per_user=_rise_per_user(
            memory, lambda s: s.host, lambda h: asked * per_host.get(h, 0) / total_processes
        ),
        files_per_user=_rise_per_user(
            files, lambda s: (s.host, s.subject), lambda _k: asked / total_processes
        ),
        cores_per_host=min(cores) if cores else None,
        nofile=min((s.maximum for s in files), default=None),
        users=users,
        port_range=min(
            (s.maximum for s in results.limit_samples if s.limit == "local_ports"),
            default=None,
        ),
    )
