"""``run.json`` as one typed record: what the CLI and the playbooks' record step both write.

Schema 4 (schema 3 had no ``cautions``; schema 2 no ``shape``; schema 1 was assembled in
Jinja and had no version key). Numbers are numbers, times ISO-8601 UTC, and every key is
always present.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 4


@dataclass
class RecordParameters:
    plan: str
    users: int
    spawn_rate: float
    run_time: str
    run_seconds: int
    user_classes: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    exclude_tags: list[str] = field(default_factory=list)
    extra_args: dict[str, str] = field(default_factory=dict)
    secret_env_names: list[str] = field(default_factory=list)
    target_url: str = ""


@dataclass
class RecordShape:
    """The LoadTestShape that drove the run, and what it really ran.

    When a shape drives the run, ``parameters.users`` and ``spawn_rate`` are what was
    given; they reach the shape only when it reads Locust's common options.
    """

    name: str  # the shape's class
    uses_common_options: bool  # whether -u, -r and -t reached the shape
    bound_seconds: int  # the run time, the shape's upper bound
    cut_by_run_time: bool  # the fleet ended the shape at the bound, before its own end
    peak_users: int | None  # the most users running at once (stats history)
    seconds: int | None  # seconds of the stats history with users running


@dataclass
class RecordHosts:
    master: str
    workers: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)


@dataclass
class RecordEvent:
    time: str | None
    host: str
    kind: str
    message: str


@dataclass
class RunRecord:
    run_id: str
    mode: str  # "headless" or "ui"
    phase: str  # "ended", or "lost" when the master ended without recording it
    parameters: RecordParameters
    hosts: RecordHosts
    started_at: str | None = None
    ended_at: str | None = None
    checks: list[str] = field(default_factory=list)  # kept with the run: attach applies them
    allow_saturated: bool = False
    allow_no_requests: bool = False
    locust_version: str | None = None
    plan_manifest_sha256: str | None = None
    controller: str = ""
    worker_processes: dict[str, int] = field(default_factory=dict)
    workers_expected: int = 0
    workers_connected: int | None = None
    # Host -> its clock minus the controller's (ms), measured by the preflight.
    clock_offsets_ms: dict[str, float] = field(default_factory=dict)
    cautions: list[str] = field(default_factory=list)  # the preflight's, from the run's state
    master_exit_code: int | None = None
    master_unit_result: str | None = None
    stopped: bool = False  # ended by stop (locust-fleet stop, playbooks/stop.yml, UI fetch)
    error: str = ""
    events: list[RecordEvent] = field(default_factory=list)
    shape: RecordShape | None = None  # set when a LoadTestShape drove the run
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def write(self, path: Path) -> None:
        """Write atomically: a reader never sees half a run.json."""
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
