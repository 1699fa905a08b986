"""Exec shim between the supervisor and a board process (run by path with `python -I`, imports nothing of hil).

It asks Linux to kill it when the supervisor dies (PR_SET_PDEATHSIG survives exec), moves the link sockets to
the fd numbers the board process contract promises (3, 4), and execs the board process in its place.

    python -I board_launcher.py --parent-pid PID --fd SRC:DST [--fd SRC:DST] -- ARGV...
"""
import ctypes
import fcntl
import os
import signal
import sys

PR_SET_PDEATHSIG = 1
HIGH_FD_FLOOR = 32   # park fds above any target number before placing them, so no move clobbers another


def main(argv: list[str]) -> int:
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1:]
    parent_pid = None
    moves = []
    for flag, value in zip(options[::2], options[1::2]):
        if flag == "--parent-pid":
            parent_pid = int(value)
        elif flag == "--fd":
            src, dst = value.split(":")
            moves.append((int(src), int(dst)))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        print("board_launcher: prctl(PR_SET_PDEATHSIG) failed", file=sys.stderr)
    if parent_pid is not None and os.getppid() != parent_pid:
        return 1   # the supervisor died before the death signal was armed
    parked = [(fcntl.fcntl(src, fcntl.F_DUPFD_CLOEXEC, HIGH_FD_FLOOR), dst) for src, dst in moves]
    for src, _ in moves:
        os.close(src)
    for tmp, dst in parked:
        os.dup2(tmp, dst, inheritable=True)
        os.close(tmp)
    os.execvp(command[0], command)
    return 127


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
