"""Free space as an unprivileged user sees it (the locust user writes the run's results)."""

from __future__ import annotations

import os

MIB = 1 << 20


def free_mb(path):
    """MiB free to non-root users on the filesystem that holds ``path`` (or the nearest folder
    above it that exists); None when there is no such folder or it cannot be read."""
    path = os.path.abspath(path or "/")
    while not os.path.isdir(path):
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent
    try:
        stats = os.statvfs(path)
    except OSError:
        return None
    return round(stats.f_bavail * stats.f_frsize / MIB, 1)
