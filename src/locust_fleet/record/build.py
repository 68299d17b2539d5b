"""A run's state on the master plus the files brought home -> its :class:`RunRecord`."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..results.csvfiles import read_history
from ..results.errors import ResultsError
from .events import run_events, workers_connected
from .model import RecordEvent, RecordHosts, RecordParameters, RecordShape, RunRecord

CPU_HEADER = "timestamp,host,role,unit,pid,cpu_percent,wait_percent\n"
LIMITS_HEADER = "timestamp,host,limit,subject,used,maximum\n"


def _iso(epoch: Any) -> str | None:
    if epoch in (None, ""):
        return None
    return datetime.fromtimestamp(float(epoch), UTC).isoformat()


def _exit_code(exit_info: Mapping[str, Any]) -> int | None:
    """systemd's $EXIT_CODE "exited" carries the process's status; anything else was a signal."""
    if exit_info.get("code") != "exited":
        return None
    try:
        return int(str(exit_info.get("status")))
    except ValueError:
        return None


def parameters(spec: Mapping[str, Any]) -> RecordParameters:
    return RecordParameters(
        plan=str(spec.get("plan") or ""),
        users=int(spec.get("users") or 0),
        spawn_rate=float(spec.get("spawn_rate") or 0),
        run_time=str(spec.get("run_time") or ""),
        run_seconds=int(spec.get("run_seconds") or 0),
        user_classes=[str(c) for c in spec.get("user_classes") or []],
        tags=[str(t) for t in spec.get("tags") or []],
        exclude_tags=[str(t) for t in spec.get("exclude_tags") or []],
        extra_args={str(k): str(v) for k, v in (spec.get("extra_args") or {}).items()},
        secret_env_names=sorted(str(n) for n in spec.get("secret_env_names") or []),
        target_url=str(spec.get("target_url") or ""),
    )


_SPAWN = re.compile(
    r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d).*"
    r"Sending spawn jobs of (\d+) users at ([0-9.]+) spawn rate",
    re.M,
)
_STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", re.M)


def ui_parameters(master_log: str) -> dict[str, Any]:
    """What an interactive run really ran: the UI's last ramp and the time from the first
    ramp to the master's last line (the UI's form is only in Locust's log)."""
    ramps = _SPAWN.findall(master_log)
    stamps = _STAMP.findall(master_log)
    if not ramps or not stamps:
        return {"users": 0, "spawn_rate": 0.0, "run_seconds": 0, "run_time": "0s"}
    first = datetime.strptime(ramps[0][0], "%Y-%m-%d %H:%M:%S")
    last = datetime.strptime(stamps[-1], "%Y-%m-%d %H:%M:%S")
    seconds = max(0, int((last - first).total_seconds()))
    return {
        "users": int(ramps[-1][1]),
        "spawn_rate": float(ramps[-1][2]),
        "run_seconds": seconds,
        "run_time": f"{seconds}s",
    }


def _history_span(run_dir: Path) -> tuple[int | None, int | None]:
    """(most users at once, seconds with users running) from the stats history, whose
    rows come once a second (Aggregated rows only: one per second)."""
    path = run_dir / "locust_stats_history.csv"
    if not path.is_file():
        return None, None
    try:
        rows = [row for row in read_history(path) if row.name == "Aggregated"]
    except ResultsError:
        return None, None
    if not rows:
        return None, None
    running = {int(row.timestamp.timestamp()) for row in rows if row.user_count > 0}
    return max(row.user_count for row in rows), len(running)


def shape_record(run_dir: Path, spec: Mapping[str, Any]) -> RecordShape | None:
    """What the run's load shape did: the preflight's finding, the master's shape.json
    (written by the fleet's shape plugin) and the stats history."""
    found = spec.get("shape")
    if not isinstance(found, Mapping):
        return None
    told: Mapping[str, Any] = {}
    path = run_dir / "shape.json"
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
        except ValueError:
            data = None
        told = data if isinstance(data, dict) else {}
    peak, seconds = _history_span(run_dir)
    return RecordShape(
        name=str(found.get("class") or ""),
        uses_common_options=bool(found.get("use_common_options")),
        bound_seconds=int(spec.get("run_seconds") or 0),
        cut_by_run_time=told.get("cut_by_run_time") is True,
        peak_users=peak,
        seconds=seconds,
    )


def merge_cpu_samples(run_dir: Path) -> None:
    """cpu/cpu-<host>.csv of every host -> cpu_samples.csv, and limits/limits-<host>.csv ->
    limits_samples.csv (one header each)."""
    for folder, name, header, merged in (
        ("cpu", "cpu-*.csv", CPU_HEADER, "cpu_samples.csv"),
        ("limits", "limits-*.csv", LIMITS_HEADER, "limits_samples.csv"),
    ):
        parts = sorted((run_dir / folder).glob(name)) if (run_dir / folder).is_dir() else []
        if not parts and folder == "limits":
            continue  # a run from before the limits were sampled
        with (run_dir / merged).open("w", encoding="utf-8") as out:
            out.write(header)
            for part in parts:
                text = part.read_text(encoding="utf-8", errors="replace")
                out.write(text if text.endswith("\n") or not text else text + "\n")


def read_state(run_dir: Path) -> dict[str, Any] | None:
    path = run_dir / "state.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def build_record(
    run_dir: Path,
    *,
    run_id: str,
    hosts: RecordHosts,
    state: Mapping[str, Any] | None,
    phase: str,
    locust_version: str | None,
    error: str = "",
    stopped: bool = False,
    refused: Sequence[str] = (),
) -> RunRecord:
    """Everything run.json says, from the master's state file and the fetched logs."""
    state = state or {}
    master_log_path = run_dir / "master.log"
    master_log = (
        master_log_path.read_text(encoding="utf-8", errors="replace")
        if master_log_path.is_file()
        else ""
    )
    spec = dict(state.get("spec") or {})
    if state.get("mode") == "ui":
        spec.update(ui_parameters(master_log))
    journal_dir = run_dir / "journals"
    journals = (
        {p.stem: p.read_text(encoding="utf-8", errors="replace") for p in journal_dir.glob("*.log")}
        if journal_dir.is_dir()
        else {}
    )
    started, ended = _iso(state.get("started")), _iso(state.get("ended"))
    exit_info = state.get("exit") or {}
    stop = state.get("stop_requested") or {}  # set by a stop before the master was stopped
    events = [
        RecordEvent(e["time"], e["host"], e["kind"], e["message"])
        for e in run_events(master_log, hosts.master, journals, started, ended)
    ]
    events += [RecordEvent(None, "controller", "refused_file", why) for why in refused]
    return RunRecord(
        run_id=run_id,
        mode=str(state.get("mode") or spec.get("mode") or "headless"),
        phase=phase,
        parameters=parameters(spec),
        hosts=hosts,
        started_at=started,
        ended_at=ended,
        checks=[str(c) for c in spec.get("checks") or []],
        allow_saturated=bool(spec.get("allow_saturated")),
        allow_no_requests=bool(spec.get("allow_no_requests")),
        locust_version=locust_version,
        plan_manifest_sha256=state.get("manifest_sha256"),
        controller=str(state.get("controller") or ""),
        worker_processes={str(h): int(n) for h, n in (state.get("worker_processes") or {}).items()},
        workers_expected=int(state.get("expected_workers") or 0),
        clock_offsets_ms={
            str(h): float(ms) for h, ms in (state.get("clock_offsets_ms") or {}).items()
        },
        cautions=[str(c) for c in state.get("cautions") or []],
        workers_connected=workers_connected(master_log),
        master_exit_code=_exit_code(exit_info),
        master_unit_result=exit_info.get("result"),
        stopped=stopped or bool(stop),
        error=error or str(stop.get("reason") or ""),
        events=events,
        shape=shape_record(run_dir, spec),
    )
