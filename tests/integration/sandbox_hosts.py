"""A running sandbox as the integration tests see it: hosts by role, SSH, the inventory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from locust_fleet.sandbox.machine import ssh_command

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CLI = str(BIN / "locust-fleet")


def cli(*args: str, check: bool = False, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLI, *args], capture_output=True, text=True, cwd=REPO, timeout=timeout, check=check
    )


@dataclass
class BackgroundRun:
    proc: subprocess.Popen
    before: set[str]  # run ids on the master before this one started


@dataclass
class SandboxHosts:
    name: str
    inventory: Path
    key: Path
    hosts: list[dict]

    @classmethod
    def up(
        cls, name: str, workers: int, inventory: Path, release: str = "bookworm"
    ) -> SandboxHosts:
        proc = cli(
            "sandbox",
            "up",
            "--name",
            name,
            "--workers",
            str(workers),
            "--release",
            release,
            "--inventory",
            str(inventory),
            "--json",
        )
        if proc.returncode != 0:
            cli("sandbox", "down", "--name", name, "--inventory", str(inventory))
        assert proc.returncode == 0, f"sandbox up failed:\n{proc.stderr}"
        data = json.loads(proc.stdout)
        return cls(name, Path(data["inventory"]), Path(data["key"]), data["hosts"])

    @staticmethod
    def remove_leftover(name: str, inventory: Path) -> None:
        proc = cli("sandbox", "down", "--name", name, "--inventory", str(inventory))
        assert proc.returncode == 0, f"removing a leftover sandbox {name} failed:\n{proc.stderr}"

    def down(self) -> subprocess.CompletedProcess:
        return cli("sandbox", "down", "--name", self.name, "--inventory", str(self.inventory))

    def role(self, role: str) -> list[dict]:
        return [h for h in self.hosts if h["role"] == role]

    def ip(self, host: str) -> str:
        return next(h["ip"] for h in self.hosts if h["name"] == host)

    def ssh(
        self, host: str, command: str, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            ssh_command(self.ip(host), self.key, command),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check:
            assert proc.returncode == 0, (
                f"{host}: `{command}` exited {proc.returncode}: {proc.stderr}"
            )
        return proc

    def connects(self, host: str, ip: str, port: int) -> bool:
        """Whether a TCP connection from ``host`` to ip:port opens within 3 s."""
        return self.ssh(host, f"nc -z -w 3 {ip} {port}", check=False).returncode == 0

    def copy(self, host: str, source: Path, dest: str) -> None:
        proc = subprocess.run(
            [
                "scp",
                "-q",
                "-i",
                str(self.key),
                "-o",
                "BatchMode=yes",
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "LogLevel=ERROR",
                str(source),
                f"root@{self.ip(host)}:{dest}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr

    def run_argv(
        self,
        results: Path,
        *extra: str,
        plan: str = "locustfiles/website",
        users: str = "2",
        rate: str | None = None,
        run_time: str = "5s",
    ) -> list[str]:
        """`locust-fleet run` on this fleet, bounded in users and time (rate: users per s)."""
        return [
            CLI, "run", "-i", str(self.inventory), "--plan", plan, "-u", users,
            "-r", rate or users, "-t", run_time, "--results", str(results), *extra,
        ]  # fmt: skip

    def run(
        self, results: Path, *extra: str, env: dict[str, str] | None = None, **options: str
    ) -> subprocess.CompletedProcess:
        """`locust-fleet run` in the foreground (options as in run_argv)."""
        return subprocess.run(
            self.run_argv(results, *extra, **options),
            capture_output=True,
            text=True,
            cwd=REPO,
            env=env,
            check=False,
            timeout=600,
        )

    def start_run(
        self,
        results: Path,
        *extra: str,
        users: str = "20",
        rate: str = "20",
        run_time: str = "30s",
        plan: str = "locustfiles/website",
    ) -> BackgroundRun:
        """`locust-fleet run` in the background, in a session of its own (see stop())."""
        before = self.run_ids()
        proc = subprocess.Popen(
            self.run_argv(results, *extra, plan=plan, users=users, rate=rate, run_time=run_time),
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        return BackgroundRun(proc, before)

    def run_ids(self) -> set[str]:
        master = self.role("master")[0]["name"]
        return set(self.ssh(master, "ls /var/lib/locust/runs", check=False).stdout.split())

    def wait_until_running(
        self, proc: subprocess.Popen, before: set[str], timeout: float = 300
    ) -> str:
        """Until a run that is not in `before` has spawned its users; returns its id."""
        master = self.role("master")[0]["name"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            for run_id in self.run_ids() - before:
                log = self.ssh(
                    master, f"cat /var/lib/locust/runs/{run_id}/master.log", check=False
                ).stdout
                if "All users spawned" in log:
                    return run_id
            time.sleep(1)
        stop(proc)
        raise AssertionError("the run never reached its running phase")

    def ansible(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "ansible"), "-i", str(self.inventory), *args],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=timeout,
            check=False,
        )

    def playbook(
        self, playbook: str, *args: str, timeout: float = 900
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "ansible-playbook"), "-i", str(self.inventory), playbook, *args],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=timeout,
            check=False,
        )


def flat(text: str) -> str:
    """Output with every run of whitespace as one space, so wrapped lines still match."""
    return " ".join(text.split())


def stop(proc: subprocess.Popen) -> None:
    """End a background `locust-fleet run`: SIGTERM cancels its playbook; then its group."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # its own session, started by the test
            proc.wait()
