"""Finding and checking the simulated Pico's firmware images: lookup order, refusals naming the file, the cache."""
from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path

import pytest

from hil.errors import ConfigError
from hil.sim import firmware_images as fw
from hil.sim.sim_errors import FirmwareImageInvalid, FirmwareImageMissing

BANNER_BYTES = b"3.4.0; MicroPython v9.9.9 on 2030-01-02\x00; Test Pico with RP2040\x00"


def uf2_bytes(payload: bytes, family: int = fw.RP2040_FAMILY_ID, address: int = fw.FLASH_BASE) -> bytes:
    chunks = [payload[i:i + 256] for i in range(0, len(payload), 256)]
    blocks = b""
    for number, chunk in enumerate(chunks):
        header = struct.pack("<8I", fw.UF2_MAGIC_START0, fw.UF2_MAGIC_START1, fw.UF2_FLAG_FAMILY_ID_PRESENT,
                             address + number * 256, len(chunk), number, len(chunks), family)
        blocks += header + chunk.ljust(476, b"\0") + struct.pack("<I", fw.UF2_MAGIC_END)
    return blocks


def bootrom_bytes(version: int = 2) -> bytes:
    data = bytearray(fw.BOOTROM_BYTES)
    data[0x10:0x14] = b"Mu\x01" + bytes([version])
    return bytes(data)


@pytest.fixture
def images(tmp_path: Path) -> Path:
    folder = tmp_path / "images"
    folder.mkdir()
    # the banner straddles a 256-byte block boundary, as strings in a real UF2 do
    (folder / "mp.uf2").write_bytes(uf2_bytes(b"\x01" * 250 + BANNER_BYTES + b"\x02" * 300))
    (folder / "rp2040-bootrom-b1.bin").write_bytes(bootrom_bytes())
    return folder


def test_folder_from_environment_gives_checked_images_with_banner_and_hash(images: Path):
    found = fw.locate_images(True, environ={fw.FIRMWARE_DIR_ENV: str(images)})
    assert found.micropython_uf2.version == "MicroPython v9.9.9 on 2030-01-02; Test Pico with RP2040"
    assert found.micropython_uf2.sha256 == hashlib.sha256((images / "mp.uf2").read_bytes()).hexdigest()
    assert found.bootrom.version == "B1"
    assert found.bootrom.found_in == "$HIL_FIRMWARE_DIR"


def test_rust_only_bench_needs_no_uf2(tmp_path: Path):
    (tmp_path / "rp2040-bootrom.bin").write_bytes(bootrom_bytes())
    found = fw.locate_images(False, environ={fw.FIRMWARE_DIR_ENV: str(tmp_path)})
    assert found.micropython_uf2 is None and found.bootrom.path == tmp_path / "rp2040-bootrom.bin"


def test_missing_images_say_where_to_get_them_and_how_to_point_at_them(tmp_path: Path):
    with pytest.raises(FirmwareImageMissing) as raised:
        fw.locate_images(True, environ={"XDG_CACHE_HOME": str(tmp_path)})
    message = str(raised.value)
    assert "micropython.org/download/RPI_PICO" in message and "pico-bootrom" in message
    assert "hil sim firmware" in message and fw.FIRMWARE_DIR_ENV in message
    assert str(tmp_path / "pico-hil" / "firmware") in message


def test_environment_folder_without_image_is_an_error_not_a_fall_back_to_the_cache(tmp_path: Path, images: Path):
    fw.install_into_cache([images / "mp.uf2", images / "rp2040-bootrom-b1.bin"],
                          environ={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FirmwareImageMissing, match="HIL_FIRMWARE_DIR=.*empty holds no"):
        fw.locate_images(True, environ={fw.FIRMWARE_DIR_ENV: str(empty), "XDG_CACHE_HOME": str(tmp_path / "cache")})


@pytest.mark.parametrize("content, expected", [
    (b"UF2?" * 100, "not a whole number of 512-byte UF2 blocks"),
    (b"\0" * 512, "no UF2 magic"),
    (uf2_bytes(BANNER_BYTES, family=0xada52840), "family id 0xada52840, not RP2040's 0xe48bff56"),
    (uf2_bytes(BANNER_BYTES, address=0x20000000), "outside the Pico's 2 MiB flash"),
    (uf2_bytes(b"fn main() {}" * 40), "not MicroPython firmware"),
])
def test_not_a_micropython_rp2040_uf2_is_refused_naming_the_file(tmp_path: Path, content: bytes, expected: str):
    path = tmp_path / "board.uf2"
    path.write_bytes(content)
    (tmp_path / "rp2040-bootrom-b1.bin").write_bytes(bootrom_bytes())
    with pytest.raises(FirmwareImageInvalid) as raised:
        fw.locate_images(True, environ={fw.FIRMWARE_DIR_ENV: str(tmp_path)})
    assert str(path) in str(raised.value) and expected in str(raised.value)


@pytest.mark.parametrize("content, expected", [
    (bootrom_bytes()[:8192], "is 8192 bytes"),
    (bytes(fw.BOOTROM_BYTES), "no RP2040 bootrom magic"),
])
def test_not_a_bootrom_is_refused_naming_the_file(tmp_path: Path, content: bytes, expected: str):
    path = tmp_path / "rp2040-bootrom.bin"
    path.write_bytes(content)
    with pytest.raises(FirmwareImageInvalid) as raised:
        fw.locate_images(False, environ={fw.FIRMWARE_DIR_ENV: str(tmp_path)})
    assert str(path) in str(raised.value) and expected in str(raised.value)


def test_bench_file_key_wins_and_a_bad_one_names_the_bench_file_and_line(tmp_path: Path, images: Path):
    other = tmp_path / "other.uf2"
    other.write_bytes(uf2_bytes(BANNER_BYTES.replace(b"v9.9.9", b"v1.2.3")))
    bench = tmp_path / "bench.yaml"
    key = fw.BenchFirmwareKey("other.uf2", str(bench), 4)   # relative to the bench file's folder
    found = fw.locate_image("micropython_uf2", key, environ={fw.FIRMWARE_DIR_ENV: str(images)})
    assert found.path == other and "v1.2.3" in found.version
    with pytest.raises(ConfigError) as raised:
        fw.locate_image("micropython_uf2", fw.BenchFirmwareKey("rp2040-bootrom-b1.bin", str(images / "b.yaml"), 7))
    assert raised.value.path.endswith("b.yaml") and raised.value.line == 7
    assert "no UF2 magic" in str(raised.value)


def test_two_candidates_in_one_folder_are_ambiguous(images: Path):
    (images / "second.uf2").write_bytes((images / "mp.uf2").read_bytes())
    with pytest.raises(FirmwareImageMissing, match="several"):
        fw.locate_images(True, environ={fw.FIRMWARE_DIR_ENV: str(images)})


def test_install_into_cache_checks_everything_first_and_replaces_the_cached_image(tmp_path: Path, images: Path):
    environ = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    bad = tmp_path / "bad.uf2"
    bad.write_bytes(b"\0" * 512)
    with pytest.raises(FirmwareImageInvalid):
        fw.install_into_cache([images / "rp2040-bootrom-b1.bin", bad], environ=environ)
    assert not fw.cache_dir(environ).exists() or not any(fw.cache_dir(environ).iterdir())
    fw.install_into_cache([images / "mp.uf2", images / "rp2040-bootrom-b1.bin"], environ=environ)
    newer = tmp_path / "newer.uf2"
    newer.write_bytes(uf2_bytes(BANNER_BYTES.replace(b"v9.9.9", b"v10.0.0")))
    fw.install_into_cache([newer], environ=environ)
    found = fw.locate_images(True, environ=environ)
    assert found.micropython_uf2.path.name == "newer.uf2" and "v10.0.0" in found.micropython_uf2.version
    assert found.micropython_uf2.found_in == "cache"


@pytest.mark.skipif(not os.environ.get(fw.FIRMWARE_DIR_ENV), reason="HIL_FIRMWARE_DIR not set")
def test_the_images_the_bench_uses_are_accepted():
    found = fw.locate_images(True)
    assert found.micropython_uf2.version.startswith("MicroPython v")
    assert found.micropython_uf2.version.endswith("with RP2040")
    assert found.bootrom.version == "B1"


def test_the_sim_bench_records_each_boards_images_as_board_facts(images: Path, tmp_path: Path, monkeypatch):
    from hil.sim.sim_bench import SimBench
    monkeypatch.setenv(fw.FIRMWARE_DIR_ENV, str(images))
    bench = SimBench(sim_dir=tmp_path / "sim")
    rust, mpy = (bench.spec(board_id) for board_id in ("sim-rust-0", "sim-mpy-0"))
    uf2_hash = hashlib.sha256((images / "mp.uf2").read_bytes()).hexdigest()
    assert set(bench.board_facts(rust)) == {"bootrom"}
    assert bench.board_facts(mpy)["micropython_uf2"] == (
        f"MicroPython v9.9.9 on 2030-01-02; Test Pico with RP2040 sha256:{uf2_hash}")
    assert bench.describe()["firmware_images"]["micropython_uf2"]["sha256"] == uf2_hash
