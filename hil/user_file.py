"""Reading a file a user names (scenario, bench file, results file): a regular file only, read with a size limit.

A FIFO must not block the run (opened non-blocking, then refused), a device such as /dev/zero must not be read
without end, and what the OS refuses (a symlink loop, a name too long) is one ConfigError naming the file.
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from hil.errors import ConfigError


class UserFileMissing(ConfigError):
    """The file a user named is not there (callers may add a hint on what to name instead)."""

_KIND_OF_MODE = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                 (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                 (stat.S_ISSOCK, "a socket"))
_OS_ERRORS = {errno.ENOENT: "file not found", errno.ELOOP: "too many levels of symbolic links (a link loop?)",
              errno.ENAMETOOLONG: "file name too long", errno.EACCES: "permission denied",
              errno.EPERM: "permission denied", errno.ENOTDIR: "a part of the path is not a folder",
              errno.ENXIO: "no such device"}


def _os_problem(error: OSError) -> str:
    return _OS_ERRORS.get(error.errno, error.strerror or str(error))


def _open_regular(path: str | Path, what: str) -> tuple[int, os.stat_result]:
    """An open descriptor of the regular file at `path` and its status; ConfigError naming `path` if it is not one.
    Opened non-blocking, so a FIFO is refused instead of waited on."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as error:
        if error.errno == errno.ENOENT:
            raise UserFileMissing(path, None, None, f"{what} not found") from None
        raise ConfigError(path, None, None, _os_problem(error)) from None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            kind = next((name for test, name in _KIND_OF_MODE if test(status.st_mode)), "not a regular file")
            raise ConfigError(path, None, None, f"is {kind}, not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd, status


def check_user_file(path: str | Path, max_bytes: int, what: str = "file") -> int:
    """The size of the regular file at `path` if it is at most `max_bytes`; ConfigError naming `path` if not.

    For inputs a tool reads later (a firmware image handed to probe-rs): checked now, without reading them.
    """
    fd, status = _open_regular(path, what)
    os.close(fd)
    if status.st_size > max_bytes:
        raise ConfigError(path, None, None, f"{what} is {status.st_size} bytes, more than the limit of {max_bytes}")
    return status.st_size


def read_user_file(path: str | Path, max_bytes: int, what: str = "file") -> bytes:
    """The bytes of the regular file at `path`, at most `max_bytes` of them; ConfigError naming `path` if not.

    The ConfigError for a file over the limit carries the first `max_bytes` bytes as `.head`, so a caller can say
    where in the file the limit was crossed.
    """
    fd, _ = _open_regular(path, what)
    try:
        chunks, size_bytes = [], 0
        while size_bytes <= max_bytes:   # read one byte past the limit: the file may grow while it is read
            chunk = os.read(fd, max_bytes + 1 - size_bytes)
            if not chunk:
                break
            chunks.append(chunk)
            size_bytes += len(chunk)
        data = b"".join(chunks)
    except OSError as error:
        raise ConfigError(path, None, None, _os_problem(error)) from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        too_big = ConfigError(path, None, None, f"{what} is larger than the limit of {max_bytes} bytes")
        too_big.head = data[:max_bytes]
        raise too_big
    return data
