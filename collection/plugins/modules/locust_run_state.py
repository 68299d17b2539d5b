#!/usr/bin/python3
"""Keep each run's state on the master: record its start, read it, list the runs.

Runs as root on the host's system Python (3.8 or later), standard library only
besides ansible.module_utils. The work is in plain functions; main() only wires
AnsibleModule to them. The end of a run is recorded by the master unit's
ExecStopPost hook (roles/locust_master/files/locust-run-ended.py).
"""

from __future__ import annotations

import contextlib
import errno
import grp
import json
import os
import re
import stat
import subprocess
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.fleet.locust.plugins.module_utils.locust_disk import free_mb

DOCUMENTATION = r"""
module: locust_run_state
short_description: Record, read and list the Locust runs of a master
description:
  - The master keeps one state file per run, C(<state_dir>/<run id>.json) (schema 1), and
    C(<state_dir>/current) naming the run it started last. O(action=start) writes a run's
    file when its master is about to start; the unit's ExecStopPost hook sets its end.
  - O(action=read) returns one run's state and its RV(effective_phase) - C(running) only
    while the file says running and the master unit is active for it, C(lost) when the file
    says running but the host rebooted since, the unit is inactive (its hook did not run) or
    a later run was started.
  - O(action=list) returns every run, newest first.
  - O(action=stop) notes in a running run's file that it is being stopped (O(reason), by
    O(controller), when), before its master is stopped. Whoever brings the run home later
    then knows it was cut short, not ended by its run time.
  - O(state_dir) must be a folder owned by root and not writable by others, not a link; no
    link is followed in it. Read and list change nothing; start in check mode writes nothing.
options:
  action:
    description: What to do.
    type: str
    choices: [start, read, list, stop]
    required: true
  run_id:
    description:
      - The run (letters, digits, C(.), C(_), C(-); up to 100, starting with a letter or digit).
      - Required to start; to read, empty means the current run, else the newest one.
    type: str
    default: ""
  state_dir:
    description: The folder of the state files (created root:root 0755 by start).
    type: path
    default: /var/lib/locust/state
  spec:
    description: The run's parameters as the controller gave them (any JSON object).
    type: dict
    default: {}
  mode:
    description: A C(headless) run or an interactive (C(ui)) one.
    type: str
    choices: [headless, ui]
    default: headless
  manifest_sha256:
    description: The sha256 of the deployed test plan's manifest.
    type: str
  expected_workers:
    description: How many worker processes the master waits for.
    type: int
  worker_processes:
    description: Worker host -> its number of worker processes.
    type: dict
    default: {}
  clock_offsets_ms:
    description: Host -> its clock minus the controller's in ms, as the preflight measured it.
    type: dict
    default: {}
  cautions:
    description:
      - What the preflight found the run can take, but at a cost (e.g. more than half a host's
        local port range toward the target); the controller shows them, run.json keeps them.
    type: list
    elements: str
    default: []
  controller:
    description: Who started the run (user@host of the controller).
    type: str
    default: ""
  created:
    description:
      - When the run was claimed (host epoch seconds; journals are read from here).
      - Default now.
    type: float
  sampler_unit:
    description: The run's CPU sampler unit.
    type: str
  run_dir:
    description: The run's folder on the master.
    type: str
  run_seconds_budget:
    description: Seconds from now (host clock) after which the run is overdue; sets C(deadline).
    type: float
  reason:
    description: Why the run is stopped (O(action=stop)).
    type: str
    default: stopped
  master_config:
    description:
      - The run's master config, written (root:O(master_config.group), C(0640), atomically) just
        before the state file by O(action=start), so config, state and unit start are one call.
    type: dict
    suboptions:
      path:
        description: Where the master unit reads its config; its folder must exist.
        type: path
        required: true
      content:
        description: The config's text.
        type: str
        required: true
      group:
        description: The config file's group (the Locust processes' group).
        type: str
        default: locust
  start_unit:
    description: With O(action=start), the unit to start once the state is written (the master).
    type: str
attributes:
  check_mode:
    support: full
author: locust-fleet
"""

EXAMPLES = r"""
- name: Record the run's start on the master
  fleet.locust.locust_run_state:
    action: start
    run_id: 20261201T101010Z-abc123
    mode: headless
    spec: {users: 100, run_seconds: 600}
    expected_workers: 8
    worker_processes: {w1: 4, w2: 4}
    controller: ops@laptop
    sampler_unit: locust-cpu-sampler-20261201T101010Z-abc123
    run_dir: /var/lib/locust/runs/20261201T101010Z-abc123
    run_seconds_budget: 900

- name: Read the current or latest run
  fleet.locust.locust_run_state:
    action: read
  register: __locust_run_found
"""

RETURN = r"""
state:
  description: The run's state file (schema 1); null when there is no such run.
  returned: action is start or read
  type: dict
run_id:
  description: The run read or started; null when there is none.
  returned: action is start or read
  type: str
effective_phase:
  description: C(running), C(ended) or C(lost) (see the description); null when there is no run.
  returned: action is read
  type: str
master:
  description: The master unit as systemd shows it - active (bool), exec_main_status (int),
    exec_main_code (int), result (str).
  returned: action is read
  type: dict
rebooted:
  description: Whether the host booted again since the run started (its boot id is not the one
    in the state file); null when there is no run.
  returned: action is read
  type: bool
run_dir_free_mb:
  description: MiB free to unprivileged users where the run writes its results (its run_dir);
    null when there is no run or it cannot be read.
  returned: action is read
  type: float
runs:
  description: Every run - run_id, phase, started, ended - newest first.
  returned: action is list
  type: list
  elements: dict
"""

SCHEMA = 1
RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
MASTER_UNIT = "locust-master.service"
ACTIVE_STATES = ("active", "activating", "deactivating")
STATE_DIR_OWNER = 0  # uid that must own state_dir
MAX_BYTES = 16 << 20
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class StateError(Exception):
    """The request cannot be served; the message says what is wrong and what to do."""


def boot_id():
    try:
        with open("/proc/sys/kernel/random/boot_id") as handle:
            return handle.read().strip() or None
    except OSError:
        return None


def _int_or_none(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def master_unit(unit=MASTER_UNIT):
    """The master unit as systemd shows it."""
    argv = ["systemctl", "show", unit, "-p", "ActiveState", "-p", "ExecMainStatus"]
    argv += ["-p", "ExecMainCode", "-p", "Result"]
    try:
        out = subprocess.run(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            check=False,
            timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return {
        "active": values.get("ActiveState") in ACTIVE_STATES,
        "exec_main_status": _int_or_none(values.get("ExecMainStatus")),
        "exec_main_code": _int_or_none(values.get("ExecMainCode")),
        "result": values.get("Result") or None,
    }


def check_run_id(run_id):
    if not RUN_ID.match(run_id or ""):
        raise StateError(
            f"run id {run_id!r} is not usable: use letters, digits, '.', '_' and '-' (up to 100, "
            "starting with a letter or digit)"
        )


def open_state_dir(state_dir, create=False):
    """A descriptor of state_dir, or None when it does not exist (and create is false)."""
    created = False
    if create and not os.path.lexists(state_dir):
        with contextlib.suppress(FileExistsError):
            os.mkdir(state_dir, 0o755)
            created = True
    try:
        fd = os.open(state_dir, DIR_FLAGS)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise StateError(
            f"{state_dir} is not a folder one can trust (a link or not a folder: "
            f"{err.strerror or err}); it must be a root-owned folder; re-run site.yml"
        ) from None
    st = os.fstat(fd)
    if created and st.st_uid == STATE_DIR_OWNER:
        os.fchmod(fd, 0o755)  # whatever the umask; on the folder opened, never through a link
        st = os.fstat(fd)
    problem = None
    if st.st_uid != STATE_DIR_OWNER:
        problem = f"is owned by uid {st.st_uid}, not root"
    elif st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        problem = f"is writable by others (mode {stat.S_IMODE(st.st_mode):o})"
    if problem:
        os.close(fd)
        raise StateError(
            f"{state_dir} {problem}; refusing to use it for the runs' state. "
            "Remove it and re-run site.yml"
        )
    return fd


def read_file(dir_fd, name):
    """The bytes of the regular file ``name`` in the folder, never through a link;
    None when it does not exist."""
    try:
        fd = os.open(
            name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd
        )
    except FileNotFoundError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise StateError(f"{name} in the state folder is not a regular file")
        if st.st_size > MAX_BYTES:
            raise StateError(f"{name} in the state folder is larger than {MAX_BYTES} bytes")
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_state(dir_fd, run_id):
    """The state of ``run_id`` (a dict), or None when there is none."""
    try:
        data = read_file(dir_fd, run_id + ".json")
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise StateError(f"{run_id}.json in the state folder is a link; refusing it") from None
        raise
    if data is None:
        return None
    try:
        state = json.loads(data.decode("utf-8"))
    except ValueError:
        raise StateError(f"{run_id}.json in the state folder is not valid JSON") from None
    if not isinstance(state, dict):
        raise StateError(f"{run_id}.json in the state folder does not hold a JSON object")
    return state


def current_run_id(dir_fd):
    try:
        data = read_file(dir_fd, "current")
    except (OSError, StateError):
        return None
    run_id = (data or b"").decode("utf-8", "replace").strip()
    return run_id if RUN_ID.match(run_id) else None


def all_states(dir_fd):
    """(run id, state) of every readable run state in the folder, newest first by started."""
    states = []
    for name in os.listdir(dir_fd):
        run_id = name[: -len(".json")]
        if not name.endswith(".json") or not RUN_ID.match(run_id):
            continue
        try:
            state = read_state(dir_fd, run_id)
        except (OSError, StateError):
            continue
        if state is not None:
            states.append((run_id, state))
    states.sort(key=lambda item: _number(item[1].get("started")), reverse=True)
    return states


def _number(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def write_new(dir_fd, name, data, replace, mode=0o644, gid=-1):
    """Write ``name`` in the folder atomically; without ``replace`` it must not exist yet."""
    tmp = f".{name}.{os.getpid()}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(tmp, flags, 0o600, dir_fd=dir_fd)
    try:
        try:
            if gid != -1:
                os.fchown(fd, -1, gid)
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if replace:
            os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        else:
            # A link fails when the name exists: two starts of one id cannot both win.
            os.link(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=dir_fd)
    os.fsync(dir_fd)


def new_state(params, now, boot):
    created = params.get("created")
    return {
        "schema": SCHEMA,
        "run_id": params["run_id"],
        "phase": "running",
        "mode": params.get("mode") or "headless",
        "spec": dict(params.get("spec") or {}),
        "manifest_sha256": params.get("manifest_sha256") or None,
        "expected_workers": int(params.get("expected_workers") or 0),
        "worker_processes": {
            str(host): int(count) for host, count in (params.get("worker_processes") or {}).items()
        },
        "controller": params.get("controller") or "",
        "created": float(created) if created is not None else now,
        "started": now,
        "ended": None,
        "exit": {"code": None, "status": None, "result": None},
        "sampler_unit": params.get("sampler_unit") or "",
        "run_dir": params.get("run_dir") or "",
        "deadline": now + float(params["run_seconds_budget"]),
        "boot_id": boot,
        "clock_offsets_ms": {
            str(host): float(ms) for host, ms in (params.get("clock_offsets_ms") or {}).items()
        },
        "cautions": [str(c) for c in params.get("cautions") or []],
    }


def write_master_config(config):
    """Write the run's master config (root:<group>, 0640, atomically) in its existing folder."""
    folder, name = os.path.split(config["path"])
    try:
        gid = grp.getgrnam(config["group"]).gr_gid
    except KeyError:
        raise StateError(
            f"there is no group {config['group']!r} on this host; run site.yml"
        ) from None
    dir_fd = os.open(folder, DIR_FLAGS)
    try:
        write_new(dir_fd, name, config["content"].encode("utf-8"), True, 0o640, gid)
    finally:
        os.close(dir_fd)


def start_unit(unit):
    proc = subprocess.run(
        ["systemctl", "start", unit], capture_output=True, text=True, timeout=120, check=False
    )
    if proc.returncode != 0:
        raise StateError(
            f"systemctl start {unit} failed (exit {proc.returncode}): "
            f"{proc.stderr.strip() or 'no message'}; see journalctl -u {unit}"
        )


def start(state_dir, params, now=None, check_mode=False):
    """Record a run's start (after writing its master config, when given; then start its
    unit, when named); (state, changed)."""
    run_id = params.get("run_id") or ""
    check_run_id(run_id)
    if params.get("run_seconds_budget") is None:
        raise StateError("start needs run_seconds_budget")
    now = time.time() if now is None else now
    try:
        state = new_state(params, now, boot_id())
    except (TypeError, ValueError) as err:
        raise StateError(
            f"run {run_id}: bad worker_processes or expected_workers ({err})"
        ) from None
    used = (
        f"run id {run_id} was used already on this master ({state_dir}/{run_id}.json "
        "exists); choose another --run-id"
    )
    dir_fd = open_state_dir(state_dir, create=not check_mode)
    if dir_fd is None:  # check mode, no folder yet
        return state, True
    try:
        if _exists(dir_fd, run_id + ".json"):
            raise StateError(used)
        if check_mode:
            return state, True
        if params.get("master_config"):
            write_master_config(params["master_config"])
        data = (json.dumps(state, indent=2, sort_keys=True) + "\n").encode("utf-8")
        try:
            write_new(dir_fd, run_id + ".json", data, replace=False)
        except FileExistsError:
            raise StateError(used) from None
        write_new(dir_fd, "current", (run_id + "\n").encode("utf-8"), replace=True)
    finally:
        os.close(dir_fd)
    if params.get("start_unit"):
        start_unit(params["start_unit"])
    return state, True


def mark_stop(state_dir, run_id, by, reason, now=None, check_mode=False):
    """Note in a running run's state that it is being stopped; (state, changed)."""
    check_run_id(run_id)
    dir_fd = open_state_dir(state_dir)
    if dir_fd is None:
        raise StateError(f"no run {run_id} is recorded here")
    try:
        state = read_state(dir_fd, run_id)
        if state is None:
            raise StateError(f"no run {run_id} is recorded here")
        if state.get("phase") != "running" or state.get("stop_requested"):
            return state, False
        state["stop_requested"] = {
            "by": by or "",
            "reason": reason or "stopped",
            "at": time.time() if now is None else now,
        }
        if not check_mode:
            data = (json.dumps(state, indent=2, sort_keys=True) + "\n").encode("utf-8")
            write_new(dir_fd, run_id + ".json", data, replace=True)
    finally:
        os.close(dir_fd)
    return state, True


def _exists(dir_fd, name):
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def effective_phase(state, master, host_boot, is_current):
    if state is None:
        return None
    phase = state.get("phase")
    if phase != "running":
        return phase
    if state.get("boot_id") != host_boot or not is_current or not master["active"]:
        return "lost"
    return "running"


def read(state_dir, run_id=""):
    """(state, run id, effective phase, master) of ``run_id`` or the current/newest run."""
    if run_id:
        check_run_id(run_id)
    master = master_unit()
    dir_fd = open_state_dir(state_dir)
    if dir_fd is None:
        return None, None, None, master
    try:
        current = current_run_id(dir_fd)
        found, state = run_id, None
        if run_id:
            state = read_state(dir_fd, run_id)
        else:
            if current:
                found = current
                with contextlib.suppress(StateError):
                    state = read_state(dir_fd, current)
            if state is None:
                newest = all_states(dir_fd)
                found, state = newest[0] if newest else (None, None)
    finally:
        os.close(dir_fd)
    if state is None:
        return None, None, None, master
    phase = effective_phase(state, master, boot_id(), is_current=found == current)
    return state, found, phase, master


def rebooted_since(state, host_boot):
    """Whether the host booted again since the run's state was written at its start."""
    if state is None or not state.get("boot_id") or not host_boot:
        return None
    return state["boot_id"] != host_boot


def list_runs(state_dir):
    dir_fd = open_state_dir(state_dir)
    if dir_fd is None:
        return []
    try:
        states = all_states(dir_fd)
    finally:
        os.close(dir_fd)
    return [
        {
            "run_id": run_id,
            "phase": s.get("phase"),
            "started": s.get("started"),
            "ended": s.get("ended"),
        }
        for run_id, s in states
    ]


def main():
    module = AnsibleModule(
        argument_spec={
            "action": {
                "type": "str",
                "choices": ["start", "read", "list", "stop"],
                "required": True,
            },
            "run_id": {"type": "str", "default": ""},
            "state_dir": {"type": "path", "default": "/var/lib/locust/state"},
            "spec": {"type": "dict", "default": {}},
            "mode": {"type": "str", "choices": ["headless", "ui"], "default": "headless"},
            "manifest_sha256": {"type": "str"},
            "expected_workers": {"type": "int"},
            "worker_processes": {"type": "dict", "default": {}},
            "clock_offsets_ms": {"type": "dict", "default": {}},
            "cautions": {"type": "list", "elements": "str", "default": []},
            "controller": {"type": "str", "default": ""},
            "created": {"type": "float"},
            "sampler_unit": {"type": "str"},
            "run_dir": {"type": "str"},
            "run_seconds_budget": {"type": "float"},
            "reason": {"type": "str", "default": "stopped"},
            "master_config": {
                "type": "dict",
                "options": {
                    "path": {"type": "path", "required": True},
                    "content": {"type": "str", "required": True},
                    "group": {"type": "str", "default": "locust"},
                },
            },
            "start_unit": {"type": "str"},
        },
        required_if=[
            (
                "action",
                "start",
                ("expected_workers", "sampler_unit", "run_dir", "run_seconds_budget"),
            ),
        ],
        supports_check_mode=True,
    )
    params = module.params
    try:
        if params["action"] == "start":
            state, changed = start(params["state_dir"], params, check_mode=module.check_mode)
            module.exit_json(changed=changed, state=state, run_id=state["run_id"])
        if params["action"] == "stop":
            state, changed = mark_stop(
                params["state_dir"],
                params["run_id"],
                params["controller"],
                params["reason"],
                check_mode=module.check_mode,
            )
            module.exit_json(changed=changed, state=state, run_id=params["run_id"])
        if params["action"] == "read":
            state, run_id, phase, master = read(params["state_dir"], params["run_id"])
            module.exit_json(
                changed=False,
                state=state,
                run_id=run_id,
                effective_phase=phase,
                master=master,
                rebooted=rebooted_since(state, boot_id()),
                run_dir_free_mb=free_mb(state["run_dir"]) if (state or {}).get("run_dir") else None,
            )
        module.exit_json(changed=False, runs=list_runs(params["state_dir"]))
    except StateError as err:
        module.fail_json(msg=str(err))
    except OSError as err:
        module.fail_json(msg="cannot use the state folder {}: {}".format(params["state_dir"], err))


if __name__ == "__main__":
    main()
