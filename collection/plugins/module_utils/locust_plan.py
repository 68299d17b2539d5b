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


def _files(root: str, exclude: list[str]) -> list[str]:
    """Regular files under root (relative, sorted), as ansible.builtin.find lists them."""
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not _SKIPPED_DIRS.match(d))
        for name in names:
            if any(fnmatch.fnmatch(name, pattern) for pattern in exclude):
                continue
            path = os.path.join(folder, name)
            if stat.S_ISREG(os.lstat(path).st_mode):
                found.append(os.path.relpath(path, root))
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
