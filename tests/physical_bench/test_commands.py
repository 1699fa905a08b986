"""`hil boards`, `hil flash` and `hil deploy` on a physical bench whose boards are not attached: each says
plainly what is missing, with the exit code a script can test, and returns within its deadline."""
from __future__ import annotations

import time

import pytest

from hil.cli import main

BENCH_YAML = """\
bench: desk
boards:
  - id: mpy
    runtime: micropython
    serial_number: "E66138935F4D4B2C"
  - id: rust
    runtime: rust
    serial_number: "E6614C311B4A6B2B"
    probe: "2e8a:000c:E6633861A3978538"
    flash: probe-rs
"""


@pytest.fixture
def bench_file(tmp_path):
    path = tmp_path / "bench.yaml"
    path.write_text(BENCH_YAML)
    return path


@pytest.fixture
def no_tools(monkeypatch, tmp_path):
    """A PATH without probe-rs or picotool, whatever this machine has installed."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def test_boards_lists_each_missing_board_with_its_serial_and_fails(bench_file, capsys, no_tools):
    status = main(["boards", "--bench", str(bench_file)])
    out = capsys.readouterr().out
    assert status == 1
    lines = {line.split()[0]: line for line in out.splitlines() if line and not line.startswith("-")}
    assert "missing" in lines["mpy"] and "E66138935F4D4B2C" in lines["mpy"]
    assert "missing" in lines["rust"] and "E6614C311B4A6B2B" in lines["rust"]
    assert "probe-rs is not installed" in out


def test_deploy_to_an_absent_board_fails_within_its_timeout_naming_the_board(bench_file, tmp_path, capsys):
    script = tmp_path / "hello.py"
    script.write_text("print('hi')\n")
    started = time.monotonic()
    status = main(["deploy", "mpy", str(script), "--bench", str(bench_file), "--timeout", "1.5"])
    assert status == 1 and time.monotonic() - started < 3
    err = capsys.readouterr().err
    assert "board 'mpy'" in err and "E66138935F4D4B2C" in err and "bench.yaml:3" in err


def test_flash_without_probe_rs_says_so(bench_file, tmp_path, capsys, no_tools):
    image = tmp_path / "lesson.elf"
    image.write_bytes(b"\x7fELF" + bytes(60))
    status = main(["flash", "rust", str(image), "--bench", str(bench_file), "--timeout", "5"])
    assert status == 1
    assert "probe-rs: not found on PATH" in capsys.readouterr().err


def test_flash_refuses_a_micropython_board_and_deploy_a_rust_board(bench_file, tmp_path, capsys):
    image = tmp_path / "lesson.elf"
    image.write_bytes(b"\x7fELF" + bytes(60))
    assert main(["flash", "mpy", str(image), "--bench", str(bench_file)]) == 1
    assert "use `hil deploy mpy PATH...`" in capsys.readouterr().err
    assert main(["deploy", "rust", str(image), "--bench", str(bench_file)]) == 1
    assert "use `hil flash rust FILE`" in capsys.readouterr().err
