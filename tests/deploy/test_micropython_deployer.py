"""MicroPythonDeployer: files land on the board byte for byte, unchanged files are never rewritten, and a port
that is not a MicroPython REPL is reported as such within the deadline."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hil.board.board import ProvisionArtifacts
from hil.board.board_factory import make_board
from hil.deploy.micropython_deployer import (
    CHUNK_BYTES, HASH_RECORD, MicroPythonDeployer, block_command, decode_blocks, encode_blocks, parents_of, plan_files,
)
from hil.errors import ConfigError, DeadlineExpired, ProvisionError, WrongRuntime
from hil.scenario.artifacts import Artifacts
from tests.core.one_port_bench import OnePortBench
from tests.deploy.fake_micropython_board import FakeMicroPythonBoard, FakeRustFirmware

SUBPROCESS_TIMEOUT_S = 60.0

BIG_FILE_BYTES = 100 * 1024


@pytest.fixture
def board(tmp_path):
    fake = FakeMicroPythonBoard(tmp_path / "board")
    yield fake
    fake.close()


@pytest.fixture
def scripts(tmp_path) -> Path:
    root = tmp_path / "lesson"
    (root / "kernels").mkdir(parents=True)
    (root / "main_helpers.py").write_text("def answer():\n    return 42\n")
    (root / "kernels" / "crc.py").write_text("def crc32(data):\n    return 0\n" * 50)
    (root / "kernels" / "table.bin").write_bytes(os.urandom(BIG_FILE_BYTES))
    (root / "empty.py").write_text("")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "x.pyc").write_bytes(b"junk")
    (root / ".hidden").write_text("no")
    return root


def test_plan_maps_a_folder_by_content_and_leaves_out_caches_and_hidden_files(scripts):
    plan = {remote: local for local, remote in plan_files([scripts])}
    assert sorted(plan) == ["/empty.py", "/kernels/crc.py", "/kernels/table.bin", "/main_helpers.py"]
    assert plan["/kernels/crc.py"] == scripts / "kernels" / "crc.py"
    single = plan_files([scripts / "main_helpers.py"], dest="/lib")
    assert single == [(scripts / "main_helpers.py", "/lib/main_helpers.py")]
    with pytest.raises(ProvisionError, match="nothing to deploy"):
        plan_files([scripts / "missing.py"])


def test_blocks_round_trip_and_compress_only_when_it_pays():
    text = b"def f(x):\n    return x * 2\n" * 2000
    noise = os.urandom(3 * CHUNK_BYTES + 17)
    text_blocks = encode_blocks(text)
    noise_blocks = encode_blocks(noise)
    assert decode_blocks(text_blocks) == text and decode_blocks(noise_blocks) == noise
    assert all(block.compressed for block in text_blocks)
    assert not any(block.compressed for block in noise_blocks)
    assert len(noise_blocks) == 4 and sum(b.raw_size_bytes for b in noise_blocks) == len(noise)
    assert sum(len(b.literal) for b in text_blocks) < len(text) / 4
    assert encode_blocks(b"") == []


def test_block_commands_are_plain_ascii_python_that_opens_writes_and_closes():
    block = encode_blocks(b"\x00\x03\x04\xff" * 10, allow_compression=False)[0]
    command = block_command("/a b.py", block, first=True, last=True)
    assert command.isascii() and b"\x03" not in command and b"\x04" not in command
    assert command.splitlines()[0] == b"_f=open('/a b.py','wb')"
    assert command.splitlines()[-1] == b"_f.close()"
    middle = block_command("/x.py", block, first=False, last=False)
    assert b"open(" not in middle and b"close" not in middle


def test_parents_are_created_outermost_first():
    assert parents_of(["/a/b/c.py", "/a/d.py", "/e.py", "/a/b/f.py"]) == ["/a", "/a/b"]


def test_first_deploy_writes_every_file_byte_for_byte(board, scripts):
    files = plan_files([scripts])
    report = MicroPythonDeployer("mpy").deploy(board.port, files, timeout_s=30)
    assert sorted(report.files_written) == sorted(remote for _, remote in files)
    for local, remote in files:
        assert board.board_file(remote).read_bytes() == local.read_bytes(), remote
    assert report.soft_reset_done and report.repl_ok and board.soft_resets == 1
    assert report.micropython == "micropython 1.27.0 (Fake Pico with RP2040)"
    assert report.tool_versions["mpremote"].startswith("mpremote ")
    assert report.bytes_written == sum(local.stat().st_size for local, _ in files)


def test_second_deploy_of_unchanged_files_writes_nothing(board, scripts):
    files = plan_files([scripts])
    deployer = MicroPythonDeployer("mpy")
    deployer.deploy(board.port, files, timeout_s=30)
    opened_before = len(board.files_opened_for_writing)
    commands_before = board.commands_run
    report = deployer.deploy(board.port, files, timeout_s=30)
    assert report.files_written == [] and report.bytes_written == 0
    assert sorted(report.files_unchanged) == sorted(remote for _, remote in files)
    assert len(board.files_opened_for_writing) == opened_before
    # one command (the prelude, which also hashes every file): not one round trip per file, and no soft reset
    assert board.commands_run - commands_before == 1
    assert report.soft_reset_done is False and report.repl_ok


def test_only_the_changed_file_is_rewritten(board, scripts):
    files = plan_files([scripts])
    deployer = MicroPythonDeployer("mpy")
    deployer.deploy(board.port, files, timeout_s=30)
    (scripts / "main_helpers.py").write_text("def answer():\n    return 43\n")
    board.files_opened_for_writing.clear()
    report = deployer.deploy(board.port, files, timeout_s=30)
    assert report.files_written == ["/main_helpers.py"]
    # the file itself, then the board's record of verified hashes
    assert board.files_opened_for_writing == ["/main_helpers.py", HASH_RECORD]
    assert board.board_file("/main_helpers.py").read_text().endswith("43\n")


def test_a_file_changed_on_the_board_is_put_back(board, scripts):
    files = plan_files([scripts])
    deployer = MicroPythonDeployer("mpy")
    deployer.deploy(board.port, files, timeout_s=30)
    board.board_file("/kernels/crc.py").write_text("tampered")
    report = deployer.deploy(board.port, files, timeout_s=30)
    assert report.files_written == ["/kernels/crc.py"]
    assert board.board_file("/kernels/crc.py").read_bytes() == (scripts / "kernels" / "crc.py").read_bytes()


def test_a_board_without_deflate_gets_uncompressed_blocks(tmp_path, scripts):
    fake = FakeMicroPythonBoard(tmp_path / "old-board", has_deflate=False)
    try:
        files = plan_files([scripts / "kernels" / "crc.py"])
        report = MicroPythonDeployer("mpy").deploy(fake.port, files, timeout_s=30)
        assert fake.board_file("/crc.py").read_bytes() == (scripts / "kernels" / "crc.py").read_bytes()
        assert report.bytes_sent > report.bytes_written   # base64 only: larger than the file
    finally:
        fake.close()


def test_progress_reports_bytes_per_file(board, scripts):
    seen: list[str] = []
    MicroPythonDeployer("mpy").deploy(board.port, plan_files([scripts / "kernels"]), 30, progress=seen.append)
    assert f"/table.bin: {BIG_FILE_BYTES}/{BIG_FILE_BYTES} bytes" in seen
    assert any(line.startswith("/table.bin: 8192/") for line in seen)


def test_rust_firmware_is_reported_as_wrong_runtime_with_how_to_flash_micropython(scripts):
    rust = FakeRustFirmware()
    try:
        started = time.monotonic()
        with pytest.raises(WrongRuntime) as caught:
            MicroPythonDeployer("mpy").deploy(rust.port, plan_files([scripts]), timeout_s=3)
        assert time.monotonic() - started < 3 + 1   # the deadline, plus one serial read timeout at most
        message = str(caught.value)
        assert "Rust lesson firmware" in message and "micropython.org" in message and "'mpy'" in message
    finally:
        rust.close()


def test_a_silent_port_is_reported_within_the_deadline(tmp_path, scripts):
    master_fd, slave_fd = os.openpty()
    try:
        started = time.monotonic()
        with pytest.raises(WrongRuntime, match="no answer on the serial port"):
            MicroPythonDeployer("mpy").deploy(os.ttyname(slave_fd), plan_files([scripts]), timeout_s=2)
        assert time.monotonic() - started < 2 + 1
    finally:
        os.close(master_fd)
        os.close(slave_fd)


def test_a_board_unplugged_during_the_copy_is_a_provision_error_not_a_hang(tmp_path, scripts):
    slow = FakeMicroPythonBoard(tmp_path / "unplugged", reply_delay_s=0.01)
    try:
        threading.Timer(0.3, slow.unplug).start()
        started = time.monotonic()
        with pytest.raises(ProvisionError, match="stopped answering|cannot open"):
            MicroPythonDeployer("mpy").deploy(slow.port, plan_files([scripts]), timeout_s=10)
        assert time.monotonic() - started < 5
    finally:
        slow.close()


def test_a_missing_port_is_a_provision_error(scripts, tmp_path):
    with pytest.raises(ProvisionError, match="cannot open"):
        MicroPythonDeployer("mpy").deploy(str(tmp_path / "ttyACM9"), plan_files([scripts]), timeout_s=2)


def test_an_expired_deadline_stops_the_deployment(board, scripts):
    slow = FakeMicroPythonBoard(board.fs_root.parent / "slow", reply_delay_s=0.05)
    try:
        with pytest.raises((DeadlineExpired, ProvisionError)):
            MicroPythonDeployer("mpy").deploy(slow.port, plan_files([scripts]), timeout_s=1.0)
    finally:
        slow.close()



def test_a_link_in_a_deploy_folder_to_a_host_file_is_refused_naming_link_and_target(tmp_path):
    folder = tmp_path / "scripts"
    folder.mkdir()
    (folder / "main.py").write_text("print(1)\n")
    secret = tmp_path / "host_secret.txt"
    secret.write_text("key\n")
    (folder / "data.txt").symlink_to(secret)
    with pytest.raises(ConfigError) as caught:
        plan_files([folder])
    assert str(caught.value).startswith(f"{folder / 'data.txt'}: is a link to {secret}, outside {folder}")
    # The same folder as a scenario's deploy entry: the project is the boundary.
    project = tmp_path / "project"
    project.mkdir()
    (project / "scripts").mkdir()
    (project / "scripts" / "leak.py").symlink_to(secret)
    artifacts = Artifacts(project)
    with pytest.raises(ConfigError, match="outside"):
        artifacts.deploy_files(["scripts"])


def test_a_link_that_stays_inside_the_deploy_folder_is_deployed(tmp_path):
    folder = tmp_path / "scripts"
    folder.mkdir()
    (folder / "real.py").write_text("X = 1\n")
    (folder / "alias.py").symlink_to(folder / "real.py")
    assert {remote for _, remote in plan_files([folder])} == {"/real.py", "/alias.py"}


def test_artifacts_make_no_folder_until_asked_and_leave_none_behind(tmp_path):
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    (project / "scripts" / "main.py").write_text("print(1)\n")
    assert Artifacts(project)._snapshot_folder is None   # nothing deployed: no folder made
    # A process that made deploy lists (with an edit stamp) leaves no snapshot folder when it ends.
    script = ("import sys; from pathlib import Path; from hil.scenario.artifacts import Artifacts\n"
              "a = Artifacts(Path(sys.argv[1]))\n"
              "pairs = a.deploy_files(['scripts']) + a.deploy_files(['scripts'], edit=True)\n"
              "assert all(local.exists() for local, _ in pairs)\n"
              "print('\\n'.join(str(local) for local, _ in pairs))\n")
    done = subprocess.run([sys.executable, "-c", script, str(project)], capture_output=True, text=True,
                          timeout=SUBPROCESS_TIMEOUT_S, check=True)
    made = [Path(line) for line in done.stdout.splitlines()]
    assert {path.name for path in made} == {"main.py", "edit_stamp.py"}
    assert [path for path in made if path.exists()] == []


def _corrupt_keeping_size_and_mtime(path: Path) -> None:
    stat = path.stat()
    data = bytearray(path.read_bytes())
    data[0] ^= 0x20   # one bit, as flash corruption does
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_the_fast_path_trusts_size_and_mtime_and_verify_finds_the_change(board, scripts):
    files = plan_files([scripts])
    deployer = MicroPythonDeployer("mpy")
    deployer.deploy(board.port, files, timeout_s=30)
    _corrupt_keeping_size_and_mtime(board.board_file("/kernels/crc.py"))
    # What the docs say the fast path trusts: the record's size and mtime. It does not see this change.
    assert deployer.deploy(board.port, files, timeout_s=30).files_written == []
    report = deployer.deploy(board.port, files, timeout_s=30, verify=True)
    assert report.files_written == ["/kernels/crc.py"] and report.verified_all
    assert board.board_file("/kernels/crc.py").read_bytes() == (scripts / "kernels" / "crc.py").read_bytes()


def test_a_deployer_made_with_verify_hashes_every_time(board, scripts):
    files = plan_files([scripts])
    MicroPythonDeployer("mpy").deploy(board.port, files, timeout_s=30)
    _corrupt_keeping_size_and_mtime(board.board_file("/kernels/crc.py"))
    assert MicroPythonDeployer("mpy", verify=True).deploy(board.port, files, timeout_s=30).files_written == \
        ["/kernels/crc.py"]


@pytest.mark.parametrize("bench_verify, asked, rewritten", [
    (False, None, False),   # the bench's fast path: size and mtime trusted
    (False, True, True),    # `hil deploy --verify`, or a scenario's deploy_verify
    (True, None, True),     # the bench file's deploy_verify
])
def test_a_boards_provision_verifies_as_its_artifacts_or_its_bench_ask(board, scripts, bench_verify, asked, rewritten):
    bench = OnePortBench(board.port, deploy_verify=bench_verify)
    spec = bench.specs[0]
    mpy = make_board(bench, spec)
    files = tuple(plan_files([scripts]))
    try:
        mpy.provision(ProvisionArtifacts(files=files), timeout_s=30)
        _corrupt_keeping_size_and_mtime(board.board_file("/kernels/crc.py"))
        report = mpy.provision(ProvisionArtifacts(files=files, verify=asked), timeout_s=30)
    finally:
        mpy.close()
    assert report.files_written == (["/kernels/crc.py"] if rewritten else [])
    assert (board.board_file("/kernels/crc.py").read_bytes() == (scripts / "kernels" / "crc.py").read_bytes()) \
        == rewritten


class _RecordingTransport:
    def __init__(self):
        self.timeouts = []

    def exec_raw(self, command, timeout):
        self.timeouts.append(timeout)
        return b"", b""


def test_a_command_that_hashes_two_megabytes_waits_for_that_work_within_the_deadline():
    from hil.deadline import Deadline
    from hil.deploy.micropython_deployer import EXEC_TIMEOUT_S
    transport = _RecordingTransport()
    deployer = MicroPythonDeployer("mpy")
    deployer._exec(transport, "_hv(['/big.bin'])", Deadline(600), hashed_bytes=2_000_000)
    deployer._exec(transport, "print(1)", Deadline(600))
    deployer._exec(transport, "_hv(['/big.bin'])", Deadline(40), hashed_bytes=2_000_000)
    scaled, plain, bounded = transport.timeouts
    assert scaled > 2 * EXEC_TIMEOUT_S and plain == EXEC_TIMEOUT_S and bounded <= 40


def test_hil_check_refuses_a_deploy_folder_with_a_link_leaving_the_project_and_a_fifo_entry(tmp_path):
    from hil.scenario.scenario_file import load_scenario
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    (project / "scripts" / "main.py").write_text("print(1)\n")
    (tmp_path / "secret.txt").write_text("key\n")
    (project / "scripts" / "leak.txt").symlink_to(tmp_path / "secret.txt")
    os.mkfifo(project / "pipe.py")
    head = "scenario: s\nclaim: c\nboards:\n  m: {runtime: micropython, deploy: [%s]}\nsteps:\n  - {on: m, exec: x}\n"
    for entry, reason in (("scripts", "outside"), ("pipe.py", "neither a regular file nor a folder")):
        path = project / f"{entry}.yaml"
        path.write_text(head % entry)
        with pytest.raises(ConfigError) as caught:
            load_scenario(path, project)
        assert caught.value.line == 4 and caught.value.key == "boards.m.deploy[0]" and reason in caught.value.message


def test_a_plain_mpremote_copy_writes_each_file_and_soft_resets(board, scripts):
    files = [(scripts / "main_helpers.py", "/main_helpers.py")]
    report = MicroPythonDeployer("mpy").copy_with_mpremote(board.port, files, timeout_s=60)
    assert board.board_file("/main_helpers.py").read_bytes() == (scripts / "main_helpers.py").read_bytes()
    assert report.files_written == ["/main_helpers.py"] and report.soft_reset_done
    assert board.soft_resets >= 1 and report.elapsed_s > 0


def test_a_plain_mpremote_copy_to_a_port_that_is_gone_is_a_provision_error(scripts, tmp_path):
    with pytest.raises(ProvisionError, match="mpremote cp failed"):
        MicroPythonDeployer("mpy").copy_with_mpremote(str(tmp_path / "no-port"), [(scripts / "empty.py", "/e.py")],
                                                      timeout_s=30)
