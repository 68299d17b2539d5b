#!/usr/bin/python3
"""Prepare one master or worker host for a run in one call: the run's folder, the Locust
units' secrets file, fresh worker processes and the CPU sampler.

Runs as root on the host's system Python (3.8 or later), standard library only besides
ansible.module_utils. The work is in plain functions; main() only wires AnsibleModule to
them.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import re
import stat
import subprocess
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.fleet.locust.plugins.module_utils.locust_env_file import (
    SecretError,
    env_file_text,
)
from ansible_collections.fleet.locust.plugins.module_utils.locust_env_file import (
    check_secrets as secret_pairs,
)
from ansible_collections.fleet.locust.plugins.module_utils.locust_safe_files import (
    UnsafeFileError,
    open_folder,
    read_regular_file,
    write_atomically,
)

DOCUMENTATION = r"""
module: locust_run_prepare
short_description: Prepare a host for a Locust run (folder, secrets, workers, CPU sampler)
description:
  - Does, in this order and in one call, what a run needs on each master and worker host
    before its master starts.
  - Creates the run's folder O(run_dir) (O(owner):O(group), mode C(0750)) when it is missing;
    its parent must exist. A link or a non-folder at O(run_dir) is refused, never followed.
    An existing folder gets its owner, group and mode set when they differ.
  - Writes O(secrets) to O(secrets_path) for the units' C(EnvironmentFile=) - root:O(group)
    C(0640), atomically (a new file in the same folder, then renamed over the old one). Its
    first line is a comment naming the run and the variables (never their values). Each value
    is written as C(NAME="value") with C(\) written C(\\) and C(") written C(\"), nothing
    else changed, so that systemd hands it to the process byte for byte (quotes,
    backslashes, C($), leading and trailing spaces included). A name that is not a shell
    variable name, and a value that an environment file cannot carry (a newline, a carriage
    return, NUL, a Unicode noncharacter or U+FEFF) are refused before anything is done.
  - Restarts the units O(restart_units) (but those of O(keep_units) that may stay) with one
    C(systemctl restart), after C(systemctl reset-failed) of them (a worker that systemd gave up
    on at its start limit would refuse the restart). A unit that systemd
    could not spawn (result C(resources), seen with systemd 257 on cgroup v1 hosts) is
    restarted once more a second later.
  - On the master, makes the live port filter's sets O(fence.sets) hold exactly the addresses
    given (the inventory's workers of now - a worker removed since site.yml loses its access at
    the next run's start), in one nft transaction, after the units' restart (which reloads
    the table from its file when something flushed it).
  - Starts the CPU sampler O(sampler) as a transient unit (C(systemd-run --collect)), unless
    a unit of that name is already active.
  - In check mode nothing is changed; the result says what would be done.
options:
  run_id:
    description: The run (letters, digits, C(.), C(_), C(-); up to 100, starting with a letter
      or digit); named in the secrets file's comment.
    type: str
    required: true
  run_dir:
    description: The run's folder; its parent must exist.
    type: path
    required: true
  owner:
    description: The user that owns the run's folder.
    type: str
    default: locust
  group:
    description: The group of the run's folder and of the secrets file.
    type: str
    default: locust
  secrets:
    description:
      - Environment variable name -> value for the Locust units (strings; numbers are
        written as Python writes them). Empty writes a file with the comment only.
    type: dict
    default: {}
  secrets_path:
    description: The units' C(EnvironmentFile=); its folder must exist.
    type: path
    default: /etc/locust/secrets.env
  restart_units:
    description: The units to restart (one C(systemctl restart) for all of them).
    type: list
    elements: str
    default: []
  keep_units:
    description:
      - Units of O(restart_units) whose process has never served a test (the controller
        found them started after the master last exited); each one still running is kept,
        not restarted, when the run has no secrets and its process started after the
        secrets' folder last changed, with no secrets file in it (a process reads them when
        it starts).
    type: list
    elements: str
    default: []
  fence:
    description:
      - The master's port filter to bring in line; none when omitted.
    type: dict
    suboptions:
      table:
        description: The C(inet) table (C(locust)).
        type: str
        required: true
      sets:
        description:
          - Set name -> the elements it must hold (addresses or C(addr/len) prefixes). A set
            that is missing from the table while it must hold something is an error naming
            it (site.yml writes the table's sets).
        type: dict
        required: true
  files:
    description:
      - Fleet files the run needs on this host (a Locust plugin loaded next to the plan, say),
        each (re)written (root, C(0644), atomically) where its content differs.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Where the file goes; its folder is created (C(0755)) when missing.
        type: path
        required: true
      content:
        description: The file's text.
        type: str
        required: true
  sampler:
    description:
      - The CPU sampler to start as a transient unit; none when omitted.
      - "It runs C(systemd-run --unit=<unit> --collect --property=RuntimeMaxSec=<runtime_max_sec>
        <python> <script> --out=<out> --host=<host> --interval=<interval>
        --duration=<duration>)."
    type: dict
    suboptions:
      unit:
        description: The transient unit's name.
        type: str
        required: true
      script:
        description: The sampler script.
        type: path
        required: true
      script_content:
        description:
          - The script's text. When given, O(sampler.script) is (re)written with it (root, C(0755),
            atomically) where it differs, so the sampler a run starts is always the controller's.
        type: str
      out:
        description: The CSV file the sampler writes.
        type: path
        required: true
      host:
        description: The host name the sampler writes in its rows.
        type: str
        required: true
      interval:
        description: Seconds between samples.
        type: float
        required: true
      duration:
        description: Seconds the sampler runs.
        type: int
        required: true
      runtime_max_sec:
        description: The unit's C(RuntimeMaxSec=), after which systemd stops it.
        type: int
        required: true
      limits_out:
        description: Where the sampler also writes the host's other limits (open files,
          local ports, conntrack, memory) at the same interval (C(--limits-out)).
        type: path
      python:
        description: The Python that runs the script.
        type: path
        default: /usr/bin/python3
attributes:
  check_mode:
    support: full
author: locust-fleet
"""

EXAMPLES = r"""
- name: Prepare the host for the run
  fleet.locust.locust_run_prepare:
    run_id: 20261201T101010Z-abc123
    run_dir: /var/lib/locust/runs/20261201T101010Z-abc123
    secrets: {API_TOKEN: "s3cr$t \"x\""}
    restart_units: [locust-worker@1.service, locust-worker@2.service]
    sampler:
      unit: locust-cpu-sampler-20261201T101010Z-abc123
      script: /opt/locust/bin/locust-cpu-sampler.py
      out: /var/lib/locust/runs/20261201T101010Z-abc123/cpu-w1.csv
      host: w1
      interval: 1
      duration: 920
      runtime_max_sec: 930
"""

RETURN = r"""
run_dir_created:
  description: Whether the run's folder was (or, in check mode, would be) created.
  returned: always
  type: bool
secrets_changed:
  description: Whether the secrets file's content differed (or it was missing) and was
    (or would be) written.
  returned: always
  type: bool
restarted:
  description: The units restarted (or that would be), in the order given.
  returned: always
  type: list
  elements: str
kept:
  description: The units of O(keep_units) left running instead of restarted.
  returned: always
  type: list
  elements: str
files_written:
  description: The paths of O(files) that were (or would be) written.
  returned: always
  type: list
  elements: str
fence_changed:
  description: The sets of O(fence) that were (or would be) rewritten.
  returned: always
  type: list
  elements: str
sampler_written:
  description: Whether the sampler script was (or would be) written from O(sampler.script_content).
  returned: always
  type: bool
sampler_started:
  description: Whether the sampler was (or would be) started; false when none was asked for
    or a unit of its name was already active.
  returned: always
  type: bool
"""

RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
RUN_DIR_MODE = 0o750
SECRETS_MODE = 0o640
SECRETS_OWNER = 0  # uid that owns the secrets file
ACTIVE_STATES = ("active", "activating", "reloading")
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class PrepareError(Exception):
    """The host cannot be prepared; the message says what is wrong and what to do."""


# ---- inputs -------------------------------------------------------------------------------


def check_run_id(run_id):
    if not RUN_ID.fullmatch(run_id or ""):
        raise PrepareError(
            f"run id {run_id!r} is not usable: use letters, digits, '.', '_' and '-' (up to 100, "
            "starting with a letter or digit)"
        )


def check_secrets(secrets):
    """The secrets as sorted (name, text) pairs; PrepareError names (never shows) a bad one."""
    try:
        return secret_pairs(secrets)
    except SecretError as err:
        raise PrepareError(str(err)) from None


def set_owner(fd, uid, gid):
    os.fchown(fd, uid, gid)


def secrets_file(path, run_id, pairs, gid, check_mode=False):
    """(content changed, anything changed) after making path hold the pairs."""
    data = env_file_text(run_id, pairs).encode("utf-8")
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise PrepareError(f"the folder of {path} does not exist; run site.yml first")
    old, st = read_regular_file(path)
    content_changed = old != data
    attributes_ok = (
        st is not None
        and st.st_uid == SECRETS_OWNER
        and st.st_gid == gid
        and stat.S_IMODE(st.st_mode) == SECRETS_MODE
    )
    if not content_changed and attributes_ok:
        return False, False
    if not check_mode:
        write_atomically(path, data, SECRETS_OWNER, gid, SECRETS_MODE, chown=set_owner)
    return content_changed, True


# ---- the run's folder ---------------------------------------------------------------------


def ensure_run_dir(run_dir, uid, gid, check_mode=False):
    """(created, anything changed) after making run_dir a uid:gid 0750 folder.

    Its parent (locust_data_dir/runs) belongs to the locust user, as may the folders above:
    the parent is opened without following a link another user could have placed on the
    way, and the run's folder is made and opened relative to it, never through a link."""
    parent, name = os.path.split(run_dir.rstrip("/"))
    try:
        parent_fd = open_folder(parent or "/")
    except FileNotFoundError:
        raise PrepareError(
            f"the parent of the run's folder, {parent}, does not exist; run site.yml first"
        ) from None
    except UnsafeFileError as err:
        raise PrepareError(f"{err}; refusing to make the run's folder there") from None
    try:
        return _ensure_in(parent_fd, name, run_dir, uid, gid, check_mode)
    finally:
        os.close(parent_fd)


def _ensure_in(parent_fd, name, run_dir, uid, gid, check_mode):
    try:
        st = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
    except FileNotFoundError:
        st = None
    if st is not None and stat.S_ISLNK(st.st_mode):
        raise PrepareError(
            f"{run_dir} is a link; refusing to use it as the run's folder. Remove it and retry"
        )
    if st is not None and not stat.S_ISDIR(st.st_mode):
        raise PrepareError(
            f"{run_dir} exists and is not a folder; refusing to use it as the run's folder. "
            "Remove it and retry"
        )
    created = st is None
    if created:
        if check_mode:
            return True, True
        os.mkdir(name, 0o700, dir_fd=parent_fd)
    elif (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (uid, gid, RUN_DIR_MODE):
        return False, False
    elif check_mode:
        return False, True
    try:
        fd = os.open(name, DIR_FLAGS, dir_fd=parent_fd)
    except OSError as err:
        raise PrepareError(
            f"{run_dir} cannot be opened as a folder ({err.strerror or err}); "
            "refusing to use it as the run's folder"
        ) from None
    try:
        st = os.fstat(fd)
        if (st.st_uid, st.st_gid) != (uid, gid):
            set_owner(fd, uid, gid)
        if stat.S_IMODE(st.st_mode) != RUN_DIR_MODE:
            os.fchmod(fd, RUN_DIR_MODE)  # whatever the umask; never through a link
    finally:
        os.close(fd)
    return created, True


# ---- units ---------------------------------------------------------------------------------


def run(argv, timeout=120):
    """(return code, stdout, stderr) of a command; return code None when it cannot be run."""
    try:
        proc = subprocess.run(
            argv,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as err:
        return None, "", str(err)
    return proc.returncode, proc.stdout, proc.stderr


def _failed_for_resources(units):
    """The units whose last start failed before their command ran (result 'resources')."""
    found = []
    for unit in units:
        _, out, _ = run(["systemctl", "show", "--property=Result", "--value", unit], timeout=60)
        if out.strip() == "resources":
            found.append(unit)
    return found


def restart_units(units, check_mode=False, sleep=time.sleep):
    """The units restarted, in the order given.

    A unit whose start failed before its command ran (systemd's result 'resources': it
    could not spawn the unit's process, as systemd 257 does now and then on a cgroup v1
    host when a unit is restarted while its old cgroup is still being released) is
    restarted once more a second later; any other failure, or a second one, is an error."""
    units = list(units or [])
    if not units or check_mode:
        return units
    # A worker that systemd gave up on (its start limit) would refuse the restart, and
    # back-to-back runs must never reach the limit: each run starts with the count at 0.
    run(["systemctl", "reset-failed", *units])
    argv = ["systemctl", "restart", *units]
    code, _, err = run(argv)
    again = _failed_for_resources(units) if code != 0 else []
    if again:
        sleep(1)
        run(["systemctl", "reset-failed", *again])
        argv = ["systemctl", "restart", *again]
        code, _, err = run(argv)
    if code != 0:
        raise PrepareError(f"{' '.join(argv)} failed (exit {code}): {err.strip() or 'no message'}")
    return units


def _normal(element):
    """An element as nft lists it: a single address without its /32 or /128."""
    text = str(element).strip()
    for whole in ("/32", "/128"):
        if text.endswith(whole):
            return text[: -len(whole)]
    return text


def live_sets(table):
    """Set name -> its elements (as text, sorted) of the live inet table."""
    code, out, err = run(["nft", "-j", "list", "table", "inet", table])
    if code != 0:
        raise PrepareError(
            f"the port filter (table inet {table}) is not loaded: {err.strip() or 'no message'}; "
            "run playbooks/site.yml"
        )
    found = {}
    for item in json.loads(out).get("nftables", []):
        entry = item.get("set") if isinstance(item, dict) else None
        if entry:
            elements = []
            for elem in entry.get("elem") or []:
                if isinstance(elem, dict) and "prefix" in elem:
                    elem = f"{elem['prefix']['addr']}/{elem['prefix']['len']}"
                elif isinstance(elem, dict) and "range" in elem:
                    elem = f"{elem['range'][0]}-{elem['range'][1]}"
                elements.append(str(elem))
            found[entry["name"]] = sorted(elements)
    return found


def align_fence(fence, check_mode=False):
    """The sets of the live table rewritten to hold exactly ``fence['sets']``."""
    if not fence:
        return []
    table = fence["table"]
    live = live_sets(table)
    script, changed = [], []
    for name, wanted in sorted((fence.get("sets") or {}).items()):
        elements = sorted({_normal(e) for e in wanted or []})
        if name not in live:
            if elements:
                raise PrepareError(
                    f"the port filter (table inet {table}) has no set {name} for "
                    f"{', '.join(elements)}; run playbooks/site.yml to rewrite it"
                )
            continue
        if live[name] == elements:
            continue
        changed.append(name)
        script.append(f"flush set inet {table} {name}")
        if elements:
            script.append(f"add element inet {table} {name} {{ {', '.join(elements)} }}")
    if script and not check_mode:
        code, _, err = run_input(["nft", "-f", "-"], "\n".join(script) + "\n")
        if code != 0:
            raise PrepareError(
                f"could not update the port filter (table inet {table}): "
                f"{err.strip() or 'no message'}"
            )
    return changed


def run_input(argv, text, timeout=60):
    """(return code, stdout, stderr) of a command reading ``text`` on its input."""
    try:
        proc = subprocess.run(
            argv, input=text, capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.SubprocessError) as err:
        return None, "", str(err)
    return proc.returncode, proc.stdout, proc.stderr


def running_since(units):
    """{unit: wall-clock seconds its main process started} of the units running now (one
    systemctl show for all)."""
    if not units:
        return {}
    argv = [
        "systemctl",
        "show",
        "-p",
        "Id",
        "-p",
        "SubState",
        "-p",
        "ExecMainStartTimestampMonotonic",
    ]
    code, out, _ = run([*argv, *units], timeout=60)
    now_wall, now_mono = time.time(), time.monotonic()
    since = {}
    for block in out.split("\n\n") if code == 0 else []:
        values = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        try:
            started = int(values.get("ExecMainStartTimestampMonotonic") or 0) / 1e6
        except ValueError:
            continue
        if values.get("SubState") == "running" and started > 0:
            since[values.get("Id")] = now_wall - (now_mono - started)
    return since


def keepable(units, pairs, secrets_path):
    """The units that may keep their process: the run has no secrets, and each process
    started after the secrets' folder last changed with no secrets file in it (it read
    none, and no earlier run's secrets linger in its environment)."""
    if not units or pairs:
        return []
    folder = os.path.dirname(secrets_path) or "."
    try:
        os.lstat(secrets_path)
        return []
    except FileNotFoundError:
        pass
    changed = os.stat(folder).st_mtime
    since = running_since(units)
    return [unit for unit in units if since.get(unit, 0) > changed]


def unit_active(unit):
    _, out, _ = run(["systemctl", "is-active", unit], timeout=60)
    return out.strip() in ACTIVE_STATES


def _number(value):
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def sampler_argv(sampler):
    return [
        "systemd-run",
        f"--unit={sampler['unit']}",
        "--collect",
        f"--property=RuntimeMaxSec={int(sampler['runtime_max_sec'])}",
        sampler.get("python") or "/usr/bin/python3",
        sampler["script"],
        f"--out={sampler['out']}",
        f"--host={sampler['host']}",
        f"--interval={_number(sampler['interval'])}",
        f"--duration={int(sampler['duration'])}",
    ] + ([f"--limits-out={sampler['limits_out']}"] if sampler.get("limits_out") else [])


def fleet_file(path, content, mode, check_mode=False):
    """Whether a root-owned file of the fleet's was (or would be) written with ``content``."""
    data = content.encode()
    held, st = read_regular_file(path)
    if held == data and st.st_uid == 0 and stat.S_IMODE(st.st_mode) == mode:
        return False
    if not check_mode:
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        write_atomically(path, data, 0, 0, mode, chown=set_owner)
    return True


def sampler_script(sampler, check_mode=False):
    """Whether the sampler script was (or would be) written from its given content."""
    content = (sampler or {}).get("script_content")
    if content is None:
        return False
    return fleet_file(sampler["script"], content, 0o755, check_mode)


def start_sampler(sampler, check_mode=False):
    """Whether the sampler was started (false when none is asked for or it is active)."""
    if not sampler:
        return False
    if unit_active(sampler["unit"]):
        return False
    if check_mode:
        return True
    argv = sampler_argv(sampler)
    code, _, err = run(argv)
    if code != 0:
        raise PrepareError(
            f"starting the CPU sampler {sampler['unit']} failed (exit {code}): "
            f"{err.strip() or 'no message'}"
        )
    return True


# ---- all of it -----------------------------------------------------------------------------


def ids(owner, group):
    """(uid, gid) of the run folder's owner and group."""
    try:
        uid = pwd.getpwnam(owner).pw_uid
    except KeyError:
        raise PrepareError(f"there is no user {owner!r} on this host; run site.yml first") from None
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        raise PrepareError(
            f"there is no group {group!r} on this host; run site.yml first"
        ) from None
    return uid, gid


def prepare(params, check_mode=False, result=None):
    """Do the four steps; ``result`` (when given) is filled in as they are done, so that a
    failure can report what was done before it."""
    result = {} if result is None else result
    result.update(
        changed=False,
        run_dir_created=False,
        secrets_changed=False,
        restarted=[],
        kept=[],
        sampler_started=False,
        sampler_written=False,
        files_written=[],
        fence_changed=[],
    )
    check_run_id(params["run_id"])
    pairs = check_secrets(params.get("secrets"))
    uid, gid = ids(params["owner"], params["group"])

    created, changed = ensure_run_dir(params["run_dir"], uid, gid, check_mode)
    result["run_dir_created"] = created
    result["changed"] |= changed

    # Decided before the secrets file is written: a process reads it when it starts.
    units = list(params.get("restart_units") or [])
    keep = [unit for unit in params.get("keep_units") or [] if unit in units]
    result["kept"] = keepable(keep, pairs, params["secrets_path"])

    content_changed, changed = secrets_file(
        params["secrets_path"], params["run_id"], pairs, gid, check_mode
    )
    result["secrets_changed"] = content_changed
    result["changed"] |= changed

    units = [unit for unit in units if unit not in result["kept"]]
    result["restarted"] = restart_units(units, check_mode)
    result["changed"] |= bool(result["restarted"])

    result["fence_changed"] = align_fence(params.get("fence"), check_mode)
    result["changed"] |= bool(result["fence_changed"])

    result["files_written"] = [
        item["path"]
        for item in params.get("files") or []
        if fleet_file(item["path"], item["content"], 0o644, check_mode)
    ]
    result["changed"] |= bool(result["files_written"])

    result["sampler_written"] = sampler_script(params.get("sampler"), check_mode)
    result["changed"] |= result["sampler_written"]
    result["sampler_started"] = start_sampler(params.get("sampler"), check_mode)
    result["changed"] |= result["sampler_started"]
    return result


def main():
    module = AnsibleModule(
        argument_spec={
            "run_id": {"type": "str", "required": True},
            "run_dir": {"type": "path", "required": True},
            "owner": {"type": "str", "default": "locust"},
            "group": {"type": "str", "default": "locust"},
            "secrets": {"type": "dict", "default": {}, "no_log": True},
            "secrets_path": {"type": "path", "default": "/etc/locust/secrets.env"},
            "restart_units": {"type": "list", "elements": "str", "default": []},
            "keep_units": {"type": "list", "elements": "str", "default": []},
            "fence": {
                "type": "dict",
                "options": {
                    "table": {"type": "str", "required": True},
                    "sets": {"type": "dict", "required": True},
                },
            },
            "files": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "path": {"type": "path", "required": True},
                    "content": {"type": "str", "required": True},
                },
            },
            "sampler": {
                "type": "dict",
                "options": {
                    "unit": {"type": "str", "required": True},
                    "script": {"type": "path", "required": True},
                    "script_content": {"type": "str"},
                    "out": {"type": "path", "required": True},
                    "host": {"type": "str", "required": True},
                    "interval": {"type": "float", "required": True},
                    "duration": {"type": "int", "required": True},
                    "runtime_max_sec": {"type": "int", "required": True},
                    "limits_out": {"type": "path"},
                    "python": {"type": "path", "default": "/usr/bin/python3"},
                },
            },
        },
        supports_check_mode=True,
    )
    result = {}
    try:
        prepare(module.params, check_mode=module.check_mode, result=result)
    except (PrepareError, UnsafeFileError, OSError) as err:
        module.fail_json(msg=str(err), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
