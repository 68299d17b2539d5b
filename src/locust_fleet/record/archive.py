"""Bring one host's archive home without trusting it.

Each host's tar.gz is unpacked member by member into a fresh folder of its own:
links, devices, absolute or ``..`` paths and set-id bits are refused, and only
the files the controller expects from that host are moved into the run folder
(the master's Locust outputs; every host's own CPU samples and journal). A
worker cannot overwrite the master's stats, and nothing lands outside the run.
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import stat
import tarfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MASTER_FILES = (
    "locust_stats.csv",
    "locust_stats_history.csv",
    "locust_failures.csv",
    "locust_exceptions.csv",
    "report.html",
    "stats.json",
    "master.log",
    "state.json",
    "shape.json",
)
MAX_MEMBER_BYTES = 1 << 30


class ArchiveError(ValueError):
    """An archive that cannot be taken as it is (its host and the reason)."""


@dataclass
class Extracted:
    host: str
    files: list[str] = field(default_factory=list)  # relative paths placed in the run folder
    refused: list[str] = field(default_factory=list)  # "name: why"


def expected_files(host: str, is_master: bool) -> set[str]:
    mine = {f"cpu/cpu-{host}.csv", f"limits/limits-{host}.csv", f"journals/{host}.log"}
    return mine | set(MASTER_FILES) if is_master else mine


def _refusal(member: tarfile.TarInfo) -> str | None:
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts or not member.name.strip():
        return "absolute or parent path"
    if member.isdir():
        return None
    if not member.isreg():
        return "not a regular file (link, device or fifo)"
    if member.mode & (stat.S_ISUID | stat.S_ISGID):
        return "set-id bit"
    if member.size > MAX_MEMBER_BYTES:
        return f"{member.size} bytes is too large"
    return None


def _write_new(path: Path, data: io.BufferedReader) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    with os.fdopen(os.open(path, flags, 0o644), "wb") as out:
        shutil.copyfileobj(data, out)


def unpack(host: str, archive: bytes, staging: Path) -> list[str]:
    """Unpack into ``staging`` (must not exist); return the refused members, "name: why"."""
    staging.mkdir(parents=True)
    refused = []
    try:
        tar = tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz")  # noqa: SIM115 (closed below)
    except (tarfile.TarError, OSError, EOFError) as err:
        raise ArchiveError(f"{host}: its archive cannot be read ({err})") from None
    with tar:
        for member in tar:
            why = _refusal(member)
            if why:
                refused.append(f"{member.name}: {why}")
                continue
            if member.isdir():
                continue
            target = staging / PurePosixPath(member.name)
            source = tar.extractfile(member)
            if source is None or target.exists():
                refused.append(f"{member.name}: duplicate or unreadable")
                continue
            _write_new(target, source)
    return refused


def bring_home(host: str, archive_base64: str, run_dir: Path, *, is_master: bool) -> Extracted:
    """Unpack ``host``'s archive safely and move its expected files into ``run_dir``."""
    try:
        archive = base64.b64decode(archive_base64, validate=True)
    except ValueError:
        raise ArchiveError(f"{host}: its archive is not base64") from None
    # Per process: a run's own playbook and a stop may bring the same run home at once.
    hosts_dir = run_dir / f".incoming-{os.getpid()}"
    staging = hosts_dir / host
    if staging.exists():
        shutil.rmtree(staging)
    result = Extracted(host, refused=unpack(host, archive, staging))
    wanted = expected_files(host, is_master)
    for path in sorted(p for p in staging.rglob("*") if p.is_file() and not p.is_symlink()):
        rel = path.relative_to(staging).as_posix()
        if rel not in wanted:
            result.refused.append(f"{rel}: not a file this host sends")
            continue
        target = run_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.exists():
            target.unlink()
        os.replace(path, target)
        result.files.append(rel)
    shutil.rmtree(staging)
    if hosts_dir.is_dir() and not any(hosts_dir.iterdir()):
        hosts_dir.rmdir()
    return result
