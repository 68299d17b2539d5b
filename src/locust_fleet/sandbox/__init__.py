"""The sandbox: real systemd hosts (systemd-nspawn containers) on one machine."""

from .errors import SandboxError
from .lab import DEFAULT_NAME, HostStatus, Sandbox

__all__ = ["DEFAULT_NAME", "HostStatus", "Sandbox", "SandboxError"]
