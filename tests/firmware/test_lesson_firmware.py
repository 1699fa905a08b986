"""The real lesson firmware: built by `hil build`, unit-tested on the host, and run in the simulated bench, where
it must answer every command of docs/lesson-protocol.md on UART0 and USB, and halt on a panic with its location.

Skipped when no Rust toolchain for thumbv6m-none-eabi is installed (see docs/firmware.md to install one).
A cold build takes about a minute; later runs reuse it.
"""
from __future__ import annotations

import json
import re
import shutil
import zlib
from pathlib import Path

import pytest

from hil import cli
from hil.deploy.build_id import embedded_build_id
from hil.deploy.elf_image import ElfImage
from hil.deploy.firmware_build import build_firmware
from hil.deploy.rust_toolchain import NoRustToolchain, detect_toolchain
from hil.deploy.uf2 import RP2040_FAMILY_ID, read_uf2
from hil.process import run_tool

REPO = Path(__file__).resolve().parents[2]
FIRMWARE_DIR = REPO / "firmware_rust"
COMMANDS_RS = FIRMWARE_DIR / "lesson" / "src" / "commands.rs"
BUILD_TIMEOUT_S = 1800.0
HOST_TEST_TIMEOUT_S = 600.0
BOOT_TIMEOUT_S = 20.0
ANSWER_TIMEOUT_S = 30.0
HALT_TIMEOUT_S = 10.0


@pytest.fixture(scope="module")
def lesson():
    try:
        detect_toolchain()
    except NoRustToolchain as missing:
        pytest.skip(str(missing))
    return build_firmware("lesson", BUILD_TIMEOUT_S).image


def test_hil_build_reports_the_elf_and_uf2_and_a_second_run_does_nothing(lesson, capsys):
    assert cli.main(["build", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rebuilt"] is False                      # the fixture built it already
    assert Path(report["elf"]) == FIRMWARE_DIR / "target" / "hil-builds" / "lesson" / lesson.build_id / "lesson"
    assert Path(report["uf2"]) == Path(report["elf"]).with_name("lesson.uf2")
    assert report["build_id"] == lesson.build_id
    assert report["toolchain"].split(":")[0] in ("prebuilt", "build-std")


def test_the_built_elf_and_uf2_carry_the_same_build_id(lesson):
    assert embedded_build_id(ElfImage.read(lesson.elf_path)) == lesson.build_id
    family, pages = read_uf2(lesson.uf2_path)
    assert family == RP2040_FAMILY_ID
    assert min(pages) == 0x1000_0000                       # boot2 first, then the vector table at +0x100
    # the id slot may straddle two 256-byte pages: look in the flash image they make up together
    flash = b"".join(pages[address] for address in sorted(pages))
    assert sorted(pages) == list(range(min(pages), min(pages) + 256 * len(pages), 256))
    assert b"LESSONID" + bytes.fromhex(lesson.build_id) in flash


def test_lesson_core_unit_tests_pass_on_the_host(lesson):
    toolchain = detect_toolchain()
    env = toolchain.cargo_env()
    env.pop("RUSTC_BOOTSTRAP", None)
    result = run_tool([toolchain.cargo, "test", "--color", "never"], HOST_TEST_TIMEOUT_S, env=env,
                      cwd=FIRMWARE_DIR, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    passed = sum(int(n) for n in re.findall(r"test result: ok\. (\d+) passed", result.stdout))
    assert passed >= 30


# ---- in the simulated bench ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def board(lesson, tmp_path_factory):
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the simulated bench needs Node.js")
    from tests.sim_rust.board_harness import BoardHarness
    harness = BoardHarness(tmp_path_factory.mktemp("lesson-board"))
    try:
        assert harness.request("load", path=str(lesson.elf_path))["ok"] is True
        yield harness
    finally:
        harness.close()


def boot(board, lesson) -> None:
    board.received["uart"].clear()
    board.received["usb"].clear()
    assert board.request("reset")["state"] == "running"
    board.expect("uart", rb"READY lesson build=" + lesson.build_id.encode() + rb"\n", BOOT_TIMEOUT_S)


def ask(board, link: str, command: str, answer: bytes) -> re.Match:
    board.received[link].clear()
    board.send(link, command.encode() + b"\n")
    return board.expect(link, answer, ANSWER_TIMEOUT_S)


def crc32_of_counting_bytes(size_bytes: int) -> int:
    return zlib.crc32(bytes(i & 0xFF for i in range(size_bytes)))


def test_every_command_is_answered_on_uart0(board, lesson):
    boot(board, lesson)
    uart = "uart"
    assert ask(board, uart, "id", rb"OK id name=lesson version=\d+\.\d+\.\d+ build=([0-9a-f]{16})\n").group(1) \
        == lesson.build_id.encode()
    ask(board, uart, "ping", rb"OK pong\n")
    crc = ask(board, uart, "bench crc32 4096", rb"OK crc32 n=4096 crc=0x([0-9a-f]{8}) us=(\d+)\n")
    assert int(crc.group(1), 16) == crc32_of_counting_bytes(4096)
    assert int(crc.group(2)) > 0
    ask(board, uart, "bench sort 1000", rb"OK sort n=1000 ok=1 us=[1-9]\d*\n")
    ask(board, uart, "bench sieve 100000", rb"OK sieve n=100000 primes=9592 us=[1-9]\d*\n")
    ask(board, uart, "bench fib 30", rb"OK fib n=30 value=832040 us=\d+\n")
    ask(board, uart, "bench fib 800", rb"OK fib n=800 value=398725 us=\d+\n")   # F(800) mod 1,000,000
    ask(board, uart, "parse -123", rb"OK parse value=-123\n")
    ask(board, uart, "parse 12x", rb"ERR parse: invalid digit at position 2\n")
    memory_line = rb"OK mem ram_total=(\d+) stack_free=(\d+) static_used=(\d+) heap_total=(\d+) heap_used=(\d+)\n"
    ram_total, stack_free, static_used, heap_total, heap_used = map(int, ask(board, uart, "mem", memory_line).groups())
    assert ram_total == 256 * 1024 and 0 < static_used < ram_total and 0 < stack_free < ram_total - static_used
    assert heap_total == 40 * 1024 < static_used and heap_used == 0
    jitter = ask(board, uart, "jitter 50", rb"OK jitter n=50 min_us=(\d+) max_us=(\d+) mean_us=(\d+) total_us=\d+\n")
    low, high, mean = map(int, jitter.groups())
    assert 0 < low <= mean <= high
    churn = ask(board, uart, "jitter 50 churn", rb"OK jitter n=50 min_us=(\d+) max_us=(\d+) mean_us=(\d+) "
                                               rb"total_us=\d+ churn=256 heap_max_used=(\d+) heap_used=(\d+)\n")
    low, high, mean, heap_max_used, heap_used = map(int, churn.groups())
    assert 0 < low <= mean <= high
    assert 256 <= heap_max_used <= 2 * 256 + 64 and heap_used == 0   # the last object dropped, by ownership
    churn = ask(board, uart, "jitter 5 churn 16384", rb"OK jitter n=5 [^\n]* churn=16384 heap_max_used=(\d+) "
                                                    rb"heap_used=(\d+)\n")
    assert 16384 <= int(churn.group(1)) <= 2 * 16384 + 64 and int(churn.group(2)) == 0
    assert ask(board, uart, "mem", memory_line).group(5) == b"0"
    ask(board, uart, "jitter 5 gc", rb"ERR jitter: unknown gc, expected one of: churn\n")
    ask(board, uart, "jitter 5 churn 16385", rb"ERR jitter: 16385 out of range 1..=16384\n")
    dual = ask(board, uart, "dual 64", rb"OK dual n=64 single_us=(\d+) dual_us=(\d+) cores=([12]) "
                                       rb"check=0x[0-9a-f]{8}( core1=\S+)?\n")
    single_us, dual_us = int(dual.group(1)), int(dual.group(2))
    if dual.group(3) == b"2":
        # Core 1 ran half of the blocks: the same check value in less time.
        assert dual.group(4) is None and dual_us < single_us
    else:
        # Where core 1 cannot start the firmware says why instead of hanging.
        assert dual.group(4).startswith(b" core1=")
    ask(board, uart, "selfdestruct", rb"ERR selfdestruct: unknown command\n")
    ask(board, uart, "bench sort 5000", rb"ERR bench: 5000 out of range 0..=1000\n")
    ask(board, uart, "ping", rb"OK pong\n")                # still serving after the errors


def test_serial_throughput_commands_move_the_payload_both_ways(board, lesson):
    boot(board, lesson)
    size_bytes = 1000
    payload = bytes(0x41 + i % 26 for i in range(size_bytes))
    sent = ask(board, "uart", f"tx {size_bytes}",
               rb"DATA n=1000\n([A-Z]{1000})\nOK tx n=1000 crc=0x([0-9a-f]{8}) us=\d+\n")
    assert sent.group(1) == payload and int(sent.group(2), 16) == zlib.crc32(payload)
    ask(board, "usb", "rx 300", rb"READY rx n=300\n")
    incoming = bytes(range(256)) + bytes(44)
    board.send("usb", incoming)
    received = board.expect("usb", rb"OK rx n=300 crc=0x([0-9a-f]{8}) us=\d+\n", ANSWER_TIMEOUT_S)
    assert int(received.group(1), 16) == zlib.crc32(incoming)


def test_the_protocol_is_also_served_on_usb_cdc(board, lesson):
    boot(board, lesson)
    board.expect("usb", rb"READY lesson build=" + lesson.build_id.encode() + rb"\n", BOOT_TIMEOUT_S)
    ask(board, "usb", "id", rb"OK id name=lesson version=\S+ build=" + lesson.build_id.encode() + rb"\n")
    ask(board, "usb", "bench crc32 100", rb"OK crc32 n=100 crc=0x%08x us=\d+\n" % crc32_of_counting_bytes(100))


def panic_site(kind: str) -> str:
    for number, line in enumerate(COMMANDS_RS.read_text(encoding="utf-8").splitlines(), start=1):
        if line.rstrip().endswith(f"// PANIC-SITE {kind}"):
            return f"lesson/src/commands.rs:{number}"
    raise AssertionError(f"no PANIC-SITE {kind} marker in {COMMANDS_RS}")


@pytest.mark.parametrize("kind, message", [
    ("unwrap", "called `Option::unwrap()` on a `None` value"),
    ("index", "index out of bounds: the len is 3 but the index is 7"),
    ("explicit", "explicit panic requested by the host"),
])
def test_a_panic_reports_message_and_location_on_both_links_then_halts(board, lesson, kind, message):
    boot(board, lesson)
    board.expect("usb", rb"READY lesson", BOOT_TIMEOUT_S)   # the USB host is attached: it must see the line too
    expected = f"PANIC {message} at {panic_site(kind)}\n".encode()
    ask(board, "uart", f"panic {kind}", re.escape(expected))
    board.expect("usb", re.escape(expected), ANSWER_TIMEOUT_S)
    halt = board.wait_event("halt", HALT_TIMEOUT_S)
    assert halt["reason"] in ("udf", "hardfault")
    assert board.request("status")["state"] == "halted"
