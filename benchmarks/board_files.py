"""Files on a MicroPython board, through mpremote's transport: their SHA-256 computed by the board itself
(hashlib), an independent check that a copy, ours or mpremote's, put the right bytes there; and removing a
benchmark's folder afterwards (a Pico's filesystem holds about 1.4 MB)."""
from __future__ import annotations

import contextlib
import hashlib
import io
import posixpath
from pathlib import Path

SERIAL_READ_TIMEOUT_S = 1.0

HASH_FILES = """\
import hashlib, binascii
def _h(p):
    try:
        f = open(p, 'rb')
    except OSError:
        return '-'
    h = hashlib.sha256()
    while True:
        b = f.read(1024)
        if not b:
            break
        h.update(b)
    f.close()
    return binascii.hexlify(h.digest()).decode()
for _p in {paths!r}:
    print(_h(_p))
"""


REMOVE_FOLDER = """\
import os
def _rm(p):
    for entry in os.ilistdir(p):
        child = p + '/' + entry[0]
        if entry[1] & 0x4000:
            _rm(child)
        else:
            os.remove(child)
    os.rmdir(p)
_rm({path!r})
"""


def _exec(port: str, code: str, timeout_s: float, what: str) -> str:
    from mpremote.transport_serial import SerialTransport
    with contextlib.redirect_stdout(io.StringIO()):   # mpremote prints while it waits for a port
        transport = SerialTransport(port, baudrate=115200, timeout=SERIAL_READ_TIMEOUT_S)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            transport.enter_raw_repl(soft_reset=False, timeout_overall=timeout_s)
            stdout, stderr = transport.exec_raw(code, timeout=timeout_s)
        if stderr:
            raise RuntimeError(f"{what} on the board failed: {stderr.decode('utf-8', 'replace').strip()}")
        return stdout.decode()
    finally:
        with contextlib.suppress(Exception):
            transport.exit_raw_repl()
        transport.close()


def board_sha256(port: str, board_paths: list[str], timeout_s: float) -> dict[str, str]:
    """{board path: hex digest or '-' if missing}, as the board computes them."""
    digests = _exec(port, HASH_FILES.format(paths=list(board_paths)), timeout_s, "hashing").split()
    return dict(zip(board_paths, digests))


def remove_folder(port: str, board_folder: str, timeout_s: float) -> None:
    _exec(port, REMOVE_FOLDER.format(path=board_folder), timeout_s, f"removing {board_folder}")


def expected_sha256(tree: Path, board_dest: str) -> dict[str, str]:
    """{board path: hex digest} for a local tree copied into board_dest."""
    tree = Path(tree)
    return {posixpath.join(board_dest, *path.relative_to(tree).parts): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(tree.rglob("*")) if path.is_file()}


def mismatches(tree: Path, board_dest: str, port: str, timeout_s: float) -> list[str]:
    """Board paths whose board hash differs from the local file (empty: the copy is exact)."""
    expected = expected_sha256(tree, board_dest)
    found = board_sha256(port, list(expected), timeout_s)
    return [path for path, digest in expected.items() if found.get(path) != digest]
