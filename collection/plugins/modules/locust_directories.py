#!/usr/bin/python3
"""Ensure folders exist with their owner, group and mode, never following a link that
someone other than root could have placed.

Runs on the host's system Python (3.8 or later), standard library only besides
ansible.module_utils. The work is in plain functions; main() only wires
AnsibleModule to them.
"""

from __future__ import annotations

import errno
import grp
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: locust_directories
short_description: Ensure folders exist with their owners, never following an untrusted link
description:
  - Creates each folder of O(directories) that is missing (and its missing parents, owned
    by root, mode 0755) and sets its owner, group and mode, in the order given.
  - Runs as root inside folders that another user owns (the C(locust) user owns
    C(/var/lib/locust)), so it walks every path one component at a time from C(/) with
    C(O_NOFOLLOW) and works on the folder it opened, never on a path name. A symbolic link
    on the way is followed only when root owns it and the folder holding it is writable by
    root alone (as C(/opt) -> C(/srv/opt) may be); any other link fails the task, naming it.
    The builtin M(ansible.builtin.file) would follow such a link and hand its target to
    the new owner.
options:
  directories:
    description: The folders, each with C(path) (absolute), C(owner), C(group) and C(mode)
      (octal string such as C("0750")).
    type: list
    elements: dict
    required: true
attributes:
  check_mode:
    support: full
author: locust-fleet
"""

EXAMPLES = r"""
- name: Ensure the Locust directories exist with their owners
  fleet.locust.locust_directories:
    directories:
      - {path: /opt/locust, owner: root, group: root, mode: "0755"}
      - {path: /var/lib/locust/runs, owner: locust, group: locust, mode: "0750"}
"""

RETURN = r"""
changed_paths:
  description: The folders created or changed (in check mode, those that would be).
  returned: always
  type: list
  elements: str
"""

FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
MAX_LINKS = 20


class Refused(Exception):
    """A path that cannot be worked on safely, or a bad entry."""


def _trusted_link(name, dir_fd):
    """A link is trusted when root owns it and its folder is writable by root alone."""
    link = os.lstat(name, dir_fd=dir_fd)
    parent = os.fstat(dir_fd)
    return link.st_uid == 0 and parent.st_uid == 0 and not parent.st_mode & 0o022


def open_folder(path, create, check_mode=False, _depth=0):
    """(fd, created) of the folder at absolute path, walked with O_NOFOLLOW from /.
    Missing folders are made (root, 0755) when create; in check mode a missing folder
    gives fd None."""
    if not os.path.isabs(path):
        raise Refused(f"{path}: not an absolute path")
    parts = [p for p in os.path.normpath(path).split("/") if p]
    fd = os.open("/", FLAGS)
    created = False
    walked = "/"
    try:
        for index, part in enumerate(parts):
            try:
                child = os.open(part, FLAGS, dir_fd=fd)
            except OSError as err:
                if err.errno == errno.ENOENT and create:
                    if check_mode:
                        return None, True
                    os.mkdir(part, 0o755, dir_fd=fd)
                    created = True
                    child = os.open(part, FLAGS, dir_fd=fd)
                elif err.errno in (errno.ELOOP, errno.ENOTDIR) and stat.S_ISLNK(
                    os.lstat(part, dir_fd=fd).st_mode
                ):
                    here = os.path.join(walked, part)
                    if not _trusted_link(part, fd) or _depth >= MAX_LINKS:
                        raise Refused(
                            f"{here} is a symbolic link that root does not control (it or its "
                            "folder belongs to another user); refusing to follow it. Remove "
                            "the link, or point the setting at the real folder."
                        ) from None
                    target = os.readlink(part, dir_fd=fd)
                    rest = "/".join(parts[index + 1 :])
                    resolved = os.path.join(os.path.join(walked, target), rest)
                    os.close(fd)
                    fd = -1
                    return open_folder(resolved, create, check_mode, _depth + 1)
                elif err.errno == errno.ENOTDIR:
                    here = os.path.join(walked, part)
                    raise Refused(f"{here} exists and is not a folder") from None
                else:
                    raise
            os.close(fd)
            fd = child
            walked = os.path.join(walked, part)
        result, fd = fd, -1
        return result, created
    finally:
        if fd >= 0:
            os.close(fd)


def ensure(entry, check_mode=False):
    """True when the folder was (or, in check mode, would be) created or changed."""
    path = entry.get("path")
    try:
        uid = pwd.getpwnam(entry["owner"]).pw_uid
        gid = grp.getgrnam(entry["group"]).gr_gid
        mode = int(str(entry["mode"]), 8)
    except KeyError as err:
        raise Refused(f"{path}: unknown user or group, or missing key {err}") from None
    except (TypeError, ValueError):
        raise Refused(
            '{}: mode {!r} is not an octal string such as "0750"'.format(path, entry.get("mode"))
        ) from None
    fd, created = open_folder(path, create=True, check_mode=check_mode)
    if fd is None:
        return True
    try:
        now = os.fstat(fd)
        changed = created
        if (now.st_uid, now.st_gid) != (uid, gid):
            changed = True
            if not check_mode:
                os.fchown(fd, uid, gid)
        if stat.S_IMODE(now.st_mode) != mode:
            changed = True
            if not check_mode:
                os.fchmod(fd, mode)
        return changed
    finally:
        os.close(fd)


def main():
    module = AnsibleModule(
        argument_spec={"directories": {"type": "list", "elements": "dict", "required": True}},
        supports_check_mode=True,
    )
    changed_paths = []
    try:
        for entry in module.params["directories"]:
            if ensure(entry, module.check_mode):
                changed_paths.append(entry["path"])
    except Refused as err:
        module.fail_json(msg=str(err), changed_paths=changed_paths)
    except OSError as err:
        module.fail_json(
            msg="{}: {}".format(err.filename or "folder", err.strerror), changed_paths=changed_paths
        )
    module.exit_json(changed=bool(changed_paths), changed_paths=changed_paths)


if __name__ == "__main__":
    main()
