"""A fake board process that follows the board process contract (docs/sim-bench.md), for testing the supervisor.

    python echo_board.py --board-id ID --state-dir DIR [--options-json JSON]

Echoes every byte received on each link (fd 3, and fd 4 if open) back on the same link. Control requests on
stdin: the contract's `status`, `reset` (emits usb-reconnect), `shutdown`, `bootsel`, `run`, `load`, plus test
hooks: `tx` (writes `size_bytes` of a counting pattern on fd 3), `replug` (emits usb-reconnect), `halt` (emits
a halt event), `crash` (exits with code 3), `echo` (returns the request). Every request is appended to DIR/requests.jsonl so tests can see what reached the board. Exits when
stdin closes.
"""
import argparse
import json
import os
import selectors
import stat
import sys
import time

LINK_FDS = (3, 4)
CRASH_EXIT_CODE = 3
FAKE_HALT_PC = 0x10000100


def _send_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--board-id", required=True)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--options-json", default="{}")
    args = parser.parse_args()
    options = json.loads(args.options_json)
    requests_log = open(os.path.join(args.state_dir, "requests.jsonl"), "a")
    state = {"state": "running"}
    started_ns = time.monotonic_ns()

    def emit(message: dict) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    links = []
    for fd in LINK_FDS:   # look before creating anything that could take fd 4
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                links.append(fd)
        except OSError:
            continue
    selector = selectors.DefaultSelector()
    for fd in links:
        os.set_blocking(fd, True)
        selector.register(fd, selectors.EVENT_READ, "link")
    stdin_fd = sys.stdin.fileno()
    selector.register(stdin_fd, selectors.EVENT_READ, "control")
    emit({"event": "log", "text": f"echo board {args.board_id} links={links} serial={options.get('serial_number')}"})
    emit({"event": "ready"})
    pending = b""
    while True:
        for key, _ in selector.select():
            if key.data == "link":
                data = os.read(key.fd, 65536)
                if not data:
                    selector.unregister(key.fd)
                    continue
                if state["state"] == "running":
                    os.write(key.fd, data)
                continue
            data = os.read(stdin_fd, 65536)
            if not data:
                return 0   # the supervisor is gone
            pending += data
            *lines, pending = pending.split(b"\n")
            for line in lines:
                request = json.loads(line)
                requests_log.write(json.dumps(request) + "\n")
                requests_log.flush()
                cmd = request.get("cmd")
                reply = {"id": request.get("id"), "ok": True}
                if cmd == "status":
                    reply.update(state=state["state"], host_time_ns=time.monotonic_ns() - started_ns)
                elif cmd in ("reset", "replug"):
                    state["state"] = "running"
                    emit({"event": "usb-reconnect"})
                elif cmd == "bootsel":
                    state["state"] = "bootsel"
                elif cmd == "run":
                    state["state"] = "running"
                    emit({"event": "usb-reconnect"})
                elif cmd == "load":
                    reply.update(path=request.get("path"))
                elif cmd == "halt":
                    state["state"] = "halted"
                    emit({"event": "halt", "reason": "hardfault", "pc": FAKE_HALT_PC, "message": "fake fault"})
                elif cmd == "crash":
                    return CRASH_EXIT_CODE
                elif cmd == "tx":   # stream size_bytes of a counting pattern on the USB link
                    payload = bytes(i & 0xFF for i in range(256)) * (request["size_bytes"] // 256 + 1)
                    _send_all(links[0], payload[:request["size_bytes"]])
                elif cmd == "echo":
                    reply.update(request=request)
                elif cmd == "shutdown":
                    emit(reply)
                    return 0
                else:
                    reply = {"id": request.get("id"), "ok": False, "error": f"unknown command {cmd!r}"}
                emit(reply)


if __name__ == "__main__":
    sys.exit(main())
