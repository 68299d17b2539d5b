"""The built collection installs on its own and runs a test by FQCN, outside this checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

from .sandbox_hosts import BIN, REPO


def _run(*argv: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), capture_output=True, text=True, check=False, **kwargs)


def test_installed_collection_runs_a_test_by_fqcn(fleet, tmp_path):
    dist = tmp_path / "dist"
    build = _run(
        str(BIN / "python"), "-m", "locust_fleet.collection_build", "--output", str(dist), cwd=REPO
    )
    assert build.returncode == 0, build.stderr
    tarball = dist / "fleet-locust-0.1.0.tar.gz"
    assert tarball.exists()
    # Outside the checkout: no ansible.cfg, no roles/, only the installed collection.
    collections = tmp_path / "collections"
    work = tmp_path / "ops"
    shutil.copytree(REPO / "locustfiles" / "website", work / "website")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env["ANSIBLE_COLLECTIONS_PATH"] = str(collections)
    install = _run(
        str(BIN / "ansible-galaxy"),
        "collection",
        "install",
        str(tarball),
        "-p",
        str(collections),
        cwd=work,
        env=env,
    )
    assert install.returncode == 0, install.stderr
    assert (collections / "ansible_collections/fleet/locust/MANIFEST.json").exists()
    run = _run(
        str(BIN / "ansible-playbook"),
        "-i",
        str(fleet.inventory),
        "fleet.locust.run_test",
        "-e",
        "locust_plan=website",
        "-e",
        "locust_users=10",
        "-e",
        "locust_spawn_rate=10",
        "-e",
        "locust_run_time=5s",
        cwd=work,
        env=env,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    (run_dir,) = list((work / "results").iterdir())
    record = json.loads((run_dir / "run.json").read_text())
    assert record["master_exit_code"] == 0
    stats = (run_dir / "locust_stats.csv").read_text()
    aggregated = next(line for line in stats.splitlines() if ",Aggregated," in line)
    assert int(aggregated.split(",")[2]) > 0
