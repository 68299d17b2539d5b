"""Secrets given with --secret-env reach the plan on every worker, never land in a log, a
journal or a result file, and leave the hosts when the run's results are brought home.

Its own module: the security module keeps a background run going until its end, and this
test needs an idle fleet to start its own run."""

from __future__ import annotations

import os

from .sandbox_hosts import cli

SECRET = "tok-9f8e7d6c5b4a-never-print-me"
# What environment files and shells mangle: outer spaces, both quotes, backslashes (one,
# two, before a quote), $ and ${} (no expansion), a backtick, # and ; and = and unicode.
AWKWARD = '  lead \'sq\' "dq" back\\slash \\\\ \\" $HOME ${PATH} `id` #; a=b é trail  '


def test_secret_reaches_the_workers_and_no_log_or_result_and_leaves_with_the_run(fleet, tmp_path):
    env = {**os.environ, "TARGET_TOKEN": SECRET, "AWKWARD_SECRET": AWKWARD}
    results = tmp_path / "results"
    started = fleet.run(
        results, "--secret-env", "TARGET_TOKEN", "--secret-env", "AWKWARD_SECRET", "--detach",
        env=env, users="4", run_time="15s",
    )  # fmt: skip
    assert started.returncode == 0, started.stderr[-3000:]
    worker = fleet.role("worker")[0]["name"]
    # While the test runs, the worker processes hold the secret in their environment.
    read_environ = (
        "pid=$(systemctl show -p MainPID --value locust-worker@1.service); "
        'test "$pid" != 0 && grep -q locust /proc/$pid/cmdline && '
        "tr '\\0' '\\n' < /proc/$pid/environ"
    )
    environ = fleet.ssh(worker, read_environ, check=False).stdout
    assert f"TARGET_TOKEN={SECRET}" in environ.splitlines()  # delivered to the plan
    assert f"AWKWARD_SECRET={AWKWARD}" in environ.splitlines()  # byte for byte
    mode = fleet.ssh(worker, "stat -c '%a %U %G' /etc/locust/secrets.env").stdout.split()
    assert mode == ["640", "root", "locust"]
    proc = cli("attach", "-i", str(fleet.inventory), "--results", str(results))
    assert proc.returncode == 0, proc.stderr[-3000:]
    # The run is home: its secrets are gone from every host.
    for host in fleet.hosts:
        if host["role"] in ("master", "worker"):
            gone = fleet.ssh(host["name"], "test ! -e /etc/locust/secrets.env", check=False)
            assert gone.returncode == 0, f"{host['name']} still holds the run's secrets"
    leaks = [
        str(p) for p in tmp_path.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()
    ]
    assert leaks == [], leaks
    assert SECRET not in started.stdout + started.stderr + proc.stdout + proc.stderr
    (run_dir,) = list(results.iterdir())
    assert "TARGET_TOKEN" in (run_dir / "run.json").read_text()  # the name, not the value
    for host in fleet.hosts:
        journal = fleet.ssh(host["name"], "journalctl --no-pager -n 2000", check=False).stdout
        assert SECRET not in journal, host["name"]
