"""Side by side: the Rust lesson firmware and the MicroPython scripts (on the MicroPython firmware), each on a
simulated Pico, give the same answers to the same work. Skipped when the Rust firmware has not been built."""
from __future__ import annotations

import shutil

import pytest

from hil.deploy.firmware_build import latest_build
from tests.micropython_scripts.answer_line import only_answer, parse_answer
from tests.micropython_scripts.lesson_paths import REPO_ROOT

_LESSON = latest_build("lesson", REPO_ROOT)     # as `hil build` stored it, or None
FIRMWARE_ELF = _LESSON.image.elf_path if _LESSON else REPO_ROOT / "firmware_rust" / "target" / "hil-builds" / "lesson"
BOARD_START_TIMEOUT_S = 10.0
BOOT_TIMEOUT_S = 30.0
ANSWER_TIMEOUT_S = 60.0
# (firmware command, MicroPython call, answer word, fields that must agree)
SAME_WORK = [
    ("bench crc32 1024", "kernels.crc32(1024)", "crc32", ("n", "crc")),
    ("bench sort 200", "kernels.sort(200)", "sort", ("n", "ok")),
    ("bench sieve 20000", "kernels.sieve(20000)", "sieve", ("n", "primes")),
    ("bench fib 30", "kernels.fib(30)", "fib", ("n", "value")),
    ("bench fib 100", "kernels.fib(100)", "fib", ("n", "value")),
    ("bench fib 187", "kernels.fib(187)", "fib", ("n", "value")),
    ("bench fib 800", "kernels.fib(800)", "fib", ("n", "value")),
    ("bench sort 1001", "kernels.sort(1001)", "bench", ()),
    ("parse 12x4", "errors.parse_safe('12x4')", "parse", ()),
    ("parse -2147483648", "errors.parse_safe('-2147483648')", "parse", ("value",)),
    ("parse 2147483648", "errors.parse_safe('2147483648')", "parse", ()),
    ("tx 100", "serial_io.tx(100)", "tx", ("n", "crc")),
    ("jitter 0", "jitter.run(0)", "jitter", ()),
    ("dual 1", "dual.run(1)", "dual", ()),
]


@pytest.fixture(scope="module")
def rust_answers(tmp_path_factory):
    """The firmware's final answer line to each command of SAME_WORK, over its simulated UART."""
    if not FIRMWARE_ELF.exists():
        pytest.skip(f"the Rust lesson firmware is not built ({FIRMWARE_ELF}); build it with `hil build`")
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the simulated Rust board cannot run")
    from tests.sim_rust.board_harness import BoardHarness
    folder = tmp_path_factory.mktemp("rust-board")
    elf = folder / "lesson.elf"
    shutil.copyfile(FIRMWARE_ELF, elf)
    board = BoardHarness(folder / "state", "rust-xcheck")
    try:
        board.wait_event("ready", BOARD_START_TIMEOUT_S)
        board.request("load", path=str(elf))
        board.request("reset")
        board.expect("uart", rb"READY lesson[^\n]*\n", BOOT_TIMEOUT_S)
        answers = {}
        for command, _, _, _ in SAME_WORK:
            board.received["uart"].clear()
            board.send("uart", command.encode() + b"\n")
            answers[command] = board.expect("uart", rb"(?m)^(OK|ERR) [^\n]*\n", ANSWER_TIMEOUT_S).group(0).decode().strip()
        return answers
    finally:
        board.close()


@pytest.fixture(scope="module")
def micropython_answers(micropython_board):
    code = "import kernels, errors, serial_io, jitter, dual\n" + "\n".join(call for _, call, _, _ in SAME_WORK)
    run = micropython_board(code)
    assert run.returncode == 0, run.stderr
    answers = [line for line in run.lines if line.startswith(("OK ", "ERR "))]
    assert len(answers) == len(SAME_WORK), run.lines
    return {command: answer for (command, _, _, _), answer in zip(SAME_WORK, answers)}


@pytest.mark.parametrize("command, call, word, agreeing", SAME_WORK, ids=[work[0] for work in SAME_WORK])
def test_both_runtimes_answer_the_same(rust_answers, micropython_answers, command, call, word, agreeing):
    rust_status, rust_word, rust_fields = parse_answer(rust_answers[command])
    mpy_status, mpy_word, mpy_fields = parse_answer(micropython_answers[command])
    assert rust_word == word
    assert (mpy_status, mpy_word) == (rust_status, rust_word)
    if rust_status == "ERR":
        assert micropython_answers[command] == rust_answers[command]   # the same message, word for word
    for key in agreeing:
        assert mpy_fields[key] == rust_fields[key], (
            f"{key}: rust {rust_answers[command]!r}, micropython {micropython_answers[command]!r}")


def test_the_firmware_answers_were_real_answers(rust_answers):
    assert only_answer([rust_answers["bench sieve 20000"]], "sieve")["primes"] == "2262"
