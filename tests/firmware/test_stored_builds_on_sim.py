"""Stored builds are immutable: two builds of the lesson firmware with different edit stamps both stay intact, and
flashing either onto a simulated board makes the board report that build's own id, in any order.

Skipped when no Rust toolchain for thumbv6m-none-eabi or no node is installed. The stamps are fixed, so later
runs find both builds in the store and run no cargo.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from hil.board.board_factory import make_board
from hil.board.board import ProvisionArtifacts
from hil.deploy.firmware_image import FirmwareImage
from hil.deploy.firmware_build import build_firmware
from hil.deploy.rust_toolchain import NoRustToolchain, detect_toolchain
from hil.sim.sim_bench import SimBench

BUILD_TIMEOUT_S = 1800.0
START_TIMEOUT_S = 60.0
FLASH_TIMEOUT_S = 60.0
STAMPS = ("stored-build-a", "stored-build-b")


@pytest.fixture(scope="module")
def two_builds():
    try:
        detect_toolchain()
    except NoRustToolchain as missing:
        pytest.skip(str(missing))
    builds = [build_firmware("lesson", BUILD_TIMEOUT_S, edit_stamp=stamp).image for stamp in STAMPS]
    return builds, [(b.elf_path.read_bytes(), b.uf2_path.read_bytes()) for b in builds]


@pytest.fixture(scope="module")
def bench():
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    sim_dir = Path(tempfile.mkdtemp(prefix="hil-store-"))     # short: the control socket path has a length limit
    the_bench = SimBench(sim_dir=sim_dir)
    the_bench.start(START_TIMEOUT_S)
    yield the_bench
    the_bench.stop()
    shutil.rmtree(sim_dir, ignore_errors=True)


def test_two_edited_builds_are_stored_apart_and_neither_rewrote_the_other(two_builds):
    (first, second), images = two_builds
    assert first.build_id != second.build_id
    assert first.elf_path.parent != second.elf_path.parent
    assert images[0] != images[1]
    assert (first.elf_path.read_bytes(), first.uf2_path.read_bytes()) == images[0]


def test_flashing_either_stored_build_makes_the_board_report_its_own_id(two_builds, bench):
    builds, images = two_builds
    board = make_board(bench, bench.spec("sim-rust-0"))
    try:
        for image in (builds[0], builds[1], builds[0]):
            report = board.provision(ProvisionArtifacts(firmware=image), FLASH_TIMEOUT_S)
            assert report.flashed and report.build_id_after == image.build_id
    finally:
        board.close()
    assert [(b.elf_path.read_bytes(), b.uf2_path.read_bytes()) for b in builds] == images
