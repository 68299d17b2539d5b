"""Interactive mode: reach the master's web UI through an SSH local forward."""

from .forward import Forward, ForwardError, SshTarget, free_local_port, master_ssh_target

__all__ = ["Forward", "ForwardError", "SshTarget", "free_local_port", "master_ssh_target"]
