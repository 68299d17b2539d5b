"""Secrets given with --secret-env reach the plan on every worker and never land in a
log, a journal or a result file.

Its own module: the security module keeps a background run going until its end, and this
test needs an idle fleet to start its own run."""

from __future__ import annotations

import os
import time

SECRET = "tok-9f8e7d6c5b4a-never-print-me"


def test_secret_reaches_the_workers_and_no_log_or_result(fleet, tmp_path):
    env = {**os.environ, "TARGET_TOKEN": SECRET}
    proc = fleet.run(tmp_path, "--secret-env", "TARGET_TOKEN", env=env, users="4")
    assert proc.returncode == 0, proc.stderr[-3000:]
    worker = fleet.role("worker")[0]["name"]
    # After the run the workers restart (the master told them to quit): wait for a live one.
    read_environ = (
        "pid=$(systemctl show -p MainPID --value locust-worker@1.service); "
        'test "$pid" != 0 && grep -q locust /proc/$pid/cmdline && '
        "tr '\\0' '\\n' < /proc/$pid/environ"
    )
    environ = ""
    for _ in range(60):
        environ = fleet.ssh(worker, read_environ, check=False).stdout
        if "TARGET_TOKEN=" in environ:
            break
        time.sleep(1)
    assert f"TARGET_TOKEN={SECRET}" in environ.splitlines()  # delivered to the plan
    mode = fleet.ssh(worker, "stat -c '%a %U %G' /etc/locust/secrets.env").stdout.split()
    assert mode == ["640", "root", "locust"]
    leaks = [
        str(p) for p in tmp_path.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()
    ]
    assert leaks == [], leaks
    assert SECRET not in proc.stdout + proc.stderr
    (run_dir,) = list(tmp_path.iterdir())
    assert "TARGET_TOKEN" in (run_dir / "run.json").read_text()  # the name, not the value
    for host in fleet.hosts:
        journal = fleet.ssh(host["name"], "journalctl --no-pager -n 2000", check=False).stdout
        assert SECRET not in journal, host["name"]
