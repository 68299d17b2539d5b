"""`make bench` (= python -m locust_fleet.bench): the five bench sections, in an order
that needs as few sandbox boots as possible, writing bench/RESULTS.md after each.

BENCH_QUICK=1: one repetition, short runs, a two-step search (a smoke test).
BENCH_SECTIONS=untuned,orchestration,generators,concurrency,master: a subset
(generators = sections 1 and 2 of RESULTS.md, efficiency and scaling).
The bench refuses to start on a busy machine or beside a sandbox (bench/quiet.py).

    python -m locust_fleet.bench                      run the bench
    python -m locust_fleet.bench --render BASE [OVER...]   rewrite RESULTS.md from runs
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import quiet, report, stats
from .harness import Harness, HostCpu, RunRecord, ensure_wrk, log, now
from .phases import run_phases

ALL_SECTIONS = ("untuned", "orchestration", "generators", "concurrency", "master")
# BENCH_TUNED_SANDBOX=name,subnet: another tuned sandbox (e.g. to re-measure a section
# while an earlier bench still holds "bn").
_tuned = os.environ.get("BENCH_TUNED_SANDBOX", "bn,10.213.77.0/24").split(",")
TUNED = (_tuned[0], _tuned[1])
UNTUNED = ("bnu", "10.213.78.0/24")
BENCH_SANDBOXES = (TUNED[0], UNTUNED[0])
SETTLE_PROBES = 12  # of 5 s each, before a section
UNTUNED_NOFILE = 10000
OVERHEAD_RUNS = 5  # issue 11: the median of 5 runs
OVERHEAD_RUN_S = 10
OVERHEAD_WORKER_HOSTS = 2
GOAL_USERS = 100_000  # issue 12: the case study's 50,000 twice over
MAX_SPAWN_RATE = 500  # users/s in all: 62/s per process on 8 (Locust advises <= 100)
UNTUNED_PROCESSES = 2


@dataclass(frozen=True)
class Config:
    quick: bool
    reps: int
    run_s: int
    users_per_process: int
    processes: tuple[int, ...]
    hold_s: int
    search: stats.SearchPolicy
    search_hosts: int
    search_processes: int
    untuned_search: stats.SearchPolicy
    master_hosts: int
    master_processes: int
    wrk_s: int = 10
    wrk_connections: int = 50

    @classmethod
    def from_env(cls) -> Config:
        if os.environ.get("BENCH_QUICK", "") not in ("", "0"):
            return cls(
                quick=True,
                reps=1,
                run_s=10,
                users_per_process=10,
                processes=(1, 2, 4),
                hold_s=15,
                search=stats.SearchPolicy(
                    start=500, cap=1000, factor=2, max_steps=2, resolution=250, floor=100
                ),
                search_hosts=1,
                search_processes=2,
                untuned_search=stats.SearchPolicy(
                    start=500, cap=1000, factor=2, max_steps=2, resolution=250, floor=100
                ),
                master_hosts=2,
                master_processes=5,
            )
        return cls(
            quick=False,
            reps=3,
            run_s=10,
            users_per_process=10,
            processes=(1, 2, 4),
            hold_s=60,
            # Issue 12: up to the goal of 100,000 users, then bisect to 12,500. Four worker
            # hosts x 2 processes: ports toward the target stay under half the range per host
            # (above it, the kernel's connect() scans every even port first: at 33,000 per
            # host it took 40% of the machine), files under the containers' 20,000 per process.
            search=stats.SearchPolicy(
                start=25000, cap=GOAL_USERS, factor=2, max_steps=5, resolution=12500, floor=1000
            ),
            search_hosts=4,
            search_processes=2,
            untuned_search=stats.SearchPolicy(
                start=16000, cap=32000, factor=2, max_steps=2, resolution=8000, floor=1000
            ),
            master_hosts=3,
            master_processes=20,
        )


@dataclass
class Bench:
    config: Config
    started_at: str
    finished_at: str | None = None
    runtime_s: float | None = None
    machine: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _machine() -> dict[str, Any]:
    load = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg_at_start": [round(x, 2) for x in load],
    }


class Sections:
    def __init__(
        self, bench: Bench, harness: Harness, root: Path, save: Callable[[], None]
    ) -> None:
        self.save = save
        self.b = bench
        self.h = harness
        self.c = bench.config
        self.root = root
        self.tuned_inv: Path | None = None
        self.target: str | None = None

    # --- sandbox boots ---------------------------------------------------------------------
    def tuned_up(self, workers: int = 1) -> Path:
        inv, target = self.h.up(*TUNED, workers=workers)
        self.tuned_inv, self.target = inv, target
        return inv

    def workers(self, inventory: Path, processes: int, **extra: Any) -> None:
        pb = self.h.playbook(
            f"workers={processes}",
            str(self.root / "bench/workers.yml"),
            inventory,
            {"locust_worker_processes": processes, **extra},
        )
        if not pb.ok:
            raise RuntimeError(f"bench/workers.yml failed: {pb.messages}")

    # --- 3. concurrency (one search) -------------------------------------------------------
    def search(self, inventory: Path, label: str, policy: stats.SearchPolicy) -> dict[str, Any]:
        steps: list[dict[str, Any]] = []
        history: list[tuple[int, bool]] = []
        while (users := stats.next_users(history, policy)) is not None:
            rate = min(MAX_SPAWN_RATE, max(100, math.ceil(users / 30)))
            ramp = math.ceil(users / rate)
            for attempt in (1, 2):  # an orchestration error says nothing of capacity: retry once
                record = self.h.run(
                    f"{label} {users} users",
                    inventory,
                    "bench/plans/hold",
                    users,
                    rate,
                    ramp + self.c.hold_s,
                )
                if not (record.error and record.run_dir is None) or attempt == 2:
                    break
                log(f"{label} {users} users: orchestration error, the step runs once more")
            peak = _peak_users(record)
            held = (
                not record.error
                and record.exit_code in (0, 4)
                and record.failures == 0
                and not record.saturated
                and peak >= users
            )
            reason = stats.describe_step(
                failures=record.failures,
                requests=record.requests,
                saturated=bool(record.saturated),
                saturation_summary=record.saturation,
                causes=record.causes,
                error=record.error,
            )
            if not held and reason == "held":
                reason = f"only {peak} of {users} users were running"
            history.append((users, held))
            steps.append(
                {
                    **asdict(record),
                    "held": held,
                    "reason": reason,
                    "peak_users": peak,
                    "spawn_rate": rate,
                    "ramp_s": ramp,
                    "phases": run_phases(Path(record.run_dir), users) if record.run_dir else [],
                }
            )
            log(f"{label} {users} users: {'held' if held else 'NOT held: ' + reason}")
        return {
            "best": stats.best_pass(history),
            "first_fail": stats.first_fail(history),
            "steps": steps,
            "policy": asdict(policy),
        }

    def untuned(self) -> None:
        try:
            inv, _ = self.h.up(*UNTUNED, workers=1)
            pb = self.h.playbook(
                "untuned site",
                str(self.root / "bench/site-untuned.yml"),
                inv,
                {
                    "locust_testplan_src": str(self.root / "bench/plans/hold"),
                    "locust_worker_nofile": UNTUNED_NOFILE,
                    "locust_worker_processes": UNTUNED_PROCESSES,
                },
            )
            if not pb.ok:
                raise RuntimeError(f"bench/site-untuned.yml failed: {pb.messages}")
            self.b.sections.setdefault("concurrency", {})["untuned"] = {
                **self.search(inv, "untuned", self.c.untuned_search),
                "hosts": 1,
                "processes": UNTUNED_PROCESSES,
                "provision": asdict(pb),
                "nofile": UNTUNED_NOFILE,
            }
        finally:
            self.h.down(*UNTUNED)

    # --- 4. orchestration --------------------------------------------------------------------
    def orchestration(self) -> None:
        """site.yml cold and with nothing to change, then the overhead of `locust-fleet run`
        (wall time minus run time) on 4 hosts (master, 2 workers, target) with the plan
        already deployed. The sandbox is then removed: the later sections boot their own."""
        cold, warm, runs = [], [], []
        for rep in range(self.c.reps):
            if rep:
                self.h.down(*TUNED)
            inv = self.tuned_up(workers=OVERHEAD_WORKER_HOSTS)
            cold.append(
                asdict(self.h.site(inv, "locustfiles/website", f"cold site.yml #{rep + 1}"))
            )
        for rep in range(self.c.reps):
            warm.append(
                asdict(self.h.site(inv, "locustfiles/website", f"no-change site.yml #{rep + 1}"))
            )
        for rep in range(OVERHEAD_RUNS):
            record = self.h.cli_run(
                f"overhead run #{rep + 1}", inv, "locustfiles/website", 10, 10, OVERHEAD_RUN_S
            )
            runs.append({**asdict(record), "overhead_s": record.overhead_s})
        self.b.sections["orchestration"] = {
            "cold": cold,
            "no_change": warm,
            "runs": runs,
            "worker_hosts": OVERHEAD_WORKER_HOSTS,
        }
        self.h.down(*TUNED)
        self.tuned_inv = None

    def ensure_tuned(self) -> Path:
        if self.tuned_inv is None and os.environ.get("BENCH_REUSE"):  # development only
            self.tuned_up()
        if self.tuned_inv is None:
            inv = self.tuned_up()
            pb = self.h.site(inv, "locustfiles/website", "site.yml")
            if not pb.ok:
                raise RuntimeError(f"site.yml failed: {pb.messages}")
        assert self.tuned_inv is not None
        return self.tuned_inv

    # --- 1 and 2. efficiency and scaling, interleaved ------------------------------------------
    def generators(self) -> None:
        """Per repetition: HttpUser and FastHttpUser on 1 process, then FastHttpUser on 2
        and 4: every row sees the same background load on the shared machine."""
        inv = self.ensure_tuned()
        ensure_wrk()
        wrk: list[dict[str, Any]] = []
        http: list[dict[str, Any]] = []
        raw: list[dict[str, Any]] = []
        rows: dict[str, list[dict[str, Any]]] = {str(n): [] for n in self.c.processes}
        for rep in range(self.c.reps):
            command, result, cpu = self.h.wrk(
                f"http://{self.target}/", self.c.wrk_s, self.c.wrk_connections
            )
            busy = self.h.host_cpu.mean(*_last_window(self.c.wrk_s))
            wrk.append(
                {
                    "command": command,
                    **asdict(result),
                    "cpu_s": cpu,
                    "req_per_cpu_s": stats.per_cpu_second(result.requests, cpu),
                    "host_busy": busy,
                }
            )
            for n in self.c.processes:
                self.workers(inv, n)
                users = self.c.users_per_process * n
                if n == 1:
                    http.append(self._one(inv, "HttpUser", "http_nowait", 1, users, rep))
                rows[str(n)].append(self._one(inv, "FastHttpUser", "fast_nowait", n, users, rep))
                if n == 1:  # the plan the fleet just deployed, on the same host and target
                    assert self.target is not None
                    raw.append(self.h.raw_locust(*TUNED, self.target, users, self.c.run_s))
            self.b.sections["efficiency"] = {
                "wrk": wrk,
                "http": http,
                "fast": rows.get("1", []),
                "raw": raw,
            }
            self.b.sections["scaling"] = {"rows": rows}
            self.save()

    def _one(self, inv: Path, name: str, plan: str, n: int, users: int, rep: int) -> dict:
        return self._plain(
            self.h.run(
                f"{name} {n} process(es) #{rep + 1}",
                inv,
                f"bench/plans/{plan}",
                users,
                users,
                self.c.run_s,
            )
        )

    def concurrency(self) -> None:
        self.ensure_tuned()
        inv = self.tuned_up(workers=self.c.search_hosts)
        pb = self.h.site(
            inv,
            "bench/plans/hold",
            f"site.yml with {self.c.search_hosts} worker hosts",
            locust_worker_processes=self.c.search_processes,
        )
        if not pb.ok:
            raise RuntimeError(f"site.yml failed: {pb.messages}")
        self.b.sections.setdefault("concurrency", {})["tuned"] = {
            **self.search(inv, "tuned", self.c.search),
            "hosts": self.c.search_hosts,
            "processes": self.c.search_processes,
            "goal": GOAL_USERS,
        }

    # --- 5. master load ----------------------------------------------------------------------
    def master(self) -> None:
        self.ensure_tuned()
        inv = self.tuned_up(workers=self.c.master_hosts)
        pb = self.h.site(
            inv,
            "locustfiles/website",
            "site.yml with more worker hosts",
            locust_worker_processes=self.c.master_processes,
        )
        if not pb.ok:
            raise RuntimeError(f"site.yml failed: {pb.messages}")
        runs = [
            self._plain(
                self.h.run(
                    f"master load #{rep + 1}",
                    inv,
                    "bench/plans/master_load",
                    600,
                    200,
                    45,
                    extravars={"locust_run_expect_workers_timeout": 300},
                    idle_until_s=10,
                )
            )
            for rep in range(self.c.reps)
        ]
        self.b.sections["master"] = {
            "worker_hosts": self.c.master_hosts,
            "processes_per_host": self.c.master_processes,
            "provision": asdict(pb),
            "runs": runs,
        }

    @staticmethod
    def _plain(record: RunRecord) -> dict[str, Any]:
        return {
            **asdict(record),
            "req_per_cpu_s": record.req_per_cpu_s,
            "overhead_s": record.overhead_s,
        }


def _earlier(path: str) -> dict[str, Any] | None:
    """BENCH_MERGE=bench/runs/<stamp>/bench.json: keep that bench's sections for what
    this run does not measure again (e.g. re-run one section that an outside change broke)."""
    if not path:
        return None
    data = json.loads(Path(path).read_text())
    data["source"] = str(Path(path).parent)
    return data


def _merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``new`` over ``old``, one level into dicts (concurrency holds tuned and untuned)."""
    out = dict(old)
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def _peak_users(record: RunRecord) -> int:
    if not record.run_dir:
        return 0
    from ..results.loader import load_run

    try:
        results = load_run(record.run_dir)
    except Exception:
        return 0
    return max((row.user_count for row in results.aggregated_history), default=0)


def _last_window(seconds: int) -> tuple[Any, Any]:
    from datetime import timedelta

    end = now()
    return end - timedelta(seconds=seconds), end


def render_only(root: Path, base: Path, overs: list[Path]) -> int:
    """`python -m locust_fleet.bench --render BASE.json [OVER.json ...]`: rewrite RESULTS.md
    and the chart from recorded bench data (each OVER's sections replace the earlier ones,
    one level down); no load is run."""
    data = json.loads(base.read_text())
    workdir = base.parent.resolve()
    sources = [(str(workdir.relative_to(root)), data.get("started_at"), data.get("runtime_s"))]
    for over in overs:
        newer = json.loads(over.read_text())
        data["sections"] = _merge(data["sections"], newer["sections"])
        data["machine"]["sections"] = {  # how quiet the machine was before each section
            **data["machine"].get("sections", {}),
            **newer.get("machine", {}).get("sections", {}),
        }
        data["notes"] = [*data.get("notes", []), *newer.get("notes", [])]
        where = str(over.parent.resolve().relative_to(root))
        sources.append((where, newer.get("started_at"), newer.get("runtime_s")))
    data["notes"] = [
        *data.get("notes", []),
        *filter(None, os.environ.get("BENCH_NOTE", "").split("\n")),
    ]
    if overs:
        data["sources"] = [{"workdir": w, "started_at": t, "runtime_s": r} for w, t, r in sources]
    report.write(bench_data=data, out_dir=root / "bench", workdir=workdir, root=root)
    return 0


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parents[3]
    os.chdir(root)
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--render"] and len(args) >= 2:
        return render_only(root, Path(args[1]), [Path(a) for a in args[2:]])
    if args:
        print(__doc__)
        return 0 if args[0] in ("-h", "--help") else 2
    seen = quiet.probe()
    if seen.problem():
        print(f"bench refused: {seen.problem()}")
        return 2
    config = Config.from_env()
    chosen = [s for s in os.environ.get("BENCH_SECTIONS", ",".join(ALL_SECTIONS)).split(",") if s]
    unknown = set(chosen) - set(ALL_SECTIONS)
    if unknown:
        print(f"unknown BENCH_SECTIONS {sorted(unknown)}; choose from {ALL_SECTIONS}")
        return 2
    stamp = now().strftime("%Y%m%dT%H%M%SZ")
    workdir = root / "bench" / "runs" / stamp
    workdir.mkdir(parents=True, exist_ok=True)
    host_cpu = HostCpu().start()
    bench = Bench(config=config, started_at=now().isoformat(timespec="seconds"), machine=_machine())
    bench.machine["busy_percent_before"] = seen.busy_percent
    harness = Harness(root, workdir, host_cpu)
    t0 = time.monotonic()
    log(f"bench {'QUICK ' if config.quick else ''}into {harness.rel(workdir)}: {', '.join(chosen)}")

    earlier = _earlier(os.environ.get("BENCH_MERGE", ""))

    def save() -> None:
        bench.runtime_s = time.monotonic() - t0
        data = json.loads(json.dumps(asdict(bench), default=str))
        if earlier:
            data["sections"] = _merge(earlier["sections"], data["sections"])
            data["machine"]["sections"] = {
                **earlier.get("machine", {}).get("sections", {}),
                **data["machine"].get("sections", {}),
            }
            data["merged_from"] = {
                "workdir": earlier["source"],
                "runtime_s": earlier.get("runtime_s"),
                "started_at": earlier.get("started_at"),
            }
        (workdir / "bench.json").write_text(json.dumps(data, indent=2))
        report.write(
            bench_data=data,
            out_dir=root / "bench",
            workdir=workdir,
            root=root,
        )

    sections = Sections(bench, harness, root, save)
    failed = []
    try:
        for name in ALL_SECTIONS:
            if name not in chosen:
                continue
            log(f"=== section {name}")
            # The load average still holds the previous section: the 5 s probe of the cores
            # and the sandboxes (other than the bench's own) say whether anything else runs.
            # The previous section's hosts settle first (workers restarted after a run of
            # 100,000 users stop them for seconds): up to a minute.
            for _ in range(SETTLE_PROBES):
                before = quiet.probe(own=BENCH_SANDBOXES)
                calm = not before.sandboxes and before.busy_percent <= quiet.MAX_BUSY_PERCENT
                if calm:
                    break
            bench.machine.setdefault("sections", {})[name] = {
                "loadavg_before": [round(x, 2) for x in before.loadavg],
                "busy_percent_before": before.busy_percent,
                "quiet_before": calm,
            }
            if not calm:
                log(f"section {name}: {before.problem()} (the section is marked)")
            try:
                getattr(sections, name)()
            except Exception as err:
                log(f"section {name} FAILED: {err!r}")
                bench.notes.append(f"section {name} did not finish: {err}")
                failed.append(name)
            bench.machine["sections"][name]["loadavg_after"] = [
                round(x, 2) for x in os.getloadavg()
            ]
            save()
    finally:
        try:
            if sections.tuned_inv is not None:  # only what this bench brought up
                harness.down(*TUNED)
        except Exception as err:
            log(f"sandbox down failed: {err}")
        host_cpu.stop()
        bench.finished_at = now().isoformat(timespec="seconds")
        save()
    log(f"done in {bench.runtime_s / 60:.1f} min; bench/RESULTS.md, bench/results.png")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
