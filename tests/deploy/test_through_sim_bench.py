"""Provisioning end to end on the simulated bench: the flashers run the probe-rs / picotool stand-ins found on
the bench's PATH, the deployer talks to the simulated MicroPython board through its modelled USB link."""
from __future__ import annotations

import re
import shutil
import tempfile
import time
from pathlib import Path

import pytest
import serial

from hil.deploy.firmware_build import latest_build
from hil.deploy.micropython_deployer import MicroPythonDeployer, plan_files
from hil.deploy.picotool_flasher import PicotoolFlasher
from hil.deploy.probe_rs_flasher import ProbeRsFlasher
from hil.errors import WrongRuntime
from hil.sim.sim_bench import SimBench
from hil.board.board import ProvisionArtifacts

REPO_ROOT = Path(__file__).resolve().parents[2]
_LESSON = latest_build("lesson", REPO_ROOT)     # as `hil build` stored it, or None
LESSON_ELF = _LESSON.image.elf_path if _LESSON else REPO_ROOT / "firmware_rust" / "target" / "hil-builds" / "lesson"
START_TIMEOUT_S = 60.0
FLASH_TIMEOUT_S = 60.0
PORT_TIMEOUT_S = 15.0
DEPLOY_TIMEOUT_S = 60.0
READY_TIMEOUT_S = 20.0

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


@pytest.fixture(scope="module")
def bench():
    # a short private folder: the control socket's path must stay under the Unix socket limit
    sim_dir = Path(tempfile.mkdtemp(prefix="hil-dep-"))
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    the_bench = SimBench(sim_dir=sim_dir)
    the_bench.start(START_TIMEOUT_S)
    yield the_bench
    the_bench.stop()
    shutil.rmtree(sim_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def lesson_elf(tmp_path_factory) -> Path:
    """A private copy of the built firmware, so a rebuild running meanwhile cannot pull it away mid-test."""
    copy = tmp_path_factory.mktemp("firmware") / "lesson"
    try:
        shutil.copyfile(LESSON_ELF, copy)
    except OSError:
        pytest.skip(f"{LESSON_ELF} is not built (hil build)")
    return copy


@pytest.fixture
def scripts(tmp_path) -> Path:
    root = tmp_path / "lesson"
    (root / "util").mkdir(parents=True)
    (root / "greet.py").write_text("def hello():\n    return 'hello from the board'\n")
    # 300 globals: importing 3000 took the emulated Pico 12.8 s of its own time (71 s host on a loaded machine)
    (root / "util" / "numbers.py").write_text("".join(f"N{i} = {i * i}\n" for i in range(300)))
    return root


def wait_for_line(port: str, pattern: str, timeout_s: float) -> str:
    """Read the port until a line matches (the firmware prints READY on boot and answers `id`)."""
    end = time.monotonic() + timeout_s
    seen = b""
    with serial.Serial(port, 115200, timeout=0.2) as link:
        link.write(b"id\n")
        while time.monotonic() < end:
            seen += link.read(4096)
            match = re.search(pattern.encode(), seen)
            if match:
                return match.group(0).decode()
            if b"\n" in seen and not seen.endswith(b"\n"):
                continue
            link.write(b"id\n")
    raise AssertionError(f"{pattern!r} not seen on {port} within {timeout_s} s; got {seen[-300:]!r}")


@needs_node
def test_second_deploy_of_unchanged_scripts_writes_no_file(bench, scripts):
    spec = bench.spec("sim-mpy-0")
    files = plan_files([scripts], dest="/e2e")
    deployer = MicroPythonDeployer(spec.board_id)
    first = deployer.deploy(bench.locate_port(spec, PORT_TIMEOUT_S), files, DEPLOY_TIMEOUT_S)
    assert sorted(first.files_written) == ["/e2e/greet.py", "/e2e/util/numbers.py"]
    assert first.repl_ok and first.micropython.startswith("micropython 1.")
    second = deployer.deploy(bench.locate_port(spec, PORT_TIMEOUT_S), files, DEPLOY_TIMEOUT_S)
    assert second.files_written == [] and second.bytes_written == 0
    assert sorted(second.files_unchanged) == ["/e2e/greet.py", "/e2e/util/numbers.py"]


@needs_node
def test_deployed_modules_are_importable_after_the_soft_reset(bench, scripts):
    spec = bench.spec("sim-mpy-0")
    MicroPythonDeployer(spec.board_id).deploy(bench.locate_port(spec, PORT_TIMEOUT_S), plan_files([scripts]),
                                              DEPLOY_TIMEOUT_S)
    from mpremote.transport_serial import SerialTransport
    transport = SerialTransport(bench.locate_port(spec, PORT_TIMEOUT_S), timeout=2)
    try:
        transport.enter_raw_repl(soft_reset=False)
        out, err = transport.exec_raw("import greet, util.numbers as n; print(greet.hello(), n.N299)",
                                      timeout=DEPLOY_TIMEOUT_S)
        assert (out, err) == (b"hello from the board 89401\r\n", b"")
    finally:
        transport.exit_raw_repl()
        transport.close()


@needs_node
def test_probe_rs_flash_through_the_stand_in_then_the_firmware_answers(bench, lesson_elf):
    spec = bench.spec("sim-rust-0")
    flasher = ProbeRsFlasher(spec.board_id, spec.probe, env=bench.tool_env())
    report = flasher.flash(lesson_elf, FLASH_TIMEOUT_S)
    assert report.verified and report.reset_done and report.tool_versions["probe-rs"].startswith("probe-rs ")
    port = bench.locate_port(spec, PORT_TIMEOUT_S)
    assert wait_for_line(port, r"OK id name=lesson version=\S+ build=[0-9a-f]{16}", READY_TIMEOUT_S)


@needs_node
def test_picotool_load_through_the_stand_in_then_the_firmware_answers(bench, lesson_elf):
    spec = bench.spec("sim-rust-0")
    flasher = PicotoolFlasher(spec.board_id, spec.serial_number, env=bench.tool_env())
    report = flasher.flash(lesson_elf, FLASH_TIMEOUT_S)
    assert report.verified and report.tool_versions["picotool"].startswith("picotool v")
    port = bench.locate_port(spec, PORT_TIMEOUT_S)
    assert wait_for_line(port, r"OK id name=lesson", READY_TIMEOUT_S)


@needs_node
def test_deploying_to_the_rust_board_says_it_is_not_micropython_within_the_deadline(bench, scripts, lesson_elf):
    spec = bench.spec("sim-rust-0")
    ProbeRsFlasher(spec.board_id, spec.probe, env=bench.tool_env()).flash(lesson_elf, FLASH_TIMEOUT_S)
    port = bench.locate_port(spec, PORT_TIMEOUT_S)
    wait_for_line(port, r"OK id", READY_TIMEOUT_S)
    started = time.monotonic()
    with pytest.raises(WrongRuntime, match="Rust lesson firmware"):
        MicroPythonDeployer(spec.board_id).deploy(port, plan_files([scripts]), timeout_s=4)
    assert time.monotonic() - started < 4 + 1.5


@needs_node
def test_second_provisioning_of_unchanged_boards_flashes_nothing_and_writes_nothing(bench, scripts, lesson_elf):
    from hil.board.board_factory import make_board
    from hil.deploy.firmware_image import FirmwareImage
    from hil.deploy.build_id import embedded_build_id
    from hil.deploy.elf_image import ElfImage

    image = FirmwareImage(lesson_elf, None, embedded_build_id(ElfImage.read(lesson_elf)))
    rust = make_board(bench, bench.spec("sim-rust-0"))
    mpy = make_board(bench, bench.spec("sim-mpy-0"))
    try:
        first = rust.provision(ProvisionArtifacts(firmware=image), FLASH_TIMEOUT_S)   # flashes only if needed
        # a flash is recorded with the board's facts (so with the results) exactly when one happened
        assert rust.describe().get("flash") == (first.details or None)
        if first.flashed:
            assert {"flasher", "steps", "verified", "image_size_bytes", "elapsed_s"} <= set(first.details)
        again = rust.provision(ProvisionArtifacts(firmware=image), FLASH_TIMEOUT_S)
        assert not again.flashed and again.build_id_after == image.build_id
        files = plan_files([scripts], dest="/again")
        mpy.provision(ProvisionArtifacts(files=tuple(files)), DEPLOY_TIMEOUT_S)
        second = mpy.provision(ProvisionArtifacts(files=tuple(files)), DEPLOY_TIMEOUT_S)
        assert second.files_written == [] and sorted(second.files_unchanged) == [remote for _, remote in
                                                                                   sorted(files, key=lambda f: f[1])]
    finally:
        rust.close()
        mpy.close()


@needs_node
def test_a_board_sent_to_bootsel_shows_the_boot_roms_serial_and_picotool_still_finds_it_by_flash_id(bench,
                                                                                                lesson_elf):
    from hil.process import run_tool

    spec = bench.spec("sim-rust-0")
    env = bench.tool_env()
    PicotoolFlasher(spec.board_id, spec.serial_number, env=env).flash(lesson_elf, FLASH_TIMEOUT_S)
    run_tool(["picotool", "reboot", "-u", "-f", "--ser", spec.serial_number], FLASH_TIMEOUT_S, env=env)
    rows = {row.board_id: row for row in bench.attached()}
    assert (rows[spec.board_id].state, rows[spec.board_id].vid_pid, rows[spec.board_id].serial_number) == (
        "bootsel", "2e8a:0003", "E0C9125B0D9B")
    assert f"flash-id={spec.serial_number}" in rows[spec.board_id].detail
    info = run_tool(["picotool", "info", "-d", "--ser", spec.serial_number], FLASH_TIMEOUT_S, env=env).stdout
    assert f"flash id:             0x{spec.serial_number.upper()}" in info
    report = PicotoolFlasher(spec.board_id, spec.serial_number, env=env).flash(lesson_elf, FLASH_TIMEOUT_S)
    assert report.verified
    assert wait_for_line(bench.locate_port(spec, PORT_TIMEOUT_S), r"OK id name=lesson", READY_TIMEOUT_S)
    rows = {row.board_id: row for row in bench.attached()}
    assert rows[spec.board_id].serial_number == spec.serial_number and rows[spec.board_id].state != "bootsel"


@needs_node
@pytest.mark.parametrize("resource", ["power", "reset"])
def test_a_panicked_probe_less_board_is_brought_back_by_its_bench_file_power_or_run_line(bench, lesson_elf,
                                                                                       resource):
    import dataclasses

    from hil.board.board_factory import make_board
    from hil.deploy.build_id import embedded_build_id
    from hil.deploy.firmware_image import FirmwareImage
    from hil.deploy.elf_image import ElfImage

    board_ids = [b["id"] for b in bench.client.list_boards(10)]
    sim_spec = bench.spec("sim-rust-0")
    wiring = {"power": {"power": {"uhubctl": {"hub": "1-1", "port": board_ids.index("sim-rust-0") + 1}}},
              "reset": {"reset": {"gpioset": {"chip": "gpiochip0", "line": board_ids.index("sim-rust-0")}}}}
    spec = dataclasses.replace(sim_spec, probe=None, flash_method="picotool", extra=wiring[resource])
    board = make_board(bench, spec)
    try:
        assert board.cannot_recover_reason() == ""
        board.provision(ProvisionArtifacts(firmware=FirmwareImage(lesson_elf, None, embedded_build_id(
            ElfImage.read(lesson_elf)))), FLASH_TIMEOUT_S)
        board.open(PORT_TIMEOUT_S)
        board.transport.write("panic unwrap\n")
        board.expect_panic(10)
        assert board.state == "halted"
        board.reset(FLASH_TIMEOUT_S)
        expected = {"power": "power cycle (uhubctl hub 1-1 port", "reset": "RUN pin (gpiochip0 line"}[resource]
        assert board.facts["reset_by"].startswith(expected)
        assert board.state != "halted" and board.running_build_id(10) == embedded_build_id(ElfImage.read(lesson_elf))
    finally:
        board.close()


@needs_node
def test_the_panic_scenario_on_a_probe_less_simulated_board_is_refused_without_power_and_recovered_with_it(
        tmp_path, lesson_elf):
    import json
    import os
    import subprocess
    import sys

    def run(power: str) -> tuple[subprocess.CompletedProcess, dict]:
        bench_file = tmp_path / f"bench{len(power)}.yaml"
        bench_file.write_text(f"bench: probe-less\nkind: sim\nboards:\n"
                              f"  - {{id: sim-rust-0, runtime: rust, flash: picotool{power}}}\n"
                              f"  - {{id: sim-mpy-0, runtime: micropython}}\n")
        results = tmp_path / f"results{len(power)}.json"
        env = {**os.environ, "HIL_SIM_DIR": tempfile.mkdtemp(prefix="hil-pw-")}
        done = subprocess.run([sys.executable, "-m", "pytest", "scenarios/panic_vs_exception.yaml", "-q", "-rs",
                               "-p", "no:cacheprovider", f"--hil-bench={bench_file}", f"--hil-results={results}"],
                              cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
        return done, json.loads(results.read_text())

    refused, document = run("")
    assert "board sim-rust-0 cannot be recovered after a panic" in refused.stdout, refused.stdout
    assert document["claims"][0]["status"] == "skipped"
    recovered, document = run(', power: {uhubctl: {hub: "1-1", port: 1}}')
    (claim,) = document["claims"]
    assert claim["status"] == "passed", recovered.stdout
    assert claim["boards"]["sim-rust-0"]["reset_by"] == "power cycle (uhubctl hub 1-1 port 1)"


@needs_node
def test_uf2_copy_through_the_simulated_rpi_rp2_volume_then_the_firmware_answers(bench, lesson_elf):
    import dataclasses


    spec = dataclasses.replace(bench.spec("sim-rust-0"), flash_method="uf2")
    PicotoolFlasher(spec.board_id, spec.serial_number, env=bench.tool_env()).flash(lesson_elf, FLASH_TIMEOUT_S)
    wait_for_line(bench.locate_port(spec, PORT_TIMEOUT_S), r"OK id name=lesson", READY_TIMEOUT_S)
    report = bench.flasher(spec).flash(lesson_elf, FLASH_TIMEOUT_S)   # running: 1200-baud touch first
    assert report.flasher == "uf2-copy" and report.reset_done
    assert report.steps[0].startswith("1200-baud touch on ")
    volume = bench.sim_dir / "volumes" / spec.board_id
    assert report.steps[-1].endswith(f"-> {volume / 'lesson.uf2'}")
    assert wait_for_line(bench.locate_port(spec, PORT_TIMEOUT_S), r"OK id name=lesson", READY_TIMEOUT_S)
    assert not volume.exists()        # loaded and started: the boot ROM's drive went away
    log = (bench.sim_dir / "supervisor.log").read_text()
    assert f"{spec.board_id}: lesson.uf2 copied to its RPI-RP2 volume" in log
    rows = {row.board_id: row for row in bench.attached()}
    assert rows[spec.board_id].state == "running" and rows[spec.board_id].serial_number == spec.serial_number


@needs_node
def test_two_boards_in_bootsel_at_once_are_told_apart_by_usb_port_and_flash_id(lesson_elf):
    """Both show the boot ROM's one serial; UF2 copy finds this board's drive by its USB port path, picotool by its
    flash id, and each comes back under its own id while the other stays in BOOTSEL."""
    import dataclasses

    from hil.process import run_tool

    sim_dir = Path(tempfile.mkdtemp(prefix="hil-2bs-"))
    two = SimBench(sim_dir=sim_dir, rust_count=2, micropython_count=0)
    two.start(START_TIMEOUT_S)
    try:
        env = two.tool_env()
        first, second = (dataclasses.replace(two.spec(f"sim-rust-{n}"), flash_method="uf2") for n in (0, 1))
        for spec in (first, second):
            PicotoolFlasher(spec.board_id, spec.serial_number, env=env).flash(lesson_elf, FLASH_TIMEOUT_S)
            run_tool(["picotool", "reboot", "-u", "-f", "--ser", spec.serial_number], FLASH_TIMEOUT_S, env=env)
        deadline = time.monotonic() + PORT_TIMEOUT_S
        while len(list((sim_dir / "volumes").glob("*/INFO_UF2.TXT"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        rows = {row.board_id: row for row in two.attached()}
        assert {(rows[s.board_id].state, rows[s.board_id].serial_number) for s in (first, second)} == {
            ("bootsel", "E0C9125B0D9B")}
        assert (two.usb_port_of(first), two.usb_port_of(second)) == ("1-1.1", "1-1.2")
        report = two.flasher(second).flash(lesson_elf, FLASH_TIMEOUT_S)
        assert report.steps[-1].endswith(f"-> {sim_dir / 'volumes' / second.board_id / 'lesson.uf2'}")
        assert wait_for_line(two.locate_port(second, PORT_TIMEOUT_S), r"OK id name=lesson", READY_TIMEOUT_S)
        rows = {row.board_id: row for row in two.attached()}
        assert (rows[second.board_id].state, rows[second.board_id].serial_number) == ("running",
                                                                                      second.serial_number)
        assert (rows[first.board_id].state, rows[first.board_id].serial_number) == ("bootsel", "E0C9125B0D9B")
        # the one still in BOOTSEL: picotool picks it by flash id, and it too comes back as itself
        assert PicotoolFlasher(first.board_id, first.serial_number, env=env).flash(lesson_elf,
                                                                                     FLASH_TIMEOUT_S).verified
        assert wait_for_line(two.locate_port(first, PORT_TIMEOUT_S), r"OK id name=lesson", READY_TIMEOUT_S)
        assert {row.board_id: row.serial_number for row in two.attached()} == {
            first.board_id: first.serial_number, second.board_id: second.serial_number}
    finally:
        two.stop()
        shutil.rmtree(sim_dir, ignore_errors=True)
