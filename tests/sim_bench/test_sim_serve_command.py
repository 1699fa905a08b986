"""`hil sim serve`: the simulated bench in the foreground, one line per board, stopped by Ctrl-C."""
import json
import os
import signal
import subprocess
import sys

import serial

from tests.sim_bench.sim_helpers import REPO_ROOT, echo_board_commands, process_alive, wait_until
from hil.sim.control_client import ControlClient

START_TIMEOUT_S = 15.0
EXIT_TIMEOUT_S = 10.0
# `hil sim ...` through the subcommand module's own contract (add_parser / run), as hil/cli.py mounts it,
# with the CLI's one-line error handling.
HIL_SIM = [sys.executable, "-c", (
    "import argparse, sys\n"
    "from hil.sim import sim_command as sim\n"
    "from hil.errors import HilError\n"
    "parser = argparse.ArgumentParser(prog='hil')\n"
    "sim.add_parser(parser.add_subparsers(dest='command'))\n"
    "args = parser.parse_args(sys.argv[1:])\n"
    "try:\n"
    "    sys.exit(args.func(args))\n"
    "except HilError as error:\n"
    "    print(f'hil sim: {error}', file=sys.stderr)\n"
    "    sys.exit(1)\n")]


def test_serve_prints_one_line_per_board_and_stops_on_ctrl_c(sim_dir):
    argv = [*HIL_SIM, "sim", "serve", "--rust", "1", "--micropython", "2",
            "--sim-dir", str(sim_dir), "--board-command-json", json.dumps(echo_board_commands())]
    serve = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT,
                             env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))
    try:
        lines = [serve.stdout.readline().split() for _ in range(3)]
        assert lines == [["sim-rust-0", "rust", str(sim_dir.resolve() / "sim-rust-0.usb")],
                         ["sim-mpy-0", "micropython", str(sim_dir.resolve() / "sim-mpy-0.usb")],
                         ["sim-mpy-1", "micropython", str(sim_dir.resolve() / "sim-mpy-1.usb")]]
        wait_until(lambda: all(b["process_state"] == "ready" for b in ControlClient(sim_dir).list_boards(2.0)),
                   START_TIMEOUT_S, "boards ready")
        pids = [b["pid"] for b in ControlClient(sim_dir).list_boards(2.0)]
        with serial.Serial(lines[1][2], 115200, timeout=2.0) as port:
            port.write(b"hi")
            assert port.read(2) == b"hi"
        assert ControlClient(sim_dir).ping(2.0)["started_by"] == "serve"

        serve.send_signal(signal.SIGINT)
        assert serve.wait(EXIT_TIMEOUT_S) == 0
        assert not any(process_alive(pid) for pid in pids)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
        serve.stdout.close()
        serve.stderr.close()


def test_serve_refuses_a_sim_dir_another_supervisor_serves(start_supervisor):
    supervisor = start_supervisor("--rust", "0", "--micropython", "1")
    result = subprocess.run([*HIL_SIM, "sim", "serve", "--sim-dir", str(supervisor.sim_dir),
                             "--board-command-json", json.dumps(echo_board_commands())],
                            capture_output=True, text=True, timeout=EXIT_TIMEOUT_S, cwd=REPO_ROOT,
                            env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))
    assert result.returncode == 1
    assert "already runs" in result.stderr


def test_serve_takes_its_boards_and_link_from_a_sim_bench_file(sim_dir, tmp_path):
    bench_file = tmp_path / "lab.yaml"
    bench_file.write_text("kind: sim\nlink: none\nboards:\n  - {id: pico-a, runtime: micropython}\n")
    argv = [*HIL_SIM, "sim", "serve", "--bench", str(bench_file), "--sim-dir", str(sim_dir),
            "--board-command-json", json.dumps(echo_board_commands())]
    serve = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO_ROOT,
                             env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))
    try:
        assert serve.stdout.readline().split() == ["pico-a", "micropython", str(sim_dir.resolve() / "pico-a.usb")]
        listing = ControlClient(sim_dir).request({"cmd": "list"}, 5.0)
        assert [b["id"] for b in listing["boards"]] == ["pico-a"]
        assert listing["link"]["name"] == "none"
    finally:
        serve.send_signal(signal.SIGINT)
        serve.wait(EXIT_TIMEOUT_S)
        serve.stdout.close()
