#!/usr/bin/env python3
"""Build one controller wheelhouse (Locust, prometheus-client and their dependencies for one
Python version and architecture) and pack it into one archive, under an exclusive lock.

Two playbooks on one controller (two engineers, or Molecule beside the tests) may build
the same wheelhouse at once: the lock makes the second wait and then find it done, and
the archive appears by rename, so nobody ever pushes a half-written one.

Prints "built" when it downloaded, "cached" when the wheelhouse was already complete.
Standard library only: it runs on the controller's Python.
"""

import argparse
import fcntl
import os
import subprocess
import sys
import tarfile
from pathlib import Path

COMPLETE = ".complete"


def pip_download(folder: Path, tag: str, requirements: list[str], platforms: list[str]) -> int:
    python_version, arch = tag.split()
    abi = "cp" + python_version.replace(".", "")
    command = [
        sys.executable, "-m", "pip", "download", "--disable-pip-version-check",
        "--no-input", "--only-binary=:all:", "--implementation", "cp",
        "--python-version", python_version, "--abi", abi, "--abi", "abi3", "--abi", "none",
        "--dest", str(folder),
        *(f"--platform={p.replace('{arch}', arch)}" for p in platforms),
        *requirements,
    ]  # fmt: skip
    return subprocess.run(command, check=False).returncode


def pack(folder: Path, archive: Path) -> None:
    """Every wheel of ``folder`` into ``archive``, which appears whole or not at all."""
    partial = archive.with_name(f"{archive.name}.{os.getpid()}.partial")
    with tarfile.open(partial, "w") as tar:
        for wheel in sorted(folder.glob("*.whl")):
            tar.add(wheel, arcname=wheel.name)
    os.replace(partial, archive)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", required=True, type=Path, help="the version's wheelhouse root")
    parser.add_argument("--tag", required=True, help='"X.Y arch", e.g. "3.11 x86_64"')
    parser.add_argument(
        "--requirement", required=True, action="append", help="e.g. locust==2.47.0 (repeatable)"
    )
    parser.add_argument("--platform", action="append", default=[], help="pip --platform tag")
    args = parser.parse_args()
    name = args.tag.replace(" ", "-")
    folder, archive = args.root / name, args.root / f"{name}.tar"
    complete = folder / COMPLETE
    args.root.mkdir(parents=True, exist_ok=True)
    with open(args.root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        wanted = "\n".join(args.requirement)
        done = complete.is_file() and complete.read_text().strip() == wanted
        if done and archive.is_file():
            print("cached")
            return 0
        returncode = pip_download(folder, args.tag, args.requirement, args.platform)
        if returncode != 0:
            print(f"pip download for {args.tag} failed (exit {returncode})", file=sys.stderr)
            return returncode
        pack(folder, archive)
        complete.write_text(wanted + "\n")
        print("built")
    return 0


if __name__ == "__main__":
    sys.exit(main())
