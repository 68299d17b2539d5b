"""What the sandbox needs from this machine, checked before anything is touched."""

from __future__ import annotations

import os
import shutil

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
