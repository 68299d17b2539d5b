"""What the sandbox needs from this machine, checked before anything is touched."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .errors import SandboxError

APT_PACKAGES = "systemd-container debootstrap iproute2 openssh-client"


def check_host() -> None:
    if os.geteuid() != 0:
        raise SandboxError(
            "the sandbox needs root (it mounts overlays, makes a bridge and boots containers); "
            "run it as root, e.g. `sudo .venv/bin/locust-fleet sandbox up`"
        )
    missing = [
        tool
        for tool in ("systemd-nspawn", "ip", "ssh", "ssh-keygen", "mount")
        if shutil.which(tool) is None
    ]
    if missing:
        raise SandboxError(
            f"{', '.join(missing)} not found; install them with: apt-get install -y {APT_PACKAGES}"
        )


INOTIFY_INSTANCES = Path("/proc/sys/fs/inotify/max_user_instances")
INOTIFY_WANTED = 1024


def ensure_inotify(log) -> None:
    """Every container's systemd takes inotify instances; the usual 128 stops new hosts
    from booting ("Failed to create control group inotify object") after a few sandboxes."""
    try:
        current = int(INOTIFY_INSTANCES.read_text())
    except (OSError, ValueError):
        return
    if current < INOTIFY_WANTED:
        INOTIFY_INSTANCES.write_text(f"{INOTIFY_WANTED}\n")
        log(
            f"raised fs.inotify.max_user_instances from {current} to {INOTIFY_WANTED} "
            "so the sandbox's systemd hosts can boot"
        )
