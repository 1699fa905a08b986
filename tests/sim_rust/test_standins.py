"""The `probe-rs` and `picotool` stand-ins, run as the framework runs the real tools (argv lists, PATH and
HIL_SIM_DIR from the bench), against the simulated bench's supervisor and its Rust boards."""
from __future__ import annotations

import os
import time

import pytest

from hil.deploy.tool_output import parse_probe_rs_list
from hil.errors import DeadlineExpired
from hil.process import run_tool
from tests.sim_rust import thumb_image
from tests.sim_rust.board_harness import STANDINS_DIR
from tests.sim_rust.serial_ask import ask, silent_for

TOOL_TIMEOUT_S = 30.0
ANSWER_TIMEOUT_S = 15.0
SILENCE_S = 1.5
PICOTOOL_NO_DEVICE = 249
PROBE_RS_USAGE_ERROR = 2


def tool(bench, *argv: str, check: bool = False):
    return run_tool(list(argv), TOOL_TIMEOUT_S, env=bench.env(), check=check)


def uart_port(bench, board):
    return bench.sim_dir / f"{board['id']}.uart0"


# ---- probe-rs ---------------------------------------------------------------------------------------------

def test_probe_rs_list_shows_each_simulated_probe_in_the_real_format(sim_bench):
    result = tool(sim_bench, "probe-rs", "list", check=True)
    assert result.stdout.startswith("The following debug probes were found:\n")
    listed = parse_probe_rs_list(result.stdout)
    assert [p.selector for p in listed] == [b["probe"] for b in sim_bench.boards]
    assert all(p.vid_pid == "2e8a:000c" and p.probe_type == "CMSIS-DAP" for p in listed)


def test_probe_rs_list_without_a_simulated_bench_finds_no_probes(tmp_path):
    env_without_bench = {"PATH": f"{STANDINS_DIR}{os.pathsep}{os.environ['PATH']}", "HIL_SIM_DIR": str(tmp_path)}
    result = run_tool(["probe-rs", "list"], TOOL_TIMEOUT_S, env=env_without_bench)
    assert result.stdout == "No debug probes were found.\n"


def test_probe_rs_version_looks_like_the_real_one(sim_bench):
    result = tool(sim_bench, "probe-rs", "--version", check=True)
    assert result.stdout.startswith("probe-rs 0.32.0 (git commit: hil-sim stand-in)")


def test_probe_rs_download_leaves_the_core_halted_and_reset_starts_the_firmware(sim_bench, images):
    board = sim_bench.board(0)
    elf = images.write("echo", thumb_image.echo_firmware())["elf"]
    tool(sim_bench, "probe-rs", "download", "--chip", "RP2040", "--probe", board["probe"], "--non-interactive",
         "--verify", str(elf), check=True)
    assert sim_bench.status(board)["state"] in ("idle", "bootsel")
    tool(sim_bench, "probe-rs", "reset", "--chip", "RP2040", "--probe", board["probe"], "--non-interactive",
         check=True)
    assert ask(uart_port(sim_bench, board), b"hello\n", rb"hello\n", ANSWER_TIMEOUT_S)
    assert sim_bench.status(sim_bench.board(1))["state"] == "bootsel"  # the other board was not touched


def test_probe_rs_download_reports_finished_like_the_real_tool_when_piped(sim_bench, images):
    board = sim_bench.board(0)
    elf = images.write("echo", thumb_image.echo_firmware())["elf"]
    result = tool(sim_bench, "probe-rs", "download", "--chip", "RP2040", "--probe", board["probe"],
                  "--non-interactive", "--binary-format", "elf", str(elf), check=True)
    assert "Finished in" in result.stderr


def test_probe_rs_run_of_a_panicking_image_without_rtt_exits_1_and_shows_no_serial_text(sim_bench, images):
    """This image has no `_SEGGER_RTT`: its panic line goes to the UART only, which probe-rs cannot see."""
    board = sim_bench.board(1)
    elf = images.write("panic", thumb_image.panic_udf_firmware("explicit at src/main.rs:12"))["elf"]
    result = tool(sim_bench, "probe-rs", "run", "--chip", "RP2040", "--probe", board["probe"], str(elf))
    assert result.returncode == 1
    assert "PANIC explicit" not in result.stdout + result.stderr
    assert "Firmware exited unexpectedly: Exception" in result.stderr
    assert sim_bench.status(board)["halt"]["reason"] == "udf"


@pytest.mark.parametrize("success, exit_code", [(True, 0), (False, 1)])
def test_probe_rs_run_ends_with_the_status_of_a_semihosting_exit(sim_bench, images, success, exit_code):
    board = sim_bench.board(0)
    elf = images.write("exit", thumb_image.semihosting_exit_firmware(success))["elf"]
    result = tool(sim_bench, "probe-rs", "run", "--chip", "RP2040", "--probe", board["probe"], str(elf))
    assert result.returncode == exit_code
    assert "Firmware exited unexpectedly" not in result.stderr


def test_probe_rs_needs_probe_selection_when_several_probes_are_attached(sim_bench, images):
    elf = images.write("echo", thumb_image.echo_firmware())["elf"]
    result = tool(sim_bench, "probe-rs", "download", "--chip", "RP2040", "--non-interactive", str(elf))
    assert result.returncode == 1
    assert result.stderr.startswith("Error: The following devices were found:\n[0]: Debug Probe (CMSIS-DAP) -- "
                                    "2e8a:000c-0:")
    assert "Use '--probe VID:PID' or '--probe VID:PID:Serial' to select one." in result.stderr


def test_probe_rs_with_an_unknown_probe_serial_fails(sim_bench, images):
    elf = images.write("echo", thumb_image.echo_firmware())["elf"]
    result = tool(sim_bench, "probe-rs", "download", "--chip", "RP2040", "--probe", "2e8a:000c:NOSUCHPROBE",
                  str(elf))
    assert result.returncode == 1
    assert result.stderr == "Error: No connected probes were found.\n"


def test_probe_rs_download_of_a_missing_file_fails(sim_bench, tmp_path):
    board = sim_bench.board(0)
    result = tool(sim_bench, "probe-rs", "download", "--chip", "RP2040", "--probe", board["probe"],
                  str(tmp_path / "missing.elf"))
    assert result.returncode == 1
    assert "missing.elf" in result.stderr


def test_probe_rs_rejects_an_unknown_option_as_a_usage_error(sim_bench):
    result = tool(sim_bench, "probe-rs", "download", "--no-such-option", "x.elf")
    assert result.returncode == PROBE_RS_USAGE_ERROR
    assert result.stderr.startswith("error: ")


def test_a_silent_firmware_is_unresponsive_by_the_host_deadline_not_hung(sim_bench, images):
    board = sim_bench.board(0)
    elf = images.write("spin", thumb_image.silent_spin_firmware())["elf"]
    tool(sim_bench, "probe-rs", "download", "--chip", "RP2040", "--probe", board["probe"], str(elf), check=True)
    tool(sim_bench, "probe-rs", "reset", "--chip", "RP2040", "--probe", board["probe"], check=True)
    started = time.monotonic()
    with pytest.raises(DeadlineExpired):
        ask(uart_port(sim_bench, board), b"id\n", rb"OK id", SILENCE_S)
    assert time.monotonic() - started < SILENCE_S + 1.0
    status = sim_bench.status(board)
    assert status["state"] == "running" and status["halt"] is None
    # the board is still under control: a new image goes on and answers
    echo = images.write("echo", thumb_image.echo_firmware())["elf"]
    tool(sim_bench, "probe-rs", "download", "--chip", "RP2040", "--probe", board["probe"], str(echo), check=True)
    tool(sim_bench, "probe-rs", "reset", "--chip", "RP2040", "--probe", board["probe"], check=True)
    assert ask(uart_port(sim_bench, board), b"back\n", rb"back\n", ANSWER_TIMEOUT_S)


# ---- picotool ---------------------------------------------------------------------------------------------

def test_picotool_version_looks_like_the_real_one(sim_bench):
    assert tool(sim_bench, "picotool", "version", check=True).stdout.startswith("picotool v2.1.1 (Linux, hil-sim stand-in)")


def test_picotool_load_needs_a_board_in_bootsel_unless_forced(sim_bench, images):
    board = sim_bench.board(0)
    paths = images.write("echo", thumb_image.echo_firmware())
    tool(sim_bench, "picotool", "load", "-v", "-x", "--ser", board["serial_number"], str(paths["uf2"]), check=True)
    assert sim_bench.wait_state(board, "running")["state"] == "running"
    result = tool(sim_bench, "picotool", "load", "-v", "-x", "--ser", board["serial_number"], str(paths["uf2"]))
    assert result.returncode == PICOTOOL_NO_DEVICE
    assert (f"No accessible RP-series devices in BOOTSEL mode were found with serial number "
            f"{board['serial_number']}.") in result.stdout
    assert "consider -f" in result.stdout


def test_picotool_load_x_of_a_uf2_in_bootsel_starts_the_firmware(sim_bench, images):
    board = sim_bench.board(1)
    uf2 = images.write("echo", thumb_image.echo_firmware())["uf2"]
    result = tool(sim_bench, "picotool", "load", "-v", "-x", "--ser", board["serial_number"], str(uf2), check=True)
    assert "Loading into Flash:" in result.stdout and "  OK" in result.stdout
    assert "The device was rebooted to start the application." in result.stdout
    assert ask(uart_port(sim_bench, board), b"uf2\n", rb"uf2\n", ANSWER_TIMEOUT_S)


def test_picotool_load_f_reboots_a_running_board_into_bootsel_first(sim_bench, images):
    board = sim_bench.board(0)
    echo = images.write("echo", thumb_image.echo_firmware())["uf2"]
    tool(sim_bench, "picotool", "load", "-x", "--ser", board["serial_number"], str(echo), check=True)
    sim_bench.wait_state(board, "running")
    panic = images.write("panic", thumb_image.panic_udf_firmware("after forced load"))["uf2"]
    result = tool(sim_bench, "picotool", "load", "-f", "-x", "--ser", board["serial_number"], str(panic),
                  check=True)
    assert f"Tracking device serial number {board['serial_number']} for reboot" in result.stdout
    assert sim_bench.wait_state(board, "halted")["halt"]["message"] == "PANIC after forced load"


def test_picotool_reboot_u_f_enters_bootsel_and_reboot_leaves_it(sim_bench, images):
    board = sim_bench.board(0)
    echo = images.write("echo", thumb_image.echo_firmware())["elf"]
    tool(sim_bench, "picotool", "load", "-x", "--ser", board["serial_number"], str(echo), check=True)
    sim_bench.wait_state(board, "running")
    tool(sim_bench, "picotool", "reboot", "-u", "-f", "--ser", board["serial_number"], check=True)
    assert sim_bench.wait_state(board, "bootsel")["state"] == "bootsel"
    info = tool(sim_bench, "picotool", "info", "-a", "--ser", board["serial_number"], check=True)
    assert "Program Information" in info.stdout and "binary start:  0x10000000" in info.stdout
    tool(sim_bench, "picotool", "reboot", "--ser", board["serial_number"], check=True)
    assert sim_bench.wait_state(board, "running")["state"] == "running"
    assert ask(uart_port(sim_bench, board), b"again\n", rb"again\n", ANSWER_TIMEOUT_S)


def test_picotool_without_a_simulated_bench_finds_no_device(tmp_path):
    env_without_bench = {"PATH": f"{STANDINS_DIR}{os.pathsep}{os.environ['PATH']}", "HIL_SIM_DIR": str(tmp_path)}
    result = run_tool(["picotool", "info"], TOOL_TIMEOUT_S, env=env_without_bench, check=False)
    assert result.returncode == PICOTOOL_NO_DEVICE
    assert result.stdout.startswith("No accessible RP-series devices in BOOTSEL mode were found.")


def test_a_silent_board_stays_silent(sim_bench, images):
    board = sim_bench.board(1)
    elf = images.write("spin", thumb_image.silent_spin_firmware())["elf"]
    tool(sim_bench, "picotool", "load", "-x", "--ser", board["serial_number"], str(elf), check=True)
    sim_bench.wait_state(board, "running")
    assert silent_for(uart_port(sim_bench, board), b"id\n", 0.5) == b""


def test_two_boards_in_bootsel_are_told_apart_by_flash_id_with_ser(sim_bench, images):
    first, second = sim_bench.board(0), sim_bench.board(1)
    echo = images.write("echo", thumb_image.echo_firmware())["uf2"]
    for board in (first, second):
        tool(sim_bench, "picotool", "load", "-x", "--ser", board["serial_number"], str(echo), check=True)
        sim_bench.wait_state(board, "running")
        tool(sim_bench, "picotool", "reboot", "-u", "-f", "--ser", board["serial_number"], check=True)
        sim_bench.wait_state(board, "bootsel")
    unselected = tool(sim_bench, "picotool", "info", "-d")
    assert "Multiple RP-series devices in BOOTSEL mode found - use --ser to select one" in unselected.stdout
    info = tool(sim_bench, "picotool", "info", "-d", "--ser", second["serial_number"], check=True)
    assert f"flash id:             0x{second['serial_number'].upper()}" in info.stdout
    tool(sim_bench, "picotool", "load", "-x", "--ser", second["serial_number"], str(echo), check=True)
    assert sim_bench.wait_state(second, "running")["state"] == "running"
    assert sim_bench.status(first)["state"] == "bootsel"     # the other board was not touched
