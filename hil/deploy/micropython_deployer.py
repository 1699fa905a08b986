"""Copying scripts onto a MicroPython board, fast, with mpremote's SerialTransport as the wire protocol.

Why it is faster than `mpremote cp -r`: the cost of a transfer over USB is round trips, not bytes. mpremote
sends 256 bytes per command (each command waits for the board twice) and asks about every file separately.
Here:
- one command (which also checks the board runs MicroPython) reports the SHA-256 of every target file on the
  board, so unchanged files cost nothing and the plan is made with one round trip. Hashing a large file on the
  board takes longer than that round trip, so the board keeps a record (`/.hil_hashes.json`: path -> size,
  mtime, hash) written when our deployment verified the file; a file whose size and mtime still match its
  record reports the recorded hash, any other is hashed afresh (and so is every file on a filesystem without
  mtimes). A deployment with nothing changed is then one short command, with no soft reset;
- changed files are sent in large blocks (CHUNK_BYTES), base64-encoded (and zlib-compressed when that makes
  them smaller and the board has `deflate`), each block one raw-paste command, so the raw-paste flow-control
  window is the only limit;
- the written files are hashed afresh in one command, compared with the host's hashes, and recorded.

The board must run MicroPython; anything else (Rust firmware, a silent port) is reported as WrongRuntime, with
how to put MicroPython on it, within the caller's deadline.
"""
from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import posixpath
import struct
import sys
import zlib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterable, Sequence

from hil.deadline import Deadline
from hil.errors import ConfigError, ProvisionError, WrongRuntime

CHUNK_BYTES = 8 * 1024            # raw bytes per command: the board holds ~4x this while decoding (heap ~190 KB)
ZLIB_WINDOW_BITS = 12             # 4 KB decompression window on the board (code compresses ~3.8x)
ZLIB_LEVEL = 9
COMPRESS_MIN_SAVING = 0.1         # compress a block only if that saves at least 10 % of its size
SERIAL_READ_TIMEOUT_S = 1.0       # longest single blocking read inside mpremote (a paste window must come back
                                  # within it); deadlines are shortened by it so they hold
ENTER_REPL_TIMEOUT_S = 5.0
EXEC_TIMEOUT_S = 30.0
# A command that hashes files on the board gets EXEC_TIMEOUT_S plus this much per byte it reads: hashing 2 MB is
# minutes of work for a Pico, not a sign that it stopped answering. Deliberately below what a Pico achieves.
BOARD_HASH_BYTES_PER_S = 20_000
BAUDRATE = 115200                 # ignored by USB CDC; used by a UART-attached REPL
NO_HASHLIB = "?"                  # what the board reports when it cannot hash (no hashlib.sha256)
SKIPPED_NAMES = ("__pycache__",)
IDENTIFY_QUERY = b"\r\nid\r\n"     # a board that ignored the REPL keys may be the Rust lesson firmware
IDENTIFY_TIMEOUT_S = 0.5
IDENTIFY_POLL_S = 0.05
MICROPYTHON_DOWNLOAD = "https://micropython.org/download/RPI_PICO/"
HOW_TO_FLASH_MICROPYTHON = (f"put MicroPython on it: hold BOOTSEL while plugging it in and copy the .uf2 from "
                            f"{MICROPYTHON_DOWNLOAD} to the RPI-RP2 drive")

ProgressText = Callable[[str], None]


@dataclass
class DeployReport:
    """What one deployment did: recorded with the results."""

    board_id: str
    files_total: int
    files_written: list[str] = field(default_factory=list)   # board paths
    files_unchanged: list[str] = field(default_factory=list)
    bytes_written: int = 0           # file bytes (before encoding)
    bytes_sent: int = 0              # bytes of Python sent to carry them
    elapsed_s: float = 0.0           # host clock
    soft_reset_done: bool = False
    verified_all: bool = False       # every board file hashed afresh, the hash record not trusted
    repl_ok: bool = False
    micropython: str = ""            # e.g. "micropython 1.27.0 (Raspberry Pi Pico with RP2040)"
    tool_versions: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"board_id": self.board_id, "files_total": self.files_total, "files_written": self.files_written,
                "files_unchanged": self.files_unchanged, "bytes_written": self.bytes_written,
                "bytes_sent": self.bytes_sent, "elapsed_s": round(self.elapsed_s, 3), "elapsed_clock": "host",
                "soft_reset_done": self.soft_reset_done, "verified_all": self.verified_all, "repl_ok": self.repl_ok, "micropython": self.micropython,
                "tool_versions": dict(self.tool_versions)}


# -- planning (host side, pure) ---------------------------------------------------------------------------------

def plan_files(sources: Iterable[str | Path], dest: str = "/", within: Path | None = None) -> list[tuple[Path, str]]:
    """(local file, board path) pairs: a file goes to dest/<name>, a folder's contents to dest/<relative path>.

    A folder is copied by content (like `mpremote cp -r folder/. :`), so `deploy: [scripts_micropython/lesson]`
    makes `import crc` work on the board. Hidden files and __pycache__ are left out. A link in a folder may lead
    only inside `within` (default: that folder itself); see files_in_folder.
    """
    pairs: dict[str, Path] = {}
    for source in sources:
        path = Path(source)
        if path.is_file():
            pairs[posixpath.join(dest, path.name)] = path
        elif path.is_dir():
            for item in files_in_folder(path, within=path if within is None else within):
                relative = item.relative_to(path)
                if any(p.startswith(".") or p in SKIPPED_NAMES for p in relative.parts):
                    continue
                pairs[posixpath.join(dest, *relative.parts)] = item
        else:
            raise ProvisionError("-", f"nothing to deploy at {path} (no such file or folder)")
    return [(local, remote) for remote, local in pairs.items()]


def files_in_folder(folder: Path, within: Path) -> list[Path]:
    """The regular files under `folder`, sorted; ConfigError for a symbolic link that leads outside `within`.

    A link in a deploy folder to a host file (~/.ssh/id_rsa, /etc/shadow) would otherwise copy that file onto the
    board. Links whose target stays inside `within` are followed; links to folders are not descended into.
    """
    root = Path(within).resolve()
    files = []
    for item in sorted(Path(folder).rglob("*")):
        if item.is_symlink():
            target = item.resolve()
            if not target.is_relative_to(root):
                raise ConfigError(item, None, None, f"is a link to {target}, outside {root}: not deployed "
                                                    f"(copy the file into the folder, or remove the link)")
        if item.is_file():
            files.append(item)
    return files


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class EncodedBlock:
    """One block of a file as the board receives it: base64 text, maybe of zlib-compressed bytes."""

    literal: bytes         # base64, ASCII only: safe inside a bytes literal and on a REPL
    compressed: bool
    raw_size_bytes: int


def encode_blocks(data: bytes, chunk_bytes: int = CHUNK_BYTES, allow_compression: bool = True) -> list[EncodedBlock]:
    """Split `data` into blocks and encode each one the cheapest way the board can decode."""
    blocks = []
    for offset in range(0, len(data), chunk_bytes):
        raw = data[offset:offset + chunk_bytes]
        payload, compressed = raw, False
        if allow_compression:
            packer = zlib.compressobj(ZLIB_LEVEL, zlib.DEFLATED, ZLIB_WINDOW_BITS)
            packed = packer.compress(raw) + packer.flush()
            if len(packed) <= len(raw) * (1 - COMPRESS_MIN_SAVING):
                payload, compressed = packed, True
        blocks.append(EncodedBlock(base64.b64encode(payload), compressed, len(raw)))
    return blocks


def decode_blocks(blocks: Sequence[EncodedBlock]) -> bytes:
    """What the board ends up writing for these blocks (the host-side mirror of the board code)."""
    out = bytearray()
    for block in blocks:
        payload = base64.b64decode(block.literal)
        out += zlib.decompress(payload, ZLIB_WINDOW_BITS) if block.compressed else payload
    return bytes(out)


# -- board-side code (sent as text, never evaluated on the host) -------------------------------------------------

# Defines the helpers the later commands use and reports what the board is. One round trip.
HASH_RECORD = "/.hil_hashes.json"   # board path of the record of verified hashes (see above)
PRELUDE = """\
import sys, gc
try:
    import hashlib, binascii
    def _hh(p):
        try:
            f = open(p, 'rb')
        except OSError:
            return '-'
        h = hashlib.sha256()
        b = bytearray(1024)
        m = memoryview(b)
        while True:
            n = f.readinto(b)
            if not n:
                break
            h.update(m[:n])
        f.close()
        return binascii.hexlify(h.digest()).decode()
except ImportError:
    def _hh(p):
        return '?'
try:
    import deflate, io
    def _dz(s):
        return deflate.DeflateIO(io.BytesIO(s), deflate.ZLIB).read()
    _z = 1
except ImportError:
    _z = 0
from binascii import a2b_base64 as _a
import os
_MF = '@HASH_RECORD@'
def _lm():
    try:
        import json
        with open(_MF) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}
def _sm(p):
    try:
        s = os.stat(p)
        return [s[6], s[8]]
    except OSError:
        return None
def _hs(ps):
    m = _lm()
    for p in ps:
        e = m.get(p)
        k = _sm(p)
        print(e[2] if e and k and k[1] and e[:2] == k else _hh(p))
def _hv(ps):
    import json
    m = _lm()
    for p in ps:
        h = _hh(p)
        k = _sm(p)
        if k and k[1]:
            m[p] = k + [h]
        print(h)
    with open(_MF, 'w') as f:
        json.dump(m, f)
def _md(ds):
    import os
    for d in ds:
        try:
            os.mkdir(d)
        except OSError:
            pass
gc.collect()
print(sys.implementation.name, '.'.join(str(v) for v in sys.implementation.version[:3]), _z)
print(getattr(sys.implementation, '_machine', sys.platform))
""".replace("@HASH_RECORD@", HASH_RECORD)


def hash_command(board_paths: Sequence[str]) -> str:
    """Each file's SHA-256, taken from the board's hash record when the file's size and mtime still match it."""
    return f"_hs({list(board_paths)!r})"


def verify_command(board_paths: Sequence[str]) -> str:
    """Each file's SHA-256 computed afresh, and recorded with its size and mtime for the next deployment."""
    return f"_hv({list(board_paths)!r})"


def mkdir_command(folders: Sequence[str]) -> str:
    return f"_md({list(folders)!r})"


def block_command(board_path: str, block: EncodedBlock, first: bool, last: bool) -> bytes:
    """One raw-paste command that writes one block; the first opens the file, the last closes it."""
    decode = b"_dz(_a(b'" + block.literal + b"'))" if block.compressed else b"_a(b'" + block.literal + b"')"
    parts = []
    if first:
        parts.append(f"_f=open({board_path!r},'wb')".encode())
    parts.append(b"_f.write(" + decode + b")")
    if last:
        parts.append(b"_f.close()")
    return b"\n".join(parts)


def empty_file_command(board_path: str) -> str:
    return f"open({board_path!r},'wb').close()"


def parents_of(board_paths: Iterable[str]) -> list[str]:
    """Every folder above these board paths, outermost first, without the root."""
    folders: list[str] = []
    for path in board_paths:
        parent = posixpath.dirname(path)
        chain = []
        while parent not in ("", "/"):
            chain.append(parent)
            parent = posixpath.dirname(parent)
        for folder in reversed(chain):
            if folder not in folders:
                folders.append(folder)
    return folders


def describe_non_repl_answer(data: bytes) -> str:
    """Words for what a port answered instead of a MicroPython raw REPL."""
    text = data.decode("utf-8", "replace").strip()
    if not text:
        return "no answer on the serial port"
    if "ERR " in text or "OK id" in text or "READY lesson" in text:
        return f"the Rust lesson firmware (it answered {text[-120:]!r})"
    return f"something else (it answered {text[-120:]!r})"


def _mpremote_version() -> str | None:
    try:
        return metadata.version("mpremote")
    except metadata.PackageNotFoundError:
        return None


class MicroPythonDeployer:
    """Copies files onto one MicroPython board through its serial port, skipping files already there."""

    def __init__(self, board_id: str, *, chunk_bytes: int = CHUNK_BYTES, compress: bool = True,
                 verify: bool = False):
        self.board_id = board_id
        self.chunk_bytes = chunk_bytes
        self.compress = compress
        # Hash every file on the board afresh instead of trusting the record's size and mtime (see PRELUDE).
        self.verify = verify

    def version(self) -> str | None:
        found = _mpremote_version()
        return f"mpremote {found}" if found else None

    # -- the one public operation ---------------------------------------------------------------------------

    def deploy(self, port: str, files: Sequence[tuple[Path, str]], timeout_s: float,
               progress: ProgressText | None = None, soft_reset: bool = True,
               verify: bool | None = None) -> DeployReport:
        """Make the board's files equal to `files` ((local path, board path) pairs), then soft reset it and
        check that its REPL answers. Files whose board hash already matches are not written.

        `verify` (default: the deployer's) hashes every file on the board afresh: a file changed with its size
        and mtime kept (flash corruption, a tool that restores mtimes) is then found and rewritten."""
        verify = self.verify if verify is None else verify
        deadline = Deadline(timeout_s)
        wanted = [(Path(local), remote, Path(local).read_bytes()) for local, remote in files]
        report = DeployReport(self.board_id, files_total=len(wanted), verified_all=verify)
        mpremote = self.version()
        if mpremote:
            report.tool_versions["mpremote"] = mpremote
        transport = self._open(port)
        try:
            self._enter_raw_repl(transport, deadline)
            # One round trip answers both "is this MicroPython?" and "what is on the board already?".
            wanted_bytes = sum(len(data) for _, _, data in wanted)
            if progress and verify:
                progress(f"hashing {len(wanted)} files ({wanted_bytes} bytes) on the board")
            implementation, compression_ok, board_hashes = self._prelude_and_hashes(
                transport, [remote for _, remote, _ in wanted], deadline, verify, hashed_bytes=wanted_bytes)
            changed = []
            for (local, remote, data), board_hash in zip(wanted, board_hashes):
                if board_hash == sha256_hex(data):
                    report.files_unchanged.append(remote)
                else:
                    changed.append((local, remote, data))
            if changed:
                folders = parents_of(remote for _, remote, _ in changed)
                if folders:
                    self._exec(transport, mkdir_command(folders), deadline)
                for _local, remote, data in changed:
                    self._write_file(transport, remote, data, compression_ok, deadline, report, progress)
                if progress:
                    progress(f"checking {len(changed)} written files on the board "
                             f"({sum(len(data) for _, _, data in changed)} bytes to hash)")
                self._verify(transport, changed, deadline)
                # Only new code needs a fresh interpreter; with nothing written the prelude already proved the REPL.
                if soft_reset:
                    self._soft_reset(transport, deadline)
                    report.soft_reset_done = True
                report.repl_ok = self._exec(transport, "print(6 * 7)", deadline).strip() == b"42"
                if not report.repl_ok:
                    raise ProvisionError(self.board_id, "the REPL did not answer correctly after the deployment")
            else:
                report.repl_ok = True
            report.micropython = implementation
        finally:
            self._close(transport)
        report.elapsed_s = deadline.elapsed_s
        return report

    def copy_with_mpremote(self, port: str, files: Sequence[tuple[Path, str]], timeout_s: float) -> DeployReport:
        """What a reader of the lesson does instead: a plain `mpremote cp` of each file, then `soft-reset`, through
        mpremote's own command line (argv only). Nothing is skipped or compressed; mpremote's own soft reset on
        entering the raw REPL is part of it, as it is for the reader."""
        from hil.process import run_tool
        report = DeployReport(self.board_id, files_total=len(files))
        mpremote = self.version()
        if mpremote:
            report.tool_versions["mpremote"] = mpremote
        argv = [sys.executable, "-m", "mpremote", "connect", port]
        for local, remote in files:
            argv += ["cp", str(local), ":" + remote, "+"]
        argv += ["soft-reset"]
        result = run_tool(argv, timeout_s, check=False)
        if result.returncode != 0:
            raise ProvisionError(self.board_id, f"mpremote cp failed (exit {result.returncode}): "
                                 f"{(result.stderr or result.stdout).strip()[-300:]}")
        report.files_written = [remote for _, remote in files]
        report.bytes_written = sum(Path(local).stat().st_size for local, _ in files)
        report.soft_reset_done = True
        report.elapsed_s = result.elapsed_s
        return report

    # -- steps ----------------------------------------------------------------------------------------------

    def _open(self, port: str):
        from mpremote.transport import TransportError
        from mpremote.transport_serial import SerialTransport
        try:
            with contextlib.redirect_stdout(io.StringIO()):   # mpremote prints while it waits for a port
                transport = SerialTransport(port, baudrate=BAUDRATE, timeout=SERIAL_READ_TIMEOUT_S)
        except (TransportError, OSError) as error:
            raise ProvisionError(self.board_id, f"cannot open {port}: {error}") from error
        # mpremote polls a port it does not take for a PTY with 10 ms sleeps between reads; its other path blocks
        # on the port (bounded by the read timeout set above), which answers as soon as bytes arrive.
        transport.is_pty = True
        return transport

    def _close(self, transport) -> None:
        try:
            transport.exit_raw_repl()
        except Exception:  # noqa: BLE001 - closing must never hide the error that brought us here
            pass
        try:
            transport.close()
        except Exception:  # noqa: BLE001 - same
            pass

    def _enter_raw_repl(self, transport, deadline: Deadline) -> None:
        from mpremote.transport import TransportError
        said = io.StringIO()   # mpremote prints what it received when it fails: keep it for the message
        try:
            with contextlib.redirect_stdout(said):
                transport.enter_raw_repl(soft_reset=False, timeout_overall=self._wait_budget_s(deadline))
        except (TransportError, OSError) as error:
            received = _bytes_from_repr(said.getvalue().strip())
            if not received.strip():
                received = self._ask_what_it_is(transport, deadline)
            raise WrongRuntime(self.board_id, "a MicroPython REPL", describe_non_repl_answer(received),
                               HOW_TO_FLASH_MICROPYTHON) from error

    @staticmethod
    def _ask_what_it_is(transport, deadline: Deadline) -> bytes:
        """A port silent to the REPL's control keys may still answer a line: the lesson firmware answers `id`."""
        listen = deadline.sub(IDENTIFY_TIMEOUT_S)
        received = b""
        try:
            transport.serial.timeout = IDENTIFY_POLL_S
            transport.serial.write(IDENTIFY_QUERY)
            while not listen.expired:
                received += transport.serial.read(max(1, transport.serial.in_waiting))
                if received.endswith(b"\n") and b"OK id" in received:
                    break
        except (OSError, ValueError):
            pass   # the port went away: "no answer" is then the truth
        return received

    @staticmethod
    def _wait_budget_s(deadline: Deadline, longest_s: float = ENTER_REPL_TIMEOUT_S) -> float:
        """How long one mpremote wait may take so that, with its last blocking read, it ends by the deadline."""
        return max(0.1, min(longest_s, deadline.remaining_s - SERIAL_READ_TIMEOUT_S))

    def _exec(self, transport, command: str | bytes, deadline: Deadline, hashed_bytes: int = 0) -> bytes:
        """Run one command; `hashed_bytes` (what it reads to hash) lengthens its own wait, within the deadline."""
        from mpremote.transport import TransportError
        deadline.check(f"deploying to board {self.board_id!r}")
        longest_s = EXEC_TIMEOUT_S + hashed_bytes / BOARD_HASH_BYTES_PER_S
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                stdout, stderr = transport.exec_raw(command, timeout=self._wait_budget_s(deadline, longest_s))
        except (TransportError, OSError, struct.error) as error:   # struct.error: a short raw-paste header
            if deadline.expired:
                deadline.check(f"deploying to board {self.board_id!r}")
            raise ProvisionError(self.board_id, f"the board stopped answering during deployment: {error}") \
                from error
        if stderr:
            raise ProvisionError(self.board_id, "board-side error during deployment:\n"
                                 + stderr.decode("utf-8", "replace").strip())
        return stdout

    def _prelude_and_hashes(self, transport, board_paths: Sequence[str], deadline: Deadline,
                            verify: bool = False, hashed_bytes: int = 0) -> tuple[str, bool, list[str]]:
        query = verify_command if verify else hash_command
        command = PRELUDE + (query(board_paths) + "\n" if board_paths else "")
        # The fast path may still hash a file whose record does not match; budget for that too.
        lines = self._exec(transport, command, deadline, hashed_bytes).decode("utf-8", "replace").split("\n")
        first = lines[0].split()
        if len(first) < 3 or first[0] != "micropython":
            raise WrongRuntime(self.board_id, "MicroPython", f"a Python REPL reporting {lines[0].strip()!r}",
                               HOW_TO_FLASH_MICROPYTHON)
        machine = lines[1].strip() if len(lines) > 1 else ""
        implementation = f"micropython {first[1]}" + (f" ({machine})" if machine else "")
        hashes = "\n".join(lines[2:]).split()
        if len(hashes) != len(board_paths):
            raise ProvisionError(self.board_id, f"asked for {len(board_paths)} file hashes, got {len(hashes)}")
        return implementation, first[2] == "1" and self.compress, hashes

    def _write_file(self, transport, remote: str, data: bytes, compression_ok: bool, deadline: Deadline,
                    report: DeployReport, progress: ProgressText | None) -> None:
        blocks = encode_blocks(data, self.chunk_bytes, compression_ok)
        if not blocks:
            self._exec(transport, empty_file_command(remote), deadline)
        written_bytes = 0
        for index, block in enumerate(blocks):
            command = block_command(remote, block, first=index == 0, last=index == len(blocks) - 1)
            self._exec(transport, command, deadline)
            report.bytes_sent += len(command)
            written_bytes += block.raw_size_bytes
            if progress:
                progress(f"{remote}: {written_bytes}/{len(data)} bytes")
        report.files_written.append(remote)
        report.bytes_written += len(data)

    def _verify(self, transport, changed: Sequence[tuple[Path, str, bytes]], deadline: Deadline) -> None:
        paths = [remote for _, remote, _ in changed]
        board_hashes = self._exec(transport, verify_command(paths), deadline,
                                  hashed_bytes=sum(len(data) for _, _, data in changed)).decode().split()
        if len(board_hashes) != len(paths):
            raise ProvisionError(self.board_id, f"asked for {len(paths)} file hashes, got {len(board_hashes)}")
        wrong = [remote for (_, remote, data), got in zip(changed, board_hashes)
                 if got not in (sha256_hex(data), NO_HASHLIB)]
        if wrong:
            raise ProvisionError(self.board_id, f"after writing, the board's copy differs for: {', '.join(wrong)}")

    def _soft_reset(self, transport, deadline: Deadline) -> None:
        """Ctrl-D in the raw REPL: a fresh interpreter, so newly written modules are imported anew."""
        from mpremote.transport import TransportError
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                transport.enter_raw_repl(soft_reset=True, timeout_overall=self._wait_budget_s(deadline))
        except (TransportError, OSError) as error:
            raise ProvisionError(self.board_id, f"the board did not come back from a soft reset: {error}") \
                from error


def _bytes_from_repr(text: str) -> bytes:
    """mpremote prints the bytes it received as a Python bytes repr; get the bytes back for the message."""
    if text.startswith(("b'", 'b"')) and text.endswith(("'", '"')):
        body = text[2:-1]
        try:
            return body.encode("latin-1").decode("unicode_escape").encode("latin-1")
        except (UnicodeDecodeError, UnicodeEncodeError):
            return body.encode("utf-8", "replace")
    return text.encode("utf-8", "replace")
