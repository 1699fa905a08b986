"""End to end with the lesson firmware (firmware_rust/, built by `hil build`): flashed by the stand-ins onto the
simulated bench, answering on its USB CDC serial port, and halting on a panic. Skipped when it is not built."""
from __future__ import annotations

import random
import re
import threading
import zlib

import pytest
import serial

from hil.deadline import Deadline
from hil.deploy.firmware_build import latest_build
from hil.process import run_tool
from tests.sim_rust.board_harness import REPO
from tests.sim_rust.serial_ask import ask

_LESSON = latest_build("lesson", REPO)           # as `hil build` stored it, or None
STORE_DIR = REPO / "firmware_rust" / "target" / "hil-builds" / "lesson"
LESSON_ELF = _LESSON.image.elf_path if _LESSON else STORE_DIR / "lesson"
LESSON_UF2 = _LESSON.image.uf2_path if _LESSON else STORE_DIR / "lesson.uf2"
TOOL_TIMEOUT_S = 60.0
ANSWER_TIMEOUT_S = 30.0
RX_BYTES = 4096
RX_SEED = 5
SERIAL_READ_TIMEOUT_S = 5.0
IDENTIFY = (b"id\n", rb"OK id name=lesson version=\S+ build=[0-9a-f]{16}")

needs_elf = pytest.mark.skipif(not LESSON_ELF.is_file(), reason=f"lesson firmware not built ({LESSON_ELF})")
needs_uf2 = pytest.mark.skipif(not LESSON_UF2.is_file(), reason=f"lesson UF2 not built ({LESSON_UF2})")


def copy_of(path, tmp_path):
    """Flash a snapshot: the build may replace the file while the test runs."""
    copy = tmp_path / (path.name if path.suffix else path.name + ".elf")
    copy.write_bytes(path.read_bytes())
    return copy


@needs_elf
def test_probe_rs_download_and_reset_bring_up_the_lesson_firmware_on_usb(sim_bench, tmp_path):
    board = sim_bench.board(0)
    elf = copy_of(LESSON_ELF, tmp_path)
    env = sim_bench.env()
    run_tool(["probe-rs", "download", "--chip", "RP2040", "--probe", board["probe"], "--non-interactive",
              "--verify", str(elf)], TOOL_TIMEOUT_S, env=env)
    run_tool(["probe-rs", "reset", "--chip", "RP2040", "--probe", board["probe"], "--non-interactive"],
             TOOL_TIMEOUT_S, env=env)
    assert ask(sim_bench.usb_port(board), *IDENTIFY, ANSWER_TIMEOUT_S)
    assert sim_bench.status(board)["usb_configured"] is True


@needs_elf
def test_probe_rs_run_ends_with_exit_code_1_and_the_message_when_the_firmware_panics(sim_bench, tmp_path):
    board = sim_bench.board(1)
    elf = copy_of(LESSON_ELF, tmp_path)
    outcome: dict = {}

    def run() -> None:
        outcome["result"] = run_tool(["probe-rs", "run", "--chip", "RP2040", "--probe", board["probe"], str(elf)],
                                     TOOL_TIMEOUT_S, env=sim_bench.env(), check=False)

    runner = threading.Thread(target=run)
    runner.start()
    assert ask(sim_bench.usb_port(board), *IDENTIFY, ANSWER_TIMEOUT_S)
    ask(sim_bench.usb_port(board), b"panic explicit\n", rb"PANIC [^\r\n]*", ANSWER_TIMEOUT_S)
    runner.join(TOOL_TIMEOUT_S)
    assert not runner.is_alive(), f"probe-rs run did not end within {TOOL_TIMEOUT_S} s of the panic"
    result = outcome["result"]
    assert result.returncode == 1
    # the stand-in prints only RTT (as probe-rs over SWD), read from the halted board's RAM: message and location
    panic_line = r"^PANIC explicit panic requested by the host at lesson/src/commands\.rs:\d+$"
    assert re.search(panic_line, result.stdout, re.M), result.stdout
    assert sim_bench.status(board)["state"] == "halted"
    assert "Firmware exited unexpectedly: Exception" in result.stderr


@needs_uf2
def test_picotool_load_x_of_the_lesson_uf2_brings_it_up_through_bootsel(sim_bench, tmp_path):
    board = sim_bench.board(0)
    uf2 = copy_of(LESSON_UF2, tmp_path)
    result = run_tool(["picotool", "load", "-v", "-x", "--ser", board["serial_number"], str(uf2)], TOOL_TIMEOUT_S,
                      env=sim_bench.env())
    assert "The device was rebooted to start the application." in result.stdout
    assert ask(sim_bench.usb_port(board), *IDENTIFY, ANSWER_TIMEOUT_S)


@needs_elf
def test_bytes_sent_to_the_usb_port_reach_the_firmware_intact(sim_bench, tmp_path):
    board = sim_bench.board(0)
    elf = copy_of(LESSON_ELF, tmp_path)
    env = sim_bench.env()
    run_tool(["probe-rs", "download", "--chip", "RP2040", "--probe", board["probe"], str(elf)], TOOL_TIMEOUT_S,
             env=env)
    run_tool(["probe-rs", "reset", "--chip", "RP2040", "--probe", board["probe"]], TOOL_TIMEOUT_S, env=env)
    ask(sim_bench.usb_port(board), *IDENTIFY, ANSWER_TIMEOUT_S)
    payload = bytes(random.Random(RX_SEED).randrange(256) for _ in range(RX_BYTES))
    with serial.Serial(str(sim_bench.usb_port(board)), timeout=SERIAL_READ_TIMEOUT_S) as port:
        port.write(f"rx {RX_BYTES}\n".encode())
        assert port.read_until(b"\n").startswith(f"READY rx n={RX_BYTES}".encode())
        port.write(payload)
        deadline = Deadline(ANSWER_TIMEOUT_S)
        answer = b""
        while b"OK rx" not in answer and not deadline.expired:
            answer += port.read_until(b"\n")
    assert f"OK rx n={RX_BYTES} crc=0x{zlib.crc32(payload):08x}".encode() in answer
