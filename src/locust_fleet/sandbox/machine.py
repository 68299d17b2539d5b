"""One sandbox host: an overlay over the shared image, booted by systemd-nspawn.

The host's own files (address, hostname, SSH key, which services run) are
written into its overlay before boot; nspawn runs under a supervisor
(host_supervisor: a reboot inside boots the host again) started in a session of
its own and recorded by PID, so it outlives the CLI and is stopped by that PID alone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from ..shell import run
from .errors import SandboxError
from .state import HostRecord

NETWORK_FILE = """\
# Sorts before nspawn's 80-container-host0.network, so this address wins.
[Match]
Name=host0

[Network]
Address={address}
LinkLocalAddressing=no
IPv6AcceptRA=no
"""


class Machine:
    def __init__(self, record: HostRecord, directory: Path, prefixlen: int) -> None:
        self.record = record
        self.directory = directory  # upper/, work/, root/, console.log
        self.prefixlen = prefixlen

    @property
    def root(self) -> Path:
        return self.directory / "root"

    # --- process -----------------------------------------------------------------------
    def running(self) -> bool:
        return _alive(self.record.pid, self.record.pid_start)

    def leader_alive(self) -> bool:
        return _alive(self.record.leader, self.record.leader_start)

    def start(self, image: Path, bridge: str, unified_cgroups: bool = False) -> None:
        """Boot the container. `unified_cgroups`: a cgroup v2 tree even on a host that mounts
        cgroup v1, rooted in a cgroup of this host's own (systemd 257, Debian 13's, fails to
        spawn units whose cgroup another host of the sandbox removes)."""
        log = (self.directory / "console.log").open("ab")
        env = dict(os.environ)
        cgroup = []
        if unified_cgroups:
            env["SYSTEMD_NSPAWN_UNIFIED_HIERARCHY"] = "1"
            # nspawn --keep-unit makes the cgroup it starts in the container's root: without a
            # cgroup of its own, every host would share (and race on) one tree of units.
            cgroup = ["--cgroup-procs", str(self._own_cgroup() / "cgroup.procs")]
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "locust_fleet.sandbox.host_supervisor",
                *cgroup,
                "--",
                "systemd-nspawn",
                "-D",
                str(self.root),
                "--boot",
                "--register=no",
                "--keep-unit",
                f"--network-bridge={bridge}",
                f"--machine={self.record.name}",
                "--link-journal=no",
                "--console=read-only",
                "--resolv-conf=off",
                "--timezone=off",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
        log.close()
        self.record.pid = proc.pid
        self.record.pid_start = _proc_start(proc.pid)

    def stop(self) -> None:
        """SIGTERM the recorded supervisor, which hands it to nspawn: the container powers off
        cleanly."""
        if self.running():
            self.refresh_leader()
            os.kill(self.record.pid, signal.SIGTERM)

    def refresh_leader(self) -> None:
        """Record the container's init again: a reboot inside gives it a new one."""
        if self.running():
            self.record.leader = self.record.leader_start = None
            self._record_leader()

    def wait_stopped(self, timeout: float = 20.0) -> None:
        """Wait for the power-off; past `timeout`, or when nspawn died and left its container
        behind, SIGKILL the container's init, which ends every process in it."""
        deadline = time.monotonic() + timeout
        while self.running() and time.monotonic() < deadline:
            _reap(self.record.pid)
            time.sleep(0.2)
        if self.leader_alive():
            os.kill(self.record.leader, signal.SIGKILL)
        while (self.running() or self.leader_alive()) and time.monotonic() < deadline + 10:
            _reap(self.record.pid)
            time.sleep(0.2)
        self.record.pid = self.record.pid_start = None
        self.record.leader = self.record.leader_start = None

    def wait_ready(self, key: Path, timeout: float = 60.0) -> None:
        """Wait until sshd answers and systemd inside reports the boot finished."""
        deadline = time.monotonic() + timeout
        last = "no answer on port 22"
        while time.monotonic() < deadline:
            if not self.running():
                raise SandboxError(
                    f"host {self.record.name} stopped while booting; its console log is "
                    f"{self.directory / 'console.log'}"
                )
            self._record_leader()
            if _port_open(self.record.ip, 22):
                proc = run(
                    ssh_command(self.record.ip, key, "systemctl is-system-running --wait"),
                    check=False,
                    timeout=max(1.0, deadline - time.monotonic()),
                )
                last = (proc.stdout or proc.stderr).strip()
                if last in ("running", "degraded"):
                    self._record_leader()
                    return
            time.sleep(0.3)
        raise SandboxError(
            f"host {self.record.name} ({self.record.ip}) did not finish booting in {timeout:.0f}s "
            f"(last answer: {last}); see {self.directory / 'console.log'}"
        )

    def _record_leader(self) -> None:
        """The container's init: the systemd that the supervisor's nspawn child runs (not a
        short-lived helper)."""
        if self.record.leader is not None:
            return
        for nspawn in _children(self.record.pid):
            for pid in _children(nspawn):
                try:
                    comm = Path(f"/proc/{pid}/comm").read_text().strip()
                except OSError:
                    continue
                if comm == "systemd":
                    self.record.leader = pid
                    self.record.leader_start = _proc_start(pid)
                    return

    # --- filesystem --------------------------------------------------------------------
    def mounted(self) -> bool:
        return os.path.ismount(self.root)

    def mount(self, image: Path) -> None:
        for sub in ("upper", "work", "root"):
            (self.directory / sub).mkdir(parents=True, exist_ok=True)
        if not self.mounted():
            run(
                [
                    "mount",
                    "-t",
                    "overlay",
                    "overlay",
                    "-o",
                    f"lowerdir={image},upperdir={self.directory / 'upper'},"
                    f"workdir={self.directory / 'work'}",
                    str(self.root),
                ]
            )

    @property
    def cgroup_mount(self) -> Path:
        return self.directory / "cgroup2"

    def _own_cgroup(self) -> Path:
        """This host's own cgroup in the kernel's cgroup v2 tree (mounted in the host's
        folder): /locust-fleet/<sandbox host>."""
        mount = self.cgroup_mount
        mount.mkdir(exist_ok=True)
        if not os.path.ismount(mount):
            run(["mount", "-t", "cgroup2", "cgroup2", str(mount)])
        own = mount / "locust-fleet" / self.record.name
        own.mkdir(parents=True, exist_ok=True)
        return own

    def _remove_cgroup(self) -> None:
        """Remove this host's cgroups (the container's systemd made some inside), deepest
        first, then unmount the tree; runs once the container has stopped."""
        mount = self.cgroup_mount
        if not os.path.ismount(mount):
            return
        own = mount / "locust-fleet" / self.record.name
        if own.is_dir():
            for folder, _, _ in sorted(os.walk(own), key=lambda w: -w[0].count("/")):
                with contextlib.suppress(OSError):
                    os.rmdir(folder)
        with contextlib.suppress(OSError):  # still holds the other hosts' cgroups
            os.rmdir(mount / "locust-fleet")
        run(["umount", str(mount)])

    def unmount(self) -> None:
        self._remove_cgroup()
        if self.mounted():
            run(["umount", str(self.root)])

    def configure(self, public_key: str, etc_hosts: str) -> None:
        root = self.root
        (root / "etc/hostname").write_text(self.record.name + "\n")
        (root / "etc/hosts").write_text(
            f"127.0.0.1 localhost\n127.0.1.1 {self.record.name}\n{etc_hosts}"
        )
        network = root / "etc/systemd/network/10-host0.network"
        network.write_text(NETWORK_FILE.format(address=f"{self.record.ip}/{self.prefixlen}"))
        keys = root / "root/.ssh/authorized_keys"
        keys.write_text(public_key)
        keys.chmod(0o600)
        wants = root / "etc/systemd/system/multi-user.target.wants/nginx.service"
        if self.record.role == "target" and not os.path.lexists(wants):
            wants.symlink_to("/lib/systemd/system/nginx.service")


def ssh_command(ip: str, key: Path, command: str) -> list[str]:
    return [
        "ssh",
        "-i",
        str(key),
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "LogLevel=ERROR",
        "-o",
        "ConnectTimeout=5",
        f"root@{ip}",
        command,
    ]


def _children(pid: int | None) -> list[int]:
    if pid is None:
        return []
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _alive(pid: int | None, start: str | None) -> bool:
    return pid is not None and start is not None and _proc_start(pid) == start


def _proc_start(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":
        return None
    return fields[19]


def _reap(pid: int | None) -> None:
    """Collect the exit status if the supervisor is our own child (same CLI run)."""
    if pid is None:
        return
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _port_open(ip: str, port: int) -> bool:
    try:
        with socket.create_connection((ip, port), timeout=0.5):
            return True
    except OSError:
        return False
