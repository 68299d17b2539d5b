"""What a sandbox has started, on disk, so `down` and a later `up` can find it after a crash."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

STATE_ROOT = Path("/var/lib/locust-fleet/sandbox")


@dataclass
class HostRecord:
    name: str
    role: str  # master | worker | target | monitor
    ip: str
    pid: int | None = None
    pid_start: str | None = None  # /proc/<pid>/stat field 22, so a reused PID is never signalled
    leader: int | None = None  # the container's init (nspawn's child), in case nspawn dies alone
    leader_start: str | None = None


@dataclass
class SandboxState:
    name: str
    subnet: str
    bridge: str
    hosts: list[HostRecord] = field(default_factory=list)
    release: str = "bookworm"  # the Debian release every host boots (an older state: bookworm)

    @property
    def directory(self) -> Path:
        return STATE_ROOT / self.name

    def save(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / "state.json.tmp"
        tmp.write_text(json.dumps(asdict(self), indent=2))
        os.replace(tmp, self.directory / "state.json")

    @classmethod
    def load(cls, name: str) -> SandboxState | None:
        path = STATE_ROOT / name / "state.json"
        if not path.exists():
            return None
        raw = json.loads(path.read_text())
        hosts = [HostRecord(**h) for h in raw.pop("hosts", [])]
        return cls(hosts=hosts, **raw)

    def host(self, name: str) -> HostRecord | None:
        return next((h for h in self.hosts if h.name == name), None)
