#!/usr/bin/python3
"""Gather one host's share of a run into a single archive for the controller.

Stops the CPU sampler, saves the Locust units' journal since the run began, and
packs the run folder so the archive unpacks straight into results/<run id>/:
    <master's files>  cpu/cpu-<host>.csv  journals/<host>.log
Prints the archive's path. Standard library only (system Python).
"""

import argparse
import os
import subprocess
import tarfile


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run-dir", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--since", required=True, help="epoch seconds")
    parser.add_argument("--sampler-unit", required=True)
    args = parser.parse_args()
    subprocess.run(
        ["systemctl", "stop", f"{args.sampler_unit}.service"], check=False, capture_output=True
    )
    journal = subprocess.run(
        [
            "journalctl",
            "--no-pager",
            "--output=short-iso",
            f"--since=@{args.since}",
            "--unit=locust-master.service",
            "--unit=locust-worker@*.service",
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    os.makedirs(args.run_dir, exist_ok=True)
    journal_path = os.path.join(args.run_dir, f"journal-{args.host}.log")
    with open(journal_path, "w") as handle:
        handle.write(journal + "\n")
    archive = os.path.join(
        os.path.dirname(args.run_dir.rstrip("/")),
        f"{os.path.basename(args.run_dir.rstrip('/'))}-{args.host}.tar.gz",
    )
    with tarfile.open(archive, "w:gz") as tar:
        for name in sorted(os.listdir(args.run_dir)):
            path = os.path.join(args.run_dir, name)
            if not os.path.isfile(path):
                continue
            if name == f"journal-{args.host}.log":
                arcname = f"journals/{args.host}.log"
            elif name.startswith("cpu-"):
                arcname = f"cpu/{name}"
            else:
                arcname = name
            tar.add(path, arcname=arcname)
    print(archive)


if __name__ == "__main__":
    main()
