"""Unmodified mpremote against the simulated Pico (MicroPython's own RPI_PICO firmware in the emulated RP2040),
through the real simulated bench (supervisor, PTY, USB full-speed link model): each command does what it does on
a Pico. A Pico's stdout is cooked ("\n" is sent as "\r\n") and mpremote passes it through unchanged."""
from __future__ import annotations

import hashlib
import random

LARGE_FILE_BYTES = 200 * 1024
SIO_CPUID = 0xD0000000   # reads 0 on core 0, 1 on core 1


def test_exec_prints_the_boards_output(mpremote):
    result = mpremote("exec", "print(6 * 7)")
    assert (result.returncode, result.stdout) == (0, "42\r\n")


def test_eval_prints_the_value(mpremote):
    result = mpremote("eval", "[x * x for x in range(4)]")
    assert (result.returncode, result.stdout.strip()) == (0, "[0, 1, 4, 9]")


def test_it_is_the_pico_firmware_with_a_pico_filesystem(mpremote):
    result = mpremote("exec", "import sys, os\nprint(sys.platform, sys.implementation._machine)\n"
                              "print(hasattr(os, 'VfsFat'), hasattr(os, 'VfsLfs2'), os.statvfs('/')[0])")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "rp2 Raspberry Pi Pico with RP2040\r\nTrue True 4096\r\n"


def test_a_traceback_on_the_board_exits_with_code_1(mpremote):
    result = mpremote("exec", "import math\nmath.sqrt(-1)")
    assert result.returncode == 1
    assert "ValueError: math domain error" in result.stdout + result.stderr
    assert 'File "<stdin>", line 2, in <module>' in result.stdout + result.stderr


def test_run_executes_a_host_script(mpremote, tmp_path):
    script = tmp_path / "script.py"
    script.write_text("import sys\nprint('ran on', sys.platform)\nprint(sum(range(10)))\n")
    result = mpremote("run", str(script))
    assert (result.returncode, result.stdout) == (0, "ran on rp2\r\n45\r\n")


def test_fs_cp_round_trips_a_200_kb_binary_file(mpremote, tmp_path):
    content = random.Random(1).randbytes(LARGE_FILE_BYTES)
    source = tmp_path / "large.bin"
    source.write_bytes(content)
    assert mpremote("fs", "cp", str(source), ":large.bin", timeout_s=300).returncode == 0
    on_board = mpremote("exec", "import hashlib, binascii\nh = hashlib.sha256()\nf = open('large.bin', 'rb')\n"
                                "while True:\n b = f.read(4096)\n if not b: break\n h.update(b)\n"
                                "print(binascii.hexlify(h.digest()).decode())")
    assert on_board.stdout.strip() == hashlib.sha256(content).hexdigest()   # the flash holds the same bytes
    back = tmp_path / "back.bin"
    result = mpremote("fs", "cp", ":large.bin", str(back), timeout_s=300)
    assert result.returncode == 0, result.stderr
    assert hashlib.sha256(back.read_bytes()).hexdigest() == hashlib.sha256(content).hexdigest()
    assert mpremote("fs", "rm", ":large.bin").returncode == 0


def test_fs_mkdir_ls_cat_and_rm(mpremote, tmp_path):
    source = tmp_path / "listed.txt"
    source.write_text("first\nsecond\n")
    assert mpremote("fs", "mkdir", ":made_dir").returncode == 0
    assert mpremote("fs", "cp", str(source), ":made_dir/listed.txt").returncode == 0
    root = mpremote("fs", "ls", ":")
    assert root.returncode == 0 and "made_dir/" in root.stdout
    inside = mpremote("fs", "ls", ":made_dir")
    assert "          13 listed.txt" in inside.stdout.splitlines()
    cat = mpremote("fs", "cat", ":made_dir/listed.txt")
    assert cat.returncode == 0 and cat.stdout.replace("\r\n", "\n") == "first\nsecond\n"
    assert mpremote("fs", "rm", ":made_dir/listed.txt").returncode == 0
    missing = mpremote("fs", "rm", ":made_dir/listed.txt")
    assert missing.returncode == 1
    assert "listed.txt: No such file or directory" in missing.stdout + missing.stderr
    assert mpremote("fs", "rmdir", ":made_dir").returncode == 0
    assert "made_dir/" not in mpremote("fs", "ls", ":").stdout


def test_mount_imports_a_module_from_the_host_folder(mpremote, tmp_path):
    (tmp_path / "hostmod.py").write_text("VALUE = 'from the host'\n")
    result = mpremote("mount", str(tmp_path), "exec", "import hostmod\nprint(hostmod.VALUE)")
    assert result.returncode == 0, result.stderr
    assert "from the host\r\n" in result.stdout


def test_soft_reset_clears_the_interpreter_but_not_the_flash(mpremote):
    assert mpremote("exec", "import builtins; builtins.marker = 1\nopen('flash.txt','w').write('kept')",
                    "soft-reset").returncode == 0
    result = mpremote("exec", "import builtins; print(hasattr(builtins, 'marker'), open('flash.txt').read())")
    assert (result.returncode, result.stdout) == (0, "False kept\r\n")


def test_files_survive_a_hard_reset(mpremote, sim):
    # closed before the reset: littlefs commits a file when it is closed, on a Pico as here
    assert mpremote("exec", "with open('survivor.txt','w') as f:\n f.write('still here')").returncode == 0
    sim.command(0, "reset")
    sim.wait_port_back(0)  # a Pico's USB device re-enumerates on reset
    result = mpremote("exec", "print(open('survivor.txt').read())")
    assert (result.returncode, result.stdout) == (0, "still here\r\n")


def test_a_file_write_completes_while_a_thread_runs_on_core_1(mpremote):
    # A flash write stops core 1 through the multicore lockout interrupt: with a thread spinning there, the write
    # completes only if core 1 takes that interrupt.
    # The thread touches only its argument (a list made before it starts): MicroPython on the rp2 port has no GIL,
    # so the main thread adding globals while it runs could otherwise race with its global lookups.
    code = (f"import _thread, time\nstate = [False, None, 0, 0]\n"
            f"def spin(s):\n import machine\n s[1] = machine.mem32[{SIO_CPUID:#x}]\n"
            f" while not s[0]:\n  s[2] += 1\n"
            f"_thread.start_new_thread(spin, (state,))\ntime.sleep_ms(20)\n"
            f"with open('threaded.txt', 'w') as f:\n f.write('x' * 10000)\n"
            f"state[3] = state[2]\ntime.sleep_ms(20)\nstate[0] = True\ntime.sleep_ms(20)\n"
            f"print(len(open('threaded.txt').read()), state[1], state[2] > state[3] > 0)")
    result = mpremote("exec", code, timeout_s=60)
    assert (result.returncode, result.stdout) == (0, "10000 1 True\r\n"), result.stderr


def test_writing_flash_takes_the_flash_chips_erase_time_on_the_boards_clock(mpremote):
    # 32 KiB into a new file: littlefs erases at least eight 4 KiB sectors first, 45 ms each on a W25Q16JV, so the
    # board's own clock sees at least 360 ms pass (without erase times it would see a fraction of that).
    code = ("import os, time\nstart = time.ticks_us()\nwith open('erased.bin', 'wb') as f:\n"
            " f.write(bytes(32768))\nelapsed_us = time.ticks_diff(time.ticks_us(), start)\n"
            "os.remove('erased.bin')\nprint('us', elapsed_us)")
    result = mpremote("exec", code, timeout_s=60)
    assert result.returncode == 0, result.stderr
    elapsed_us = int(result.stdout.split()[-1])
    assert elapsed_us >= 8 * 45_000
