#!/usr/bin/python3
"""Report, as JSON, what the run playbook's preflight needs to know about this host.

    {"version": "2.47.0" | null, "plan": "/opt/locust/plans/website" | null,
     "manifest_sha256": str | null, "manifest": {"locustfile.py": sha256, ...},
     "mismatches": [{"file", "recorded", "actual"}], "extra": [files not in the manifest],
     "master_active": bool, "worker_instances": ["locust-worker@1.service", ...]}

Read-only; standard library only (run by ansible.builtin.script on the system Python).
"""

import hashlib
import json
import os
import subprocess
import sys


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def version(base):
    try:
        out = subprocess.run(
            [f"{base}/venv/bin/locust", "--version"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout.split()
    except OSError:
        return None
    return out[1] if len(out) > 1 and out[0] == "locust" else None


def plan_state(base):
    current = f"{base}/plans/current"
    if not os.path.islink(current):
        return None, None, {}, [], []
    plan = os.path.realpath(current)
    manifest = plan + ".sha256"
    try:
        with open(manifest) as handle:
            lines = [line.split(None, 1) for line in handle.read().splitlines() if line.strip()]
        manifest_sha = sha256(manifest)
    except OSError:
        return (
            plan,
            None,
            {},
            [{"file": os.path.basename(manifest), "recorded": "?", "actual": "missing"}],
            [],
        )
    recorded_sums = {name.lstrip("*"): recorded for recorded, name in lines}
    mismatches = []
    for name, recorded in recorded_sums.items():
        try:
            actual = sha256(os.path.join(plan, name))
        except OSError:
            actual = "missing"
        if actual != recorded:
            mismatches.append({"file": name, "recorded": recorded, "actual": actual})
    return plan, manifest_sha, recorded_sums, mismatches, extra_files(plan, recorded_sums)


def extra_files(plan, recorded_sums):
    """Files in the plan folder that its manifest does not name (deploying removes them)."""
    extra = []
    for folder, _, names in os.walk(plan):
        for name in names:
            rel = os.path.relpath(os.path.join(folder, name), plan)
            if rel not in recorded_sums:
                extra.append(rel)
    return sorted(extra)


def main():
    base = sys.argv[1] if len(sys.argv) > 1 else "/opt/locust"
    plan, manifest_sha, recorded_sums, mismatches, extra = plan_state(base)
    wants = "/etc/systemd/system/multi-user.target.wants"
    instances = sorted(
        n
        for n in (os.listdir(wants) if os.path.isdir(wants) else [])
        if n.startswith("locust-worker@") and n != "locust-worker@.service"
    )
    active = (
        subprocess.run(
            ["systemctl", "is-active", "--quiet", "locust-master.service"], check=False
        ).returncode
        == 0
    )
    print(
        json.dumps(
            {
                "version": version(base),
                "plan": plan,
                "manifest_sha256": manifest_sha,
                "manifest": recorded_sums,
                "mismatches": mismatches,
                "extra": extra,
                "master_active": active,
                "worker_instances": instances,
            }
        )
    )


if __name__ == "__main__":
    main()
