"""`hil sim firmware` as a user meets it: says what is missing and where to get it; checks and caches images; a
sim bench file's firmware keys are checked with the file and line named."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.sim_bench.test_firmware_images import BANNER_BYTES, bootrom_bytes, uf2_bytes

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CLI_TIMEOUT_S = 60


def hil(*args: str, env: dict) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "HIL_FIRMWARE_DIR"}
    return subprocess.run([sys.executable, "-m", "hil.cli", *args], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=CLI_TIMEOUT_S, env={**environ, **env})


def test_without_images_it_says_where_to_get_them_and_fails(tmp_path):
    result = hil("sim", "firmware", env={"XDG_CACHE_HOME": str(tmp_path)})
    assert result.returncode != 0
    assert "micropython.org/download/RPI_PICO" in result.stderr and "HIL_FIRMWARE_DIR" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1   # one line, no traceback


def test_it_checks_copies_and_then_finds_the_images(tmp_path):
    uf2, bootrom = tmp_path / "mine.uf2", tmp_path / "rp2040-bootrom-b1.bin"
    uf2.write_bytes(uf2_bytes(BANNER_BYTES))
    bootrom.write_bytes(bootrom_bytes())
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    copied = hil("sim", "firmware", str(uf2), str(bootrom), env=env)
    assert copied.returncode == 0, copied.stderr
    assert (tmp_path / "cache" / "pico-hil" / "firmware" / "mine.uf2").read_bytes() == uf2.read_bytes()
    shown = hil("sim", "firmware", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "MicroPython v9.9.9 on 2030-01-02; Test Pico with RP2040" in shown.stdout and "from cache" in shown.stdout


def test_a_wrong_file_is_refused_and_nothing_is_copied(tmp_path):
    rust_uf2 = tmp_path / "lesson.uf2"
    rust_uf2.write_bytes(uf2_bytes(b"\x00\x20\x04\x20" * 100))
    result = hil("sim", "firmware", str(rust_uf2), env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert result.returncode != 0
    assert str(rust_uf2) in result.stderr and "not MicroPython firmware" in result.stderr
    assert not (tmp_path / "cache" / "pico-hil" / "firmware").exists()


def test_a_bench_file_key_naming_a_missing_file_names_the_file_and_line(tmp_path):
    bench = tmp_path / "bench.yaml"
    bench.write_text("kind: sim\nfirmware:\n  bootrom: nowhere.bin\nboards:\n  - {id: b, runtime: rust}\n")
    result = hil("sim", "firmware", "--bench", str(bench), env={"XDG_CACHE_HOME": str(tmp_path)})
    assert result.returncode != 0
    assert f"{bench}:3: firmware.bootrom:" in result.stderr and "nowhere.bin: no such file" in result.stderr


def test_a_physical_bench_file_may_not_name_firmware_images(tmp_path):
    bench = tmp_path / "bench.yaml"
    bench.write_text("firmware:\n  bootrom: rom.bin\nboards:\n  - {id: b, runtime: rust, serial_number: E6}\n")
    result = hil("check", str(bench), env={})
    assert result.returncode == 2
    # `firmware` is a key of the sim kind only: a physical bench file refuses it like any key its kind lacks
    assert f"{bench}:1: firmware: unknown key" in result.stdout + result.stderr
