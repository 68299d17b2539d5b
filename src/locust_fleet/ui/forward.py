"""An SSH local forward from this machine to the web UI on the master's loopback.

The master's address, user, port and key come from the inventory as Ansible
sees it (`ansible-inventory`), so the forward reaches the master exactly as the
playbooks do. The forward is one `ssh -N -L` process, stopped by its own PID.
"""

from __future__ import annotations

import json
import shlex
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


class ForwardError(RuntimeError):
    """The forward could not be opened (inventory, SSH or the UI not answering)."""


@dataclass(frozen=True)
class SshTarget:
    name: str
    address: str
    user: str | None = None
    port: int | None = None
    key: str | None = None
    options: tuple[str, ...] = field(default=())

    def destination(self) -> str:
        return f"{self.user}@{self.address}" if self.user else self.address


def _ansible_inventory(inventory: Path, *args: str) -> dict:
    binary = Path(sys.executable).parent / "ansible-inventory"
    command = [str(binary) if binary.exists() else "ansible-inventory", "-i", str(inventory)]
    proc = subprocess.run(
        [*command, *args], capture_output=True, text=True, check=False, timeout=120
    )
    if proc.returncode != 0:
        raise ForwardError(f"ansible-inventory -i {inventory} failed: {proc.stderr.strip()}")
    return json.loads(proc.stdout)


def master_ssh_target(inventory: str | Path) -> SshTarget:
    """The one host of group locust_master, as SSH sees it."""
    listing = _ansible_inventory(Path(inventory), "--list")
    masters = listing.get("locust_master", {}).get("hosts", [])
    if len(masters) != 1:
        raise ForwardError(
            f"the inventory needs exactly one host in group locust_master (it has {len(masters)})"
        )
    name = masters[0]
    hostvars = listing.get("_meta", {}).get("hostvars", {}).get(name)
    if hostvars is None:
        hostvars = _ansible_inventory(Path(inventory), "--host", name)
    options: list[str] = []
    for key in ("ansible_ssh_common_args", "ansible_ssh_extra_args"):
        if hostvars.get(key):
            options.extend(shlex.split(str(hostvars[key])))
    port = hostvars.get("ansible_port") or hostvars.get("ansible_ssh_port")
    key = hostvars.get("ansible_ssh_private_key_file") or hostvars.get("ansible_private_key_file")
    return SshTarget(
        name=name,
        address=str(hostvars.get("ansible_host") or name),
        user=hostvars.get("ansible_user") or hostvars.get("ansible_ssh_user"),
        port=int(port) if port else None,
        key=hostvars.get("ansible_ssh_private_key_file")
        or hostvars.get("ansible_private_key_file"),
        options=tuple(options),
    )


def free_local_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(b"HEAD / HTTP/1.0\r\nHost: localhost\r\n\r\n")
            return bool(sock.recv(12))
    except OSError:
        return False


@dataclass
class Forward:
    """`ssh -N -L 127.0.0.1:LOCAL:REMOTE_HOST:REMOTE_PORT master`, started and stopped by PID."""

    target: SshTarget
    local_port: int
    remote_port: int = 8089
    remote_host: str = "127.0.0.1"
    process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        command = [
            "ssh",
            "-N",
            "-o",
            "BatchMode=yes",
            "-o",
            "ExitOnForwardFailure=yes",
            "-o",
            "ServerAliveInterval=15",
            "-L",
            f"127.0.0.1:{self.local_port}:{self.remote_host}:{self.remote_port}",
        ]
        if self.target.key:
            command += ["-i", self.target.key]
        if self.target.port:
            command += ["-p", str(self.target.port)]
        command += list(self.target.options)
        # "--": a destination that begins with "-" is never read as an option.
        command += ["--", self.target.destination()]
        return command

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.local_port}/"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def open(self, timeout: float = 60) -> Forward:
        """Start ssh and wait until the UI answers through the forward."""
        self.process = subprocess.Popen(
            self.command(), stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = (self.process.stderr.read() if self.process.stderr else "").strip()
                self.process = None
                raise ForwardError(
                    f"ssh to {self.target.name} ({self.target.destination()}) exited: "
                    f"{error or 'no message'}"
                )
            if _answers(self.local_port):
                return self
            time.sleep(0.5)
        self.close()
        raise ForwardError(
            f"the web UI on {self.target.name} did not answer through the forward within "
            f"{timeout:g} s; is the UI master running (playbooks/ui.yml)?"
        )

    def wait(self) -> int:
        """Block until ssh exits (the connection dropped); its exit code."""
        if self.process is None:
            return 0
        return self.process.wait()

    def close(self) -> None:
        """Stop the ssh process this object started (by its PID), and reap it."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stderr:
            self.process.stderr.close()
        self.process = None

    def __enter__(self) -> Forward:
        return self.open() if self.process is None else self

    def __exit__(self, *_exc: object) -> None:
        self.close()
