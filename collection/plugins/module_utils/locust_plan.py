"""A plan as the controller sees it: its name on the hosts and its files with their sha256.

One reader for the two places that need it: the locust_testplan role (through the
locust_plan_read action) and the run's controller preflight (locust_run_preflight).
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import stat

# locust_testplan's default for locust_testplan_exclude (find patterns on names).
DEFAULT_EXCLUDE = ["__pycache__", "*.pyc", ".*"]
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# Folders never shipped, whatever the excludes: hidden ones and byte-code caches.
_SKIPPED_DIRS = re.compile(r"^(\..*|__pycache__)$")
# A plan is test code and its data, shipped file by file with a sha256 each: beyond
# these it is almost surely a virtualenv or node_modules/ left in the folder.
MAX_FILES = 2000
MAX_BYTES = 200 * 1024 * 1024


class PlanError(ValueError):
    """The plan cannot be used; the message names the problem and the fix."""


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def derived_name(src: str, is_file: bool) -> str:
    """The plan's name on the hosts when none is given (plans/<name>/)."""
    base = os.path.basename(src)
    if base == "locustfile.py":
        return os.path.basename(os.path.dirname(src))
    return os.path.splitext(base)[0] if is_file else base


def _refuse_heavy(root: str, folder: str) -> None:
    rel = os.path.relpath(folder, root)
    if os.path.basename(folder) == "node_modules" or os.path.isfile(
        os.path.join(folder, "pyvenv.cfg")
    ):
        raise PlanError(
            f"the plan holds {rel}/, a virtualenv or node_modules folder: it is not part of "
            "the test and would be shipped file by file. Move it out of the plan folder, or "
            "exclude it with locust_testplan_exclude; the plan's Python packages go in its "
            "requirements.txt"
        )


def _files(root: str, exclude: list[str]) -> list[str]:
    """Regular files under root (relative, sorted), as ansible.builtin.find lists them.
    Exclude patterns match file and folder names. A link or any other non-regular file is
    refused, not left out in silence; so is a plan beyond MAX_FILES or MAX_BYTES."""
    found, size = [], 0
    for folder, dirs, names in os.walk(root):
        _refuse_heavy(root, folder)
        kept = []
        for name in sorted(dirs):
            if _SKIPPED_DIRS.match(name) or any(fnmatch.fnmatch(name, p) for p in exclude):
                continue
            if os.path.islink(os.path.join(folder, name)):
                names.append(name)  # refused below with the files' links
                continue
            kept.append(name)
        dirs[:] = kept
        for name in names:
            if any(fnmatch.fnmatch(name, pattern) for pattern in exclude):
                continue
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                raise PlanError(
                    f"the plan's {rel} is a symbolic link (to {os.readlink(path)}): links are "
                    "not shipped. Copy the file into the plan, or exclude it with "
                    "locust_testplan_exclude"
                )
            if not stat.S_ISREG(info.st_mode):
                raise PlanError(
                    f"the plan's {rel} is not a regular file; remove it from the plan folder "
                    "or exclude it with locust_testplan_exclude"
                )
            found.append(rel)
            size += info.st_size
            if len(found) > MAX_FILES or size > MAX_BYTES:
                raise PlanError(
                    f"the plan holds more than {MAX_FILES} files or {MAX_BYTES >> 20} MB "
                    f"(at {rel}): a plan is test code and its data. Exclude what the test does "
                    "not need with locust_testplan_exclude, or move it out of the plan folder"
                )
    return sorted(found)


def read_plan(
    src: str, name: str = "", exclude: list[str] | None = None, check_name: bool = True
) -> dict:
    """name, is_file, src (absolute), parallel lists rels / srcs / sums sorted by path, and
    manifest_sha256 (the sha256 of the manifest file the hosts keep).

    check_name is off only for the built-in idle plan, whose name (_idle) no user plan can take.
    """
    given = src
    src = os.path.realpath(os.path.expanduser(src))
    if not os.path.exists(src) or not (os.path.isdir(src) or os.path.isfile(src)):
        raise PlanError(
            f"the plan {given!r} is not a folder or a file on the controller "
            f"(a relative path counts from {os.getcwd()}); give the plan folder or its locustfile"
        )
    is_file = os.path.isfile(src)
    patterns = DEFAULT_EXCLUDE if exclude is None else list(exclude)
    rels = ["locustfile.py"] if is_file else _files(src, patterns)
    srcs = [src] if is_file else [os.path.join(src, rel) for rel in rels]
    plan_name = name or derived_name(src, is_file)
    if "locustfile.py" not in rels:
        raise PlanError(
            f"the plan {given!r} has no locustfile.py at its top level; add one, "
            "or give the locustfile itself"
        )
    if check_name and (not NAME_PATTERN.match(plan_name) or plan_name == "current"):
        raise PlanError(
            f"the plan {given!r}: its name {plan_name!r} is not usable (letters, digits, "
            "'.', '_', '-'; not 'current'); set locust_testplan_name"
        )
    sums = [_sha256(path) for path in srcs]
    # The manifest as locust_testplan writes it on each host (plans/<name>.sha256).
    manifest = "".join(f"{digest}  {rel}\n" for rel, digest in zip(rels, sums, strict=True))
    return {
        "name": plan_name,
        "is_file": is_file,
        "src": src,
        "locustfile": srcs[0] if is_file else os.path.join(src, "locustfile.py"),
        "rels": rels,
        "srcs": srcs,
        "sums": sums,
        "manifest_sha256": hashlib.sha256(manifest.encode()).hexdigest(),
    }
