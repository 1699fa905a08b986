"""Running external tools (probe-rs, picotool, cargo, node, ...): argv lists only, always with a deadline.

On timeout the tool's whole process group is killed, so a tool that forked helpers cannot outlive the run.
Every result keeps argv, exit code, stdout and stderr for the error message and the log.
"""
from __future__ import annotations

import os
import re
import selectors
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from hil.errors import ToolFailed, ToolMissing, ToolTimeout

KILL_GRACE_S = 1.0  # after SIGTERM to the group, how long before SIGKILL
READ_CHUNK_BYTES = 65536


@dataclass
class ToolResult:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    elapsed_s: float

    def check(self) -> "ToolResult":
        if self.returncode != 0:
            raise ToolFailed(self.argv, self.returncode, self.stdout, self.stderr)
        return self


def find_tool(name: str, env: Mapping[str, str] | None = None, install_hint: str = "") -> str:
    """Absolute path of `name` on the PATH of `env` (or of this process); ToolMissing if absent."""
    path = (env or os.environ).get("PATH", os.defpath)
    found = shutil.which(name, path=path)
    if not found:
        raise ToolMissing(name, install_hint)
    return found


def stop_process_group(proc: subprocess.Popen, grace_s: float = KILL_GRACE_S) -> None:
    """SIGTERM to the process's group (started with start_new_session), SIGKILL if it has not ended `grace_s`
    later; each wait is bounded by `grace_s`."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, grace_s)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def run_tool(
    argv: Sequence[str],
    timeout_s: float,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike | None = None,
    check: bool = True,
    install_hint: str = "",
    on_output_line: Callable[[str, str], None] | None = None,
    stdin_bytes: bytes | None = None,
) -> ToolResult:
    """Run `argv` with a host-side deadline and return its result.

    `on_output_line(stream, line)` is called for each line as it arrives ("stdout"/"stderr"), which is how
    long work (flashing, building) shows progress. Raises ToolMissing if argv[0] is not found, ToolTimeout if the
    deadline passes (the process group is killed), and ToolFailed on a non-zero exit when `check` is true.
    """
    argv = [str(a) for a in argv]
    if not argv:
        raise ValueError("run_tool: empty argv")
    executable = argv[0] if os.sep in argv[0] else find_tool(argv[0], env, install_hint)
    if not os.path.exists(executable):
        raise ToolMissing(argv[0], install_hint)
    start = time.monotonic()
    proc = subprocess.Popen(
        [executable, *argv[1:]],
        stdin=subprocess.PIPE if stdin_bytes is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        start_new_session=True,  # its own process group, so a timeout kills everything it started
    )
    if stdin_bytes is not None:
        try:
            proc.stdin.write(stdin_bytes)
            proc.stdin.close()
        except BrokenPipeError:
            pass
    chunks: dict[str, list[bytes]] = {"stdout": [], "stderr": []}
    pending: dict[str, bytes] = {"stdout": b"", "stderr": b""}
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ, "stdout")
    selector.register(proc.stderr, selectors.EVENT_READ, "stderr")
    deadline_at = start + timeout_s
    timed_out = False
    try:
        while selector.get_map():
            remaining_s = deadline_at - time.monotonic()
            if remaining_s <= 0:
                timed_out = True
                break
            for key, _ in selector.select(timeout=min(remaining_s, 0.5)):
                name = key.data
                data = os.read(key.fileobj.fileno(), READ_CHUNK_BYTES)
                if not data:
                    selector.unregister(key.fileobj)
                    continue
                chunks[name].append(data)
                if on_output_line:
                    pending[name] += data
                    # Progress bars redraw with "\r": treat it as a line end so progress shows as it happens.
                    *lines, pending[name] = re.split(rb"\r\n|\n|\r", pending[name])
                    for line in lines:
                        if line:
                            on_output_line(name, line.decode("utf-8", "replace"))
        if not timed_out:
            try:
                proc.wait(timeout=max(0.0, deadline_at - time.monotonic()))
            except subprocess.TimeoutExpired:
                timed_out = True
    finally:
        selector.close()
        if timed_out or proc.poll() is None:
            stop_process_group(proc)
        for stream in (proc.stdout, proc.stderr):
            stream.close()
    stdout = b"".join(chunks["stdout"]).decode("utf-8", "replace")
    stderr = b"".join(chunks["stderr"]).decode("utf-8", "replace")
    if on_output_line:
        for name, rest in pending.items():
            if rest:
                on_output_line(name, rest.decode("utf-8", "replace").rstrip("\r"))
    if timed_out:
        raise ToolTimeout(argv, timeout_s, stdout, stderr)
    result = ToolResult(argv, proc.returncode, stdout, stderr, time.monotonic() - start)
    return result.check() if check else result


def tool_version(argv: Sequence[str], timeout_s: float = 10.0, env: Mapping[str, str] | None = None,
                 runner: Callable[..., ToolResult] = run_tool) -> str | None:
    """First non-empty output line of a version command, or None if the tool is missing or fails.

    `runner` runs it (run_tool's signature): another host's runner asks the tool there."""
    try:
        result = runner(argv, timeout_s, env=env, check=False)
    except (ToolMissing, ToolTimeout, OSError):
        return None
    if result.returncode != 0:
        return None
    for line in (result.stdout + "\n" + result.stderr).splitlines():
        if line.strip():
            return line.strip()
    return None
