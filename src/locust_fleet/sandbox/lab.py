"""The sandbox as a whole: up, status, down — idempotent and crash-tolerant."""

from __future__ import annotations

import ipaddress
import re
import shutil
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..shell import run
from . import network
from .errors import SandboxError
from .image import DEFAULT_RELEASE, MONITOR_PACKAGES, ensure_image
from .inventory import write_inventory
from .machine import Machine, _port_open
from .monitor import write_prometheus_config
from .preflight import check_host, ensure_inotify
from .state import STATE_ROOT, HostRecord, SandboxState

DEFAULT_NAME = "lf"
DEFAULT_INVENTORY = Path("inventories/sandbox/hosts.yml")
MAX_WORKERS = 20
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]{0,2}$")  # keeps "vb-<name>-worker20" within 15 chars


# The only ranges a sandbox may take: on any other, its hosts would stand in for real
# machines of that range, on this machine, and load meant for the sandbox would look real.
PRIVATE_RANGES = tuple(
    ipaddress.ip_network(net) for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)


def check_private(subnet: ipaddress.IPv4Network) -> None:
    if not any(subnet.subnet_of(private) for private in PRIVATE_RANGES):
        raise SandboxError(
            f"--subnet {subnet} is not a private network: the sandbox's hosts would take "
            "addresses of real machines elsewhere; give a /24 inside 10.0.0.0/8, 172.16.0.0/12 "
            "or 192.168.0.0/16 that nothing on this machine uses, e.g. --subnet 10.213.90.0/24"
        )


def default_subnet(name: str) -> str:
    third = 7 if name == DEFAULT_NAME else 100 + zlib.crc32(name.encode()) % 100
    return f"10.213.{third}.0/24"


@dataclass
class HostStatus:
    name: str
    role: str
    ip: str
    running: bool
    ssh: bool
    pid: int | None  # the host's supervisor, parent of its systemd-nspawn


class Sandbox:
    def __init__(
        self,
        name: str = DEFAULT_NAME,
        subnet: str | None = None,
        inventory: Path | None = None,
        log: Callable[[str], None] = print,
    ) -> None:
        if not NAME_PATTERN.match(name):
            raise SandboxError(
                f"sandbox name {name!r} is not valid: use 1-3 lowercase letters or digits, "
                "starting with a letter (it becomes part of interface names)"
            )
        self.name = name
        self.requested_subnet = subnet
        self.inventory = inventory or (
            DEFAULT_INVENTORY if name == DEFAULT_NAME else STATE_ROOT / name / "hosts.yml"
        )
        self.log = log
        self.directory = STATE_ROOT / name
        self.bridge = f"lfbr-{name}"
        self.key = self.directory / "ssh" / "id_ed25519"

    # --- up ------------------------------------------------------------------------------
    def up(
        self, workers: int = 2, monitoring: bool = False, release: str | None = None
    ) -> SandboxState:
        """Boot the hosts from Debian `release` (default: the release the sandbox already
        runs, else bookworm); with `monitoring`, also `<name>-monitor` (Prometheus scraping
        the master's live metrics). An up without it removes a monitor host left from before."""
        if not 1 <= workers <= MAX_WORKERS:
            raise SandboxError(f"--workers must be between 1 and {MAX_WORKERS}, not {workers}")
        state = self._state_for_up(release)
        check_host()
        ensure_inotify(self.log)
        image = ensure_image(log=self.log, release=state.release)
        monitor_image = (
            ensure_image(log=self.log, extra_packages=MONITOR_PACKAGES, release=state.release)
            if monitoring
            else None
        )
        subnet = ipaddress.ip_network(state.subnet)
        network.ensure_bridge(self.bridge, subnet)
        self._ensure_key()
        wanted = self._wanted_hosts(subnet, workers, monitoring)
        for record in [h for h in state.hosts if h.name not in {w.name for w in wanted}]:
            self.log(f"removing surplus host {record.name}")
            machine = self._machine(record, subnet)
            machine.stop()
            machine.wait_stopped()
            self._forget(machine)
            state.hosts.remove(record)
            state.save()
        hosts_file = "".join(f"{h.ip} {h.name}\n" for h in wanted)
        public_key = self.key.with_suffix(".pub").read_text()
        booting: list[Machine] = []
        for want in wanted:
            record = state.host(want.name)
            if record is None:
                record = want
                state.hosts.append(record)
            machine = self._machine(record, subnet)
            if machine.running():
                machine.refresh_leader()
                continue
            machine.wait_stopped()  # ends a container whose nspawn process died alone
            is_monitor = record.role == "monitor" and monitor_image is not None
            machine.mount(monitor_image if is_monitor else image)
            machine.configure(public_key, hosts_file)
            if is_monitor:
                master = next(h for h in wanted if h.role == "master")
                write_prometheus_config(machine.root, self.name, master.ip)
            machine.start(image, self.bridge, unified_cgroups=True)
            state.save()
            booting.append(machine)
        if booting:
            self.log(f"booting {', '.join(m.record.name for m in booting)}")
            with ThreadPoolExecutor(max_workers=len(booting)) as pool:
                list(pool.map(lambda m: m.wait_ready(self.key), booting))
        state.hosts.sort(key=lambda h: ipaddress.ip_address(h.ip))
        state.save()
        write_inventory(self.inventory, state, self.key)
        self.log(
            f"sandbox {self.name} is up: {len(state.hosts)} hosts on {subnet}; "
            f"inventory {self.inventory}"
        )
        return state

    def _state_for_up(self, release: str | None = None) -> SandboxState:
        state = SandboxState.load(self.name)
        subnet = self.requested_subnet or (state.subnet if state else default_subnet(self.name))
        try:
            ipaddress.ip_network(subnet)
        except ValueError as err:
            raise SandboxError(f"--subnet {subnet!r} is not a network: {err}") from err
        if state is None:
            state = SandboxState(
                name=self.name,
                subnet=subnet,
                bridge=self.bridge,
                release=release or DEFAULT_RELEASE,
            )
        elif release is not None and state.release != release:
            # The hosts' own files sit on top of the image they booted: never another release's.
            raise SandboxError(
                f"sandbox {self.name} runs Debian {state.release}; run `locust-fleet sandbox "
                f"down --name {self.name}` before booting it from {release}, or choose another "
                "--name"
            )
        elif state.subnet != subnet:
            raise SandboxError(
                f"sandbox {self.name} is already set up on {state.subnet}; run "
                f"`locust-fleet sandbox down --name {self.name}` before changing its subnet"
            )
        if ipaddress.ip_network(subnet).prefixlen != 24:
            raise SandboxError(f"--subnet must be a /24 (got {subnet})")
        check_private(ipaddress.ip_network(subnet))
        return state

    def _wanted_hosts(
        self, subnet: ipaddress.IPv4Network, workers: int, monitoring: bool = False
    ) -> list[HostRecord]:
        base = subnet.network_address
        hosts = [
            HostRecord(f"{self.name}-master", "master", str(base + 10)),
            HostRecord(f"{self.name}-target", "target", str(base + 20)),
        ]
        hosts += [
            HostRecord(f"{self.name}-worker{i}", "worker", str(base + 30 + i))
            for i in range(1, workers + 1)
        ]
        if monitoring:
            hosts.append(HostRecord(f"{self.name}-monitor", "monitor", str(base + 5)))
        return hosts

    def _ensure_key(self) -> None:
        if not self.key.exists():
            self.key.parent.mkdir(parents=True, exist_ok=True)
            run(
                [
                    "ssh-keygen",
                    "-q",
                    "-t",
                    "ed25519",
                    "-N",
                    "",
                    "-C",
                    f"locust-fleet-sandbox-{self.name}",
                    "-f",
                    str(self.key),
                ]
            )

    def _machine(self, record: HostRecord, subnet: ipaddress.IPv4Network) -> Machine:
        return Machine(record, self.directory / "hosts" / record.name, subnet.prefixlen)

    def _forget(self, machine: Machine) -> None:
        machine.unmount()
        shutil.rmtree(machine.directory, ignore_errors=True)

    # --- down ----------------------------------------------------------------------------
    def down(self) -> None:
        check_host()
        state = SandboxState.load(self.name)
        if state is not None:
            subnet = ipaddress.ip_network(state.subnet)
            machines = [self._machine(h, subnet) for h in state.hosts]
            for machine in machines:
                machine.stop()
            for machine in machines:
                machine.wait_stopped()
                machine.unmount()
        # A crash between mount and state.save leaves mounts the state does not list.
        for mount_point in _mounts_under(self.directory):
            run(["umount", mount_point])
        network.delete_bridge(self.bridge)
        shutil.rmtree(self.directory, ignore_errors=True)
        self.inventory.unlink(missing_ok=True)
        self.log(f"sandbox {self.name} is down")

    # --- status --------------------------------------------------------------------------
    def status(self) -> list[HostStatus]:
        state = SandboxState.load(self.name)
        if state is None:
            return []
        subnet = ipaddress.ip_network(state.subnet)
        result = []
        for record in state.hosts:
            running = self._machine(record, subnet).running()
            result.append(
                HostStatus(
                    record.name,
                    record.role,
                    record.ip,
                    running,
                    running and _port_open(record.ip, 22),
                    record.pid,
                )
            )
        return result


def _mounts_under(directory: Path) -> list[str]:
    prefix = str(directory) + "/"
    points = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    return sorted((p for p in points if p.startswith(prefix)), reverse=True)
