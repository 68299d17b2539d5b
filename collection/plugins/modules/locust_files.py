#!/usr/bin/python3
"""Install several root-managed files from their content in one round trip.

Runs on the host's system Python (3.8 or later), standard library only besides
ansible.module_utils. The work is in plain functions; main() only wires
AnsibleModule to them.
"""

from __future__ import annotations

import grp
import os
import pwd
import shlex
import stat
import subprocess

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.fleet.locust.plugins.module_utils.locust_safe_files import (
    UnsafeFileError,
    read_regular_file,
    write_atomically,
)

DOCUMENTATION = r"""
module: locust_files
short_description: Install files from their content, several in one round trip
description:
  - Makes each file of O(files) hold exactly its C(content), with its owner, group and
    mode, and reports which ones changed. A file that already matches is not touched.
  - One call replaces a M(ansible.builtin.template) or M(ansible.builtin.copy) task per
    file, each of which costs two module runs on the host (C(stat), then C(file) or
    C(copy)); the roles install their units, scripts and settings files with it so a
    no-change C(site.yml) stays short. Render the content on the controller
    (C(lookup('ansible.builtin.template', ...)) or C(lookup('ansible.builtin.file', ...))).
  - The folder of each file must exist (M(fleet.locust.locust_directories) makes them).
    A new content is written to a temporary file in that folder, checked with
    C(validate) when given, and renamed over the file, so a reader never sees half a file
    and a link at the file's path is replaced, never followed.
options:
  files:
    description: >-
      The files, in order. Each has C(path) (absolute), C(content) (text), and optionally
      C(owner) and C(group) (default root), C(mode) (octal string, default C("0644")) and
      C(validate) (a command with C(%s) standing for the new file, e.g.
      C(/usr/sbin/nft -c -f %s); the file is not installed when it fails).
    type: list
    elements: dict
    required: true
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: One diff per changed file (text up to 256 KiB).
author: locust-fleet
"""

EXAMPLES = r"""
- name: Install the master unit and its end-of-run hook
  fleet.locust.locust_files:
    files:
      - path: /etc/systemd/system/locust-master.service
        content: "{{ lookup('ansible.builtin.template', 'locust-master.service.j2') }}"
      - path: /opt/locust/bin/locust-run-ended.py
        content: "{{ lookup('ansible.builtin.file', 'locust-run-ended.py', rstrip=false) }}"
        mode: "0755"
  register: __locust_master_files
"""

RETURN = r"""
changed_paths:
  description: The files written or whose owner or mode was set (in check mode, those that
    would be), in the order given.
  returned: always
  type: list
  elements: str
"""

MAX_DIFF_BYTES = 256 * 1024


class Refused(Exception):
    """A bad entry, or a file that cannot be installed; the message says which and why."""


def wanted(entry):
    """(path, bytes, uid, gid, mode, validate) of one entry, checked."""
    path = entry.get("path")
    if not isinstance(path, str) or not os.path.isabs(path) or path.endswith("/"):
        raise Refused(f"{path!r}: give the absolute path of a file")
    content = entry.get("content")
    if not isinstance(content, str):
        raise Refused(f"{path}: content must be text")
    try:
        uid = pwd.getpwnam(entry.get("owner") or "root").pw_uid
        gid = grp.getgrnam(entry.get("group") or "root").gr_gid
    except KeyError:
        raise Refused(
            f"{path}: there is no user {entry.get('owner')!r} or group {entry.get('group')!r}"
        ) from None
    try:
        mode = int(str(entry.get("mode") or "0644"), 8)
    except ValueError:
        raise Refused(
            f'{path}: mode {entry.get("mode")!r} is not an octal string such as "0644"'
        ) from None
    validate = entry.get("validate") or None
    if validate is not None and "%s" not in validate:
        raise Refused(f"{path}: validate needs %s where the new file goes: {validate!r}")
    return path, content.encode("utf-8"), uid, gid, mode, validate


def validator(command, path):
    """A check for write_atomically: runs command on the new file, refusing it on failure."""

    def check(temp_path):
        argv = [part.replace("%s", temp_path) for part in shlex.split(command)]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        except (OSError, subprocess.SubprocessError) as err:
            raise Refused(f"{path}: could not run the check {command!r}: {err}") from None
        if proc.returncode != 0:
            said = (proc.stderr or proc.stdout).strip() or f"exit {proc.returncode}"
            raise Refused(f"{path}: the new content fails {command!r}: {said}; not installed")

    return check


def install(entry, check_mode=False):
    """(changed, diff or None) for one entry."""
    path, data, uid, gid, mode, validate = wanted(entry)
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise Refused(f"{path}: its folder {folder} does not exist; create it first")
    before, st = read_regular_file(path)
    if before != data:
        diff = {"before_header": path, "after_header": path}
        if max(len(before or b""), len(data)) <= MAX_DIFF_BYTES:
            diff["before"] = (before or b"").decode("utf-8", "replace")
            diff["after"] = data.decode("utf-8", "replace")
        if not check_mode:
            check = validator(validate, path) if validate else None
            write_atomically(path, data, uid, gid, mode, check=check)
        return True, diff
    if (st.st_uid, st.st_gid) == (uid, gid) and stat.S_IMODE(st.st_mode) == mode:
        return False, None
    if not check_mode:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            os.fchown(fd, uid, gid)
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
    return True, None


def install_all(files, changed_paths, diffs, check_mode=False):
    """Fill changed_paths and diffs; stops at the first file that cannot be installed."""
    for entry in files:
        changed, diff = install(entry, check_mode)
        if changed:
            changed_paths.append(entry["path"])
        if diff is not None:
            diffs.append(diff)


def main():
    module = AnsibleModule(
        argument_spec={"files": {"type": "list", "elements": "dict", "required": True}},
        supports_check_mode=True,
    )
    changed_paths, diffs = [], []
    try:
        install_all(module.params["files"], changed_paths, diffs, module.check_mode)
    except (Refused, UnsafeFileError) as err:
        module.fail_json(msg=str(err), changed_paths=changed_paths)
    except OSError as err:
        module.fail_json(
            msg="{}: {}".format(err.filename or "file", err.strerror), changed_paths=changed_paths
        )
    result = {"changed": bool(changed_paths), "changed_paths": changed_paths}
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
