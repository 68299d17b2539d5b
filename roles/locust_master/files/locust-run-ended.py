#!/usr/bin/python3
"""Record the end of the current Locust run (ExecStopPost of locust-master.service).

Reads <state-dir>/current (a run id), loads <state-dir>/<run id>.json (schema 1)
and, when its phase is "running", sets phase "ended", the time it ended and the
unit's exit ({"code": $EXIT_CODE, "status": $EXIT_STATUS, "result":
$SERVICE_RESULT}, null when systemd did not set one). Every other key is kept.
The file is replaced atomically; no link is followed. Then it gives the fleet
back: the run claim (--claim-file, the file fleet.locust.locust_run_claim keeps)
is emptied, under the same lock, when this run holds it - the claim follows the
run, so no controller has to be there to release it. Installed by the role
locust_master. It never fails the unit: on any problem it writes one line to
stderr and exits 0. Standard library only, Python 3.8 or later.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import re
import stat
import sys
import time
from typing import Any

DEFAULT_STATE_DIR = "/var/lib/locust/state"
DEFAULT_CLAIM_FILE = "/run/locust-fleet/claim.json"
SCHEMA = 1
RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
MAX_BYTES = 16 * 1024 * 1024


class Skip(Exception):
    """Nothing to record; the message says why."""


def read_regular_file(dir_fd: int, name: str) -> bytes:
    """The bytes of a regular file in the folder, never through a link."""
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Skip(f"{name} is not a regular file")
        chunks = []
        size = 0
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_BYTES:
                raise Skip(f"{name} is larger than {MAX_BYTES} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def exit_status(value: str | None) -> Any:
    """$EXIT_STATUS: a number for an exit code, a signal name (TERM, KILL, ...) otherwise."""
    if value is None or value == "":
        return None
    return int(value) if value.isdigit() else value


def unit_exit(environ: dict[str, str]) -> dict[str, Any]:
    return {
        "code": environ.get("EXIT_CODE") or None,
        "status": exit_status(environ.get("EXIT_STATUS")),
        "result": environ.get("SERVICE_RESULT") or None,
    }


def write_atomically(dir_fd: int, name: str, data: bytes, like: os.stat_result) -> None:
    """Replace <name> by a temp file holding data, with the old file's mode and owner."""
    tmp = f".{name}.{os.getpid()}.tmp"
    fd = os.open(
        tmp,
        os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
        stat.S_IMODE(like.st_mode),
        dir_fd=dir_fd,
    )
    try:
        try:
            os.fchmod(fd, stat.S_IMODE(like.st_mode))
            if os.geteuid() == 0:
                os.fchown(fd, like.st_uid, like.st_gid)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise
    os.fsync(dir_fd)


def current_run(state_dir: str) -> str:
    """The run id in <state-dir>/current (raises Skip when there is none)."""
    dir_fd = os.open(state_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        try:
            run_id = read_regular_file(dir_fd, "current").decode("utf-8").strip()
        except FileNotFoundError:
            raise Skip(f"no current run in {state_dir}") from None
    finally:
        os.close(dir_fd)
    if not RUN_ID.match(run_id):
        raise Skip(f"{state_dir}/current holds no usable run id: {run_id[:100]!r}")
    return run_id


def release_claim(path: str, run_id: str) -> str:
    """Empty the claim file when run_id holds it (flock'd as the claim module does)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return "no claim file"
    with os.fdopen(fd, "r+") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return f"{path} is not a regular file: left as it is"
        fcntl.flock(handle, fcntl.LOCK_EX)
        text = handle.read(MAX_BYTES).strip()
        try:
            holder = json.loads(text) if text else None
        except ValueError:
            holder = None
        if not isinstance(holder, dict) or holder.get("run_id") != run_id:
            return "the fleet's claim is not this run's: left as it is"
        handle.seek(0)
        handle.truncate()
        handle.flush()
        os.fsync(handle.fileno())
    return "fleet claim released"


def record_end(state_dir: str, environ: dict[str, str], now: float) -> str:
    """Mark the current run ended; returns what was done (raises Skip when nothing was)."""
    run_id = current_run(state_dir)
    dir_fd = os.open(state_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        name = run_id + ".json"
        state = json.loads(read_regular_file(dir_fd, name).decode("utf-8"))
        if not isinstance(state, dict):
            raise Skip(f"{state_dir}/{name} does not hold a JSON object")
        if state.get("schema") != SCHEMA:
            raise Skip(
                f"{state_dir}/{name} has schema {state.get('schema')!r}, this hook knows {SCHEMA}"
            )
        if state.get("phase") != "running":
            raise Skip(
                f"run {run_id} is in phase {state.get('phase')!r}, not running: left as it is"
            )
        like = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        state["phase"] = "ended"
        state["ended"] = now
        state["exit"] = unit_exit(environ)
        data = (json.dumps(state, indent=2, sort_keys=True) + "\n").encode("utf-8")
        write_atomically(dir_fd, name, data, like)
        return f"run {run_id} ended: {json.dumps(state['exit'], sort_keys=True)}"
    finally:
        os.close(dir_fd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--state-dir", default=DEFAULT_STATE_DIR, help="folder of the runs' state files"
    )
    parser.add_argument(
        "--claim-file", default=DEFAULT_CLAIM_FILE, help="the fleet's run claim (released)"
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit:
        print("locust-run-ended: bad arguments; nothing recorded", file=sys.stderr)
        return 0
    try:
        done = record_end(args.state_dir, dict(os.environ), time.time())
    except Skip as skip:
        done = str(skip)
    except Exception as err:  # the hook must never fail the unit
        done = f"nothing recorded: {type(err).__name__}: {err}"
    try:
        released = release_claim(args.claim_file, current_run(args.state_dir))
    except Skip:
        released = "claim left as it is (no current run)"
    except Exception as err:
        released = f"claim left as it is: {type(err).__name__}: {err}"
    print(f"locust-run-ended: {done}; {released}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
