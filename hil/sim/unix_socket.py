"""Binding and connecting Unix sockets whose path may be longer than the kernel's limit (108 bytes)."""
from __future__ import annotations

import os
import socket
from pathlib import Path

SUN_PATH_LIMIT_BYTES = 107   # sockaddr_un.sun_path is 108 bytes including the terminating NUL


def _with_short_path(path: Path, action) -> None:
    if len(os.fsencode(str(path))) <= SUN_PATH_LIMIT_BYTES:
        action(str(path))
        return
    # Go through the directory's fd, so the address is /proc/self/fd/N/<name> whatever the folder's depth.
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        action(f"/proc/self/fd/{dir_fd}/{path.name}")
    finally:
        os.close(dir_fd)


def bind_unix(sock: socket.socket, path: str | os.PathLike) -> None:
    _with_short_path(Path(path), sock.bind)


def connect_unix(sock: socket.socket, path: str | os.PathLike) -> None:
    _with_short_path(Path(path), sock.connect)
