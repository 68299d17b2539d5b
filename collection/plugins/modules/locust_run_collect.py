#!/usr/bin/python3
"""Gather one host's share of a run into one in-memory archive for the controller.

Runs as root on the host's system Python (3.8 or later), standard library only
besides ansible.module_utils. The run folder belongs to the unprivileged locust
user, so no link is ever followed in it and only regular files are read. The
work is in plain functions; main() only wires AnsibleModule to them.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import hashlib
import io
import os
import stat
import subprocess
import tarfile
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.fleet.locust.plugins.module_utils.locust_safe_files import (
    UnsafeFileError,
    kind,
    open_folder,
)

DOCUMENTATION = r"""
module: locust_run_collect
short_description: Pack one host's share of a Locust run into an archive returned in the result
description:
  - Stops the run's CPU sampler unit, reads the journal of C(locust-master.service) and
    C(locust-worker@*.service) since O(since), and builds a tar.gz in memory (nothing is
    written on the host) that unpacks straight into the controller's results/<run id>/ -
    the run folder's regular files at the top level, C(cpu-*.csv) under C(cpu/),
    C(limits-*.csv) under C(limits/),
    C(journals/<host>.log), and C(state.json) when O(state_file) is given.
  - The run folder belongs to the unprivileged C(locust) user and this module runs as root,
    so it never follows a link there - the folder is opened without following links (and a
    link on the way to it is followed only in a folder that only root can change), and each
    entry is opened relative to it without following links and taken only when it is a
    regular file with a single link. Links, fifos, devices, sub-folders and C(journal-*)
    files are skipped and reported in RV(skipped).
  - A run folder that does not exist yields an archive of the journal (and state) only; so
    does a run folder that is a link (or not a folder), which is reported in RV(skipped).
  - Archive members are regular files, mode 0644, owned by uid/gid 0.
  - In check mode the sampler is not stopped; the archive is built all the same.
options:
  run_dir:
    description: The run's folder on the host (C(/var/lib/locust/runs/<run id>)).
    type: path
    required: true
  host:
    description: The host's inventory name; names the journal (and CPU samples) in the archive.
    type: str
    required: true
  since:
    description: Epoch seconds (host clock) from which the units' journal is read.
    type: float
    required: true
  sampler_unit:
    description: The run's CPU sampler unit, stopped first (C(.service) is added when missing).
    type: str
    required: true
  state_file:
    description: A root-owned file (the run's state on the master) added as C(state.json).
    type: path
  max_bytes:
    description: The largest archive allowed; a larger one fails the task.
    type: int
    default: 209715200
  secrets_file:
    description:
      - The run's secrets file (C(/etc/locust/secrets.env)), removed once the archive is built -
        the run that needed its values is over. A link there is removed, never followed.
      - Not removed in check mode.
    type: path
attributes:
  check_mode:
    support: full
author: locust-fleet
"""

EXAMPLES = r"""
- name: Pack the run's files, CPU samples and journal
  fleet.locust.locust_run_collect:
    run_dir: /var/lib/locust/runs/20261201T101010Z-abc123
    host: "{{ inventory_hostname }}"
    since: 1764583810
    sampler_unit: locust-cpu-sampler-20261201T101010Z-abc123
    state_file: /var/lib/locust/state/20261201T101010Z-abc123.json
  register: __locust_run_archive
"""

RETURN = r"""
secrets_removed:
  description: Whether O(secrets_file) was there and is now removed.
  returned: success
  type: bool
archive_base64:
  description: The tar.gz, base64-encoded.
  returned: success
  type: str
size:
  description: The archive's size in bytes (before base64).
  returned: success
  type: int
sha256:
  description: The sha256 of the archive's bytes.
  returned: success
  type: str
members:
  description: The archive's member names, in order.
  returned: success
  type: list
  elements: str
  sample: [journals/w1.log, cpu/cpu-w1.csv]
skipped:
  description: Entries refused, each with its name and the reason.
  returned: success
  type: list
  elements: dict
  sample: [{name: passwd, reason: a symbolic link}]
"""

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
STATE_OWNER = 0  # uid that must own state_file
JOURNAL_UNITS = ("locust-master.service", "locust-worker@*.service")
CHUNK = 1 << 16


class CollectError(Exception):
    """The run cannot be collected safely; the message says why."""


class TooBig(CollectError):
    """The archive grew past max_bytes."""


def open_regular(dir_fd, name):
    """(fd, stat) of the regular, singly linked file ``name``, or (None, why not)."""
    try:
        lst = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None, "missing"
    if not stat.S_ISREG(lst.st_mode):
        return None, kind(lst.st_mode)
    try:
        fd = os.open(name, FILE_FLAGS, dir_fd=dir_fd)
    except OSError as err:
        if err.errno == errno.ELOOP:
            return None, "a symbolic link"
        return None, f"cannot be opened: {err.strerror or err}"
    st = os.fstat(fd)
    why = None
    if not stat.S_ISREG(st.st_mode):
        why = kind(st.st_mode)
    elif st.st_nlink != 1:
        why = f"a regular file with {st.st_nlink} hard links"
    if why:
        os.close(fd)
        return None, why
    return fd, st


class _Exactly:
    """Reads exactly ``size`` bytes of a file (zero-padded if it shrank) for tarfile,
    and stops the archive as soon as it grows past its limit."""

    def __init__(self, fd, size, out, limit):
        self.fd, self.left, self.out, self.limit = fd, size, out, limit

    def read(self, wanted=-1):
        if self.out.tell() > self.limit:
            raise TooBig()
        wanted = self.left if wanted is None or wanted < 0 else min(wanted, self.left)
        chunks, got = [], 0
        while got < wanted:
            chunk = os.read(self.fd, min(CHUNK, wanted - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        data = b"".join(chunks) + b"\0" * (wanted - got)
        self.left -= wanted
        return data


def _member(name, size, mtime):
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(mtime)
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.type = tarfile.REGTYPE
    return info


class Archive:
    """A tar.gz built in memory, refusing to grow past ``limit`` bytes."""

    def __init__(self, limit):
        self.limit = limit
        self.buffer = io.BytesIO()
        # Closed by close(); the archive outlives any one method.
        self.tar = tarfile.open(  # noqa: SIM115
            fileobj=self.buffer, mode="w:gz", format=tarfile.PAX_FORMAT
        )
        self.members = []

    def add_bytes(self, name, data, mtime):
        self._add(_member(name, len(data), mtime), io.BytesIO(data))

    def add_fd(self, name, fd, st):
        self._add(
            _member(name, st.st_size, st.st_mtime),
            _Exactly(fd, st.st_size, self.buffer, self.limit),
        )

    def _add(self, info, source):
        self.tar.addfile(info, source)
        self.members.append(info.name)
        if self.buffer.tell() > self.limit:
            raise TooBig()

    def close(self):
        self.tar.close()
        data = self.buffer.getvalue()
        if len(data) > self.limit:
            raise TooBig()
        return data


def unit_name(unit):
    return unit if unit.endswith(".service") else unit + ".service"


def stop_unit(unit):
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(
            ["systemctl", "stop", unit_name(unit)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
            timeout=120,
        )


def read_journal(since):
    """The Locust units' journal since ``since`` (epoch seconds), as bytes."""
    argv = ["journalctl", "--no-pager", "--output=short-iso", f"--since=@{int(since)}"]
    argv += [f"--unit={unit}" for unit in JOURNAL_UNITS]
    try:
        out = subprocess.run(
            argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False, timeout=300
        ).stdout
    except (OSError, subprocess.SubprocessError):
        out = b""
    return out + b"\n"


def check_host(host):
    if host in ("", ".", "..") or "/" in host or "\0" in host:
        raise CollectError(f"host {host!r} cannot name a file in the archive")


def add_run_files(archive, run_dir, skipped):
    """Add the run folder's regular files; a missing folder adds nothing, and an unsafe one
    (a link, something else than a folder) nothing but its entry in ``skipped``."""
    try:
        dir_fd = open_folder(run_dir)
    except FileNotFoundError:
        return
    except UnsafeFileError as err:
        skipped.append({"name": run_dir, "reason": f"{err}; nothing in it was taken"})
        return
    try:
        for name in sorted(os.listdir(dir_fd)):
            shown = name.encode("utf-8", "backslashreplace").decode("utf-8")
            if shown != name:
                skipped.append({"name": shown, "reason": "its name is not UTF-8"})
                continue
            if name.startswith("journal-"):
                skipped.append({"name": name, "reason": "a journal-* file (the journal is read)"})
                continue
            fd, st = open_regular(dir_fd, name)
            if fd is None:
                skipped.append({"name": name, "reason": st})
                continue
            try:
                folder = next((f for f in ("cpu", "limits") if name.startswith(f + "-")), "")
                archive.add_fd(f"{folder}/{name}" if folder else name, fd, st)
            finally:
                os.close(fd)
    finally:
        os.close(dir_fd)


def add_state(archive, state_file, skipped):
    folder, name = os.path.split(state_file)
    try:
        dir_fd = open_folder(folder or "/")
    except UnsafeFileError as err:
        raise CollectError(str(err)) from None
    except FileNotFoundError:
        skipped.append({"name": "state.json", "reason": f"{state_file}: missing"})
        return
    try:
        fd, st = open_regular(dir_fd, name)
    finally:
        os.close(dir_fd)
    if fd is None:
        skipped.append({"name": "state.json", "reason": f"{state_file}: {st}"})
        return
    try:
        if st.st_uid != STATE_OWNER:
            why = f"{state_file}: owned by uid {st.st_uid}, not root"
            skipped.append({"name": "state.json", "reason": why})
            return
        archive.add_fd("state.json", fd, st)
    finally:
        os.close(fd)


def collect(run_dir, host, journal, state_file=None, max_bytes=200 << 20):
    """The archive's bytes, its members and what was skipped."""
    check_host(host)
    archive = Archive(max_bytes)
    skipped = []
    try:
        archive.add_bytes(f"journals/{host}.log", journal, time.time())
        add_run_files(archive, run_dir, skipped)
        if state_file:
            add_state(archive, state_file, skipped)
        data = archive.close()
    except TooBig:
        raise TooBig(
            f"host {host}: the archive of {run_dir} is over max_bytes ({max_bytes} bytes) at "
            f"{archive.buffer.tell()} bytes already; remove what does not belong in the run "
            "folder or raise max_bytes"
        ) from None
    except CollectError as err:
        raise CollectError(f"host {host}: {err}; nothing was collected") from None
    return data, archive.members, skipped


def result(data, members, skipped):
    return {
        "archive_base64": base64.b64encode(data).decode("ascii"),
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "members": members,
        "skipped": skipped,
    }


def main():
    module = AnsibleModule(
        argument_spec={
            "run_dir": {"type": "path", "required": True},
            "host": {"type": "str", "required": True},
            "since": {"type": "float", "required": True},
            "sampler_unit": {"type": "str", "required": True},
            "state_file": {"type": "path"},
            "max_bytes": {"type": "int", "default": 200 << 20},
            "secrets_file": {"type": "path"},
        },
        supports_check_mode=True,
    )
    params = module.params
    if not module.check_mode:
        stop_unit(params["sampler_unit"])
    journal = read_journal(params["since"])
    try:
        data, members, skipped = collect(
            params["run_dir"], params["host"], journal, params["state_file"], params["max_bytes"]
        )
    except CollectError as err:
        module.fail_json(msg=str(err))
    except OSError as err:
        module.fail_json(
            msg="host {}: cannot read {}: {}".format(params["host"], params["run_dir"], err)
        )
    removed = False
    if params["secrets_file"] and not module.check_mode:
        removed = remove_secrets(params["secrets_file"])
    module.exit_json(changed=removed, secrets_removed=removed, **result(data, members, skipped))


def remove_secrets(path):
    """Remove the file (unlink never follows a link); whether there was one."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


if __name__ == "__main__":
    main()
