"""Reading and replacing files on a host without following a link at their path.

Shared by the collection's modules (locust_files, locust_run_prepare, locust_run_collect).
Runs on the host's system Python (3.8 or later), standard library only.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafeFileError(Exception):
    """A file cannot be replaced as asked; the message says which and why."""


def kind(mode):
    """What a non-regular file is, in words."""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a fifo"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISREG(mode):
        return "a regular file"
    return "not a regular file"


def trusted(st):
    """A folder in which a link may be followed: only root (or we) can change it."""
    return st.st_uid in (0, os.geteuid()) and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def open_folder(path):
    """A descriptor of the folder ``path``, opened without trusting its owner.

    The folder itself is never a link; a link on the way to it is followed only in a
    folder that only root can change. FileNotFoundError when a part is missing,
    UnsafeFileError when the path is unsafe.
    """
    if not os.path.isabs(path):
        raise UnsafeFileError(f"{path} is not an absolute path")
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise UnsafeFileError(f"{path} holds '..'")
    fd = os.open("/", DIR_FLAGS)
    try:
        for index, part in enumerate(parts):
            try:
                next_fd = os.open(part, DIR_FLAGS, dir_fd=fd)
            except OSError as err:
                if err.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                mode = os.stat(part, dir_fd=fd, follow_symlinks=False).st_mode
                where = "/" + "/".join(parts[: index + 1])
                if not stat.S_ISLNK(mode):
                    raise UnsafeFileError(f"{where} is {kind(mode)}, not a folder") from None
                if index == len(parts) - 1 or not trusted(os.fstat(fd)):
                    raise UnsafeFileError(
                        f"{where} is a symbolic link in a folder another user can change; "
                        "refusing to follow it"
                    ) from None
                next_fd = os.open(part, DIR_FLAGS & ~os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = next_fd
    except BaseException:
        os.close(fd)
        raise
    return fd


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
