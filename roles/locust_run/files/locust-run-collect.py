#!/usr/bin/python3
"""Gather one host's share of a run into a single archive for the controller.

Stops the CPU sampler, saves the Locust units' journal since the run began, and
packs the run folder so the archive unpacks straight into results/<run id>/:
    <master's files>  cpu/cpu-<host>.csv  journals/<host>.log
Prints the archive's path. The archive and the journal copy carry this process's
id: a run's own playbook and playbooks/stop.yml may collect the same run at once.
Standard library only (system Python).
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
    runs, run_id = os.path.split(args.run_dir.rstrip("/"))
    stem = os.path.join(runs, f".{run_id}-{args.host}-{os.getpid()}")
    journal_path = f"{stem}.journal.log"
    archive = f"{stem}.tar.gz"
    with open(journal_path, "w") as handle:
        handle.write(journal + "\n")
    try:
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(journal_path, arcname=f"journals/{args.host}.log")
            for name in sorted(os.listdir(args.run_dir)):
                path = os.path.join(args.run_dir, name)
                if not os.path.isfile(path) or name.startswith("journal-"):
                    continue
                tar.add(path, arcname=f"cpu/{name}" if name.startswith("cpu-") else name)
    finally:
        os.unlink(journal_path)
    print(archive)


if __name__ == "__main__":
    main()
