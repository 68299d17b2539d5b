"""Drive the sandbox, the playbooks and the runs the bench measures; keep every figure
with the exact command that produced it."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .. import fleet
from ..record.ids import new_run_id
from ..results.model import RunResults
from ..runner import PlaybookRun, locate_content
from ..sandbox import Sandbox
from ..sandbox.machine import ssh_command
from . import stats
from .phases import log_marks

CLI = ".venv/bin/locust-fleet"
# Work-around: run_test.yml's "Write this run's secrets" task fails on every host when
# the run has no secret (ansible.builtin.copy with an empty `content`: "src (or
# content) is required"). One harmless named secret keeps it non-empty.
SECRET = "LOCUST_FLEET_BENCH"
PLAYBOOK = ".venv/bin/ansible-playbook"
RAW_PROBE = Path(__file__).with_name("raw_locust_probe.py")
RAW_LOCUST = "/opt/locust/venv/bin/locust"  # the fleet's venv and deployed plan on a host
RAW_PLAN = "/opt/locust/plans/current/locustfile.py"
# systemd restarts the fleet's worker 5 s after a run (RestartSec): its start (a Locust
# import, about a CPU-second) must not fall inside the raw process's measured seconds.
RAW_SETTLE_S = 8


def now() -> datetime:
    return datetime.now(UTC)


def log(message: str) -> None:
    print(f"[{now():%H:%M:%S}] bench: {message}", flush=True)


# --- the machine's own CPU, all cores, sampled while runs go on -------------------------


class HostCpu:
    """Busy share of all of this machine's cores, sampled each second from /proc/stat
    (every process on the machine: sandbox hosts, Ansible, other users)."""

    def __init__(self, interval_s: float = 1.0) -> None:
        self.interval_s = interval_s
        self.samples: list[tuple[datetime, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @staticmethod
    def _read() -> tuple[int, int]:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields[:8]), idle

    def _loop(self) -> None:
        total0, idle0 = self._read()
        while not self._stop.wait(self.interval_s):
            total1, idle1 = self._read()
            dt = total1 - total0
            if dt > 0:
                self.samples.append((now(), 100.0 * (1 - (idle1 - idle0) / dt)))
            total0, idle0 = total1, idle1

    def start(self) -> HostCpu:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def mean(self, start: datetime | None, end: datetime | None) -> float | None:
        if start is None or end is None:
            return None
        values = [p for t, p in self.samples if start <= t <= end]
        return sum(values) / len(values) if values else None


# --- what one run gave ------------------------------------------------------------------


@dataclass
class RunRecord:
    label: str
    command: str
    wall_s: float
    run_s: float
    exit_code: int
    run_dir: str | None
    requests: int = 0
    failures: int = 0
    rps: float | None = None
    worker_cpu_s: float | None = None
    worker_processes: int = 0
    worker_peak: float | None = None
    worker_mean: float | None = None
    master_peak: float | None = None
    master_mean: float | None = None
    master_idle_mean: float | None = None
    master_idle_peak: float | None = None
    host_busy: float | None = None
    saturated: bool | None = None
    saturation: str = ""
    causes: list[str] = field(default_factory=list)
    error: str = ""
    users: int = 0
    locust_own_s: float | None = None  # master start to test start, plus test end to exit

    @property
    def req_per_cpu_s(self) -> float | None:
        if self.worker_cpu_s is None:
            return None
        return stats.per_cpu_second(self.requests, self.worker_cpu_s)

    @property
    def overhead_s(self) -> float:
        return self.wall_s - self.run_s


@dataclass
class TimedPlaybook:
    label: str
    command: str
    wall_s: float
    ok: bool
    changed: int
    messages: list[str]


def _messages_of(results: RunResults) -> list[str]:
    texts = [f.error for f in results.failures] + [e.message for e in results.exceptions]
    for path in [*results.files.journals.values(), results.files.master_log]:
        if path is not None and Path(path).exists():
            texts.append(Path(path).read_text(errors="replace")[-200_000:])
    return texts


_LOCUST_MARKS = {
    "start": "locust.main: Starting Locust",
    "test_start": "Run time limit set to",
    "test_end": "--run-time limit reached",
    "exit": "locust.main: Shutting down",
}


def _locust_own_seconds(master_log: Path) -> float | None:
    """Seconds the master spends outside the test in a headless run: from its start to the
    test's (the wait for the expected workers: locust_fleet_ready.py looks every 50 ms) and
    from the test's end to its exit (two 0.5 s waits for the workers' last reports). None
    when the log lacks a mark."""
    try:
        text = master_log.read_text(errors="replace")
    except OSError:
        return None
    seen = {k: at.timestamp() for k, at in log_marks(text, _LOCUST_MARKS).items()}
    if len(seen) < len(_LOCUST_MARKS):
        return None
    return (seen["test_start"] - seen["start"]) + (seen["exit"] - seen["test_end"])


class Harness:
    def __init__(self, root: Path, workdir: Path, host_cpu: HostCpu) -> None:
        self.root = root
        self.workdir = workdir
        self.host_cpu = host_cpu
        self.content = locate_content(root)

    # --- sandbox -------------------------------------------------------------------------
    def sandbox(self, name: str, subnet: str) -> Sandbox:
        return Sandbox(name, subnet, self.workdir / name / "hosts.yml", log=lambda _m: None)

    def up(self, name: str, subnet: str, workers: int) -> tuple[Path, str]:
        box = self.sandbox(name, subnet)
        box.up(workers)
        hosts = box.status()
        target = next(h.ip for h in hosts if h.role == "target")
        log(f"sandbox {name} up: {', '.join(f'{h.name}={h.ip}' for h in hosts)}")
        return box.inventory, target

    def down(self, name: str, subnet: str) -> None:
        self.sandbox(name, subnet).down()
        log(f"sandbox {name} down")

    def rel(self, path: Path | str) -> str:
        try:
            return str(Path(path).resolve().relative_to(self.root))
        except ValueError:
            return str(path)

    # --- playbooks -----------------------------------------------------------------------
    def playbook(
        self, label: str, path: str, inventory: Path, extravars: dict[str, Any]
    ) -> TimedPlaybook:
        rel_pb = self.rel(path)
        command = " ".join(
            [PLAYBOOK, "-i", self.rel(inventory), rel_pb]
            + [f"-e {shlex.quote(f'{k}={v}')}" for k, v in extravars.items()]
        )
        log(f"{label}: {command}")
        start = time.monotonic()
        outcome = PlaybookRun(str(path), inventory, self.content, dict(extravars)).run()
        wall = time.monotonic() - start
        changed = sum((outcome.stats.get("changed") or {}).values())
        log(f"{label}: {'ok' if outcome.ok else 'FAILED'} in {wall:.1f} s, {changed} changed")
        return TimedPlaybook(label, command, wall, outcome.ok, changed, outcome.failure_messages())

    def site(self, inventory: Path, plan: str, label: str, **extra: Any) -> TimedPlaybook:
        return self.playbook(
            label,
            self.content.playbook("site"),
            inventory,
            {"locust_testplan_src": str(self.root / plan), **extra},
        )

    # --- runs ----------------------------------------------------------------------------
    def run(
        self,
        label: str,
        inventory: Path,
        plan: str,
        users: int,
        spawn_rate: float,
        seconds: int,
        extravars: dict[str, Any] | None = None,
        idle_until_s: float | None = None,
    ) -> RunRecord:
        results_dir = self.workdir / "results"
        if extravars:
            command = f"{SECRET}=1 " + " ".join(
                [
                    PLAYBOOK,
                    "-i",
                    self.rel(inventory),
                    "playbooks/run_test.yml",
                    f"-e locust_plan={plan}",
                    f"-e locust_users={users}",
                    f"-e locust_spawn_rate={spawn_rate:g}",
                    f"-e locust_run_time={seconds}s",
                    f"-e locust_results_dir={self.rel(results_dir)}",
                ]
                + [f"-e {k}={v}" for k, v in extravars.items()]
                + [f'-e \'{{"locust_secret_env_from": ["{SECRET}"]}}\'']
            )
        else:
            command = (
                f"{SECRET}=1 {CLI} run -i {self.rel(inventory)} --plan {plan} -u {users} "
                f"-r {spawn_rate:g} -t {seconds}s --results {self.rel(results_dir)} "
                f"--allow-saturated --secret-env {SECRET}"
            )
        log(f"{label}: {command}")
        os.environ[SECRET] = "1"
        start = time.monotonic()
        try:
            result = fleet.run(
                inventory,
                self.root / plan,
                users=users,
                spawn_rate=spawn_rate,
                run_time=f"{seconds}s",
                results_dir=results_dir,
                allow_saturated=True,
                secret_env=[SECRET],
                extravars=extravars,
            )
        except Exception as err:
            wall = time.monotonic() - start
            log(f"{label}: error {err}")
            return RunRecord(label, command, wall, seconds, 2, None, error=str(err), users=users)
        wall = time.monotonic() - start
        record = RunRecord(
            label,
            command,
            wall,
            seconds,
            result.exit_code,
            self.rel(result.run_dir) if result.run_dir else None,
            users=users,
        )
        if result.analysis is None:
            record.error = "; ".join(result.messages) or "no results"
            log(f"{label}: no results ({record.error})")
            return record
        results = result.analysis.results
        verdict = result.analysis.verdict
        agg = results.aggregated
        record.requests, record.failures = agg.request_count, agg.failure_count
        record.rps = agg.requests_per_s
        workers = verdict.workers
        record.worker_processes = len(workers)
        record.worker_cpu_s = (
            sum(stats.cpu_seconds([p for _, p in w.series]) for w in workers) if workers else None
        )
        record.worker_peak = max((w.peak_percent for w in workers), default=None)
        record.worker_mean = stats.median(w.mean_percent for w in workers)
        masters = verdict.masters
        record.master_peak = max((m.peak_percent for m in masters), default=None)
        record.master_mean = stats.median(m.mean_percent for m in masters)
        record.saturated = verdict.saturated
        record.saturation = verdict.summary()
        record.host_busy = self.host_cpu.mean(verdict.window_start, verdict.window_end)
        if idle_until_s is not None:
            record.master_idle_mean, record.master_idle_peak = _master_idle(results, idle_until_s)
        if record.failures or results.exception_count:
            record.causes = stats.failure_causes(_messages_of(results))
        if result.messages and result.exit_code == 2:
            record.error = "; ".join(result.messages)
        log(
            f"{label}: exit {record.exit_code} in {wall:.1f} s: {record.requests} requests, "
            f"{record.failures} failed, {record.rps or 0:.1f} req/s, worker CPU "
            f"{record.worker_cpu_s or 0:.1f} s, saturated={record.saturated}, "
            f"machine busy {record.host_busy or 0:.0f}%"
        )
        return record

    def cli_run(
        self, label: str, inventory: Path, plan: str, users: int, spawn_rate: float, seconds: int
    ) -> RunRecord:
        """`locust-fleet run` as a user types it, in its own process: the wall time is the
        command's, from its start to its exit (imports, the playbook, the reports)."""
        results_dir = self.workdir / "results"
        run_id = new_run_id()  # chosen here, so the bench knows the run's folder
        argv = [
            str(self.root / CLI),
            "run",
            "-i",
            self.rel(inventory),
            "--plan",
            plan,
            "-u",
            str(users),
            "-r",
            f"{spawn_rate:g}",
            "-t",
            f"{seconds}s",
            "--results",
            self.rel(results_dir),
            "--allow-saturated",
            "--secret-env",
            SECRET,
            "--run-id",
            run_id,
        ]
        command = f"{SECRET}=1 " + shlex.join([CLI, *argv[1:-2]])
        log(f"{label}: {command}")
        start = time.monotonic()
        proc = subprocess.run(
            argv,
            cwd=self.root,
            env={**os.environ, SECRET: "1"},
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.monotonic() - start
        run_dir = results_dir / run_id
        record = RunRecord(
            label,
            command,
            wall,
            seconds,
            proc.returncode,
            self.rel(run_dir) if run_dir.is_dir() else None,
            users=users,
        )
        if proc.returncode not in (0, 4):
            record.error = proc.stderr.strip()[-2000:] or f"exit {proc.returncode}"
        record.locust_own_s = _locust_own_seconds(run_dir / "master.log")
        log(f"{label}: exit {proc.returncode} in {wall:.1f} s")
        return record

    # --- plain Locust on a worker host ---------------------------------------------------
    def raw_locust(
        self, name: str, subnet: str, target: str, users: int, seconds: int
    ) -> dict[str, Any]:
        """One `locust --headless` process on the sandbox's first worker host, with the plan
        the fleet deployed there last (the `current` plan), against the same target: its
        requests per CPU-second, counted as raw_locust_probe.py says."""
        box = self.sandbox(name, subnet)
        worker = next(h.ip for h in box.status() if h.role == "worker")
        time.sleep(RAW_SETTLE_S)
        locust = (
            f"{RAW_LOCUST} -f {RAW_PLAN} --headless -u {users} -r {users} -t {seconds}s "
            f"--host http://{target} --json --only-summary"
        )
        command = f"ssh root@{worker} python3 - locust {locust} < {self.rel(RAW_PROBE)}"
        log(f"raw locust: {command}")
        proc = subprocess.run(
            ssh_command(worker, box.key, f"python3 - locust {locust}"),
            input=RAW_PROBE.read_text(),
            capture_output=True,
            text=True,
            check=False,
            timeout=seconds + 120,
        )
        try:
            found = json.loads(proc.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            log(f"raw locust: no result ({proc.stderr.strip()[-300:]})")
            return {"command": command, "error": proc.stderr.strip()[-2000:] or "no output"}
        end = now()
        busy = self.host_cpu.mean(end - timedelta(seconds=seconds), end)
        rate = stats.per_cpu_second(found["requests"], found["cpu_s"])
        log(f"raw locust: {found['requests']} requests, {rate or 0:,.0f} per CPU-second")
        return {
            "command": command,
            **found,
            "run_s": seconds,
            "req_per_cpu_s": rate,
            "host_busy": busy,
        }

    # --- wrk -----------------------------------------------------------------------------
    def wrk(self, url: str, seconds: int, connections: int) -> tuple[str, stats.WrkResult, float]:
        """wrk from this machine against the sandbox target; returns its CPU-seconds too."""
        argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
        command = " ".join(argv)
        log(f"wrk: {command}")
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        result = stats.parse_wrk(out)
        cpu = usage.ru_utime + usage.ru_stime
        log(f"wrk: {result.requests} requests, {result.requests_per_s:.0f} req/s, CPU {cpu:.2f} s")
        return command, result, cpu


def _master_idle(results: RunResults, idle_until_s: float) -> tuple[float | None, float | None]:
    """The master's CPU while all workers were connected and no user ran: samples
    from 3 s after the first history row to ``idle_until_s`` into the test."""
    history = results.aggregated_history
    if not history:
        return None, None
    start = history[0].timestamp
    values = [
        s.cpu_percent
        for s in results.cpu_samples
        if s.role == "master" and 3 <= (s.timestamp - start).total_seconds() < idle_until_s
    ]
    if not values:
        return None, None
    return sum(values) / len(values), max(values)


def ensure_wrk(install: Callable[[list[str]], int] | None = None) -> bool:
    """Install Debian's wrk package when it is missing (needs root)."""
    if subprocess.run(["which", "wrk"], capture_output=True).returncode == 0:
        return True
    log("wrk is missing: installing the Debian package")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    runner = install or (lambda argv: subprocess.run(argv, env=env).returncode)
    runner(["apt-get", "update", "-qq"])
    return runner(["apt-get", "install", "-y", "-qq", "wrk"]) == 0
