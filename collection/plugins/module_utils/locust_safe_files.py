"""Reading and replacing files on a host without following a link at their path.

Shared by the collection's modules (locust_files, locust_run_prepare). Runs on the host's
system Python (3.8 or later), standard library only.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafeFileError(Exception):
    """A file cannot be replaced as asked; the message says which and why."""


def read_regular_file(path):
    """(bytes, stat) of the regular file at path, never through a link; (None, None) when
    there is none (missing, a link or not a regular file)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as err:
        if err.errno in (errno.ENOENT, errno.ELOOP, errno.ENXIO, errno.EISDIR):
            return None, None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None, None
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return b"".join(chunks), st
            chunks.append(chunk)
    finally:
        os.close(fd)


def _fsync_dir(folder):
    fd = os.open(folder, DIR_FLAGS)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path, data, uid, gid, mode, check=None, chown=os.fchown):
    """Replace path by a new file holding data (uid:gid, mode), written and synced first.
    check(temp_path), when given, runs on the new file before it replaces path and raises
    to keep the old one. A link at path is replaced, never followed."""
    folder = os.path.dirname(path) or "."
    base = os.path.basename(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(100):
        temp = os.path.join(folder, f".{base}.{os.urandom(6).hex()}.tmp")
        try:
            fd = os.open(temp, flags, 0o600)
            break
        except FileExistsError:
            continue
    else:
        raise UnsafeFileError(f"cannot create a temporary file next to {path}")
    try:
        try:
            chown(fd, uid, gid)
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if check is not None:
            check(temp)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_dir(folder)
