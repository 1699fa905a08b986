"""ProbeRsFlasher: the exact probe-rs command lines, and a specific error for each way the tool can fail."""
from __future__ import annotations

import time

import pytest

from hil.deploy.flash_failed import FlashFailed
from hil.deploy.probe_rs_flasher import ProbeRsFlasher, list_probes
from hil.deploy.tool_output import PROBLEM_NO_PROBE, PROBLEM_TARGET_UNREACHABLE
from hil.errors import ProvisionError, ToolFailed, ToolMissing, ToolTimeout

PROBE = "2e8a:000c:E6633861A3978538"
VERSION = {"stdout": "probe-rs 0.30.0 (git commit: crates.io)\n"}
DOWNLOAD_OK = {"stderr": "     Finished in 0.74s\n"}


def test_download_and_reset_argv_name_chip_and_probe_and_verify():
    flasher = ProbeRsFlasher("rust", PROBE)
    assert flasher.download_argv("/fw/lesson.elf") == [
        "probe-rs", "download", "--chip", "RP2040", "--probe", PROBE, "--non-interactive", "--verify",
        "/fw/lesson.elf"]
    assert flasher.reset_argv() == ["probe-rs", "reset", "--chip", "RP2040", "--probe", PROBE, "--non-interactive"]


def test_a_uf2_image_is_passed_with_its_binary_format(fake_tools, tmp_path):
    assert ProbeRsFlasher("rust", PROBE).download_argv("/fw/lesson.uf2", "uf2")[-3:] == [
        "--binary-format", "uf2", "/fw/lesson.uf2"]
    image = tmp_path / "firmware"                      # kind comes from the content, not the name
    image.write_bytes(b"UF2\n" + bytes(508))
    fake_tools.install("probe-rs").on("probe-rs download", DOWNLOAD_OK).on("probe-rs reset", {})
    ProbeRsFlasher("rust", PROBE, env=fake_tools.env).flash(image, timeout_s=20)
    download = [call for call in fake_tools.calls() if call[1] == "download"][0]
    assert download[-3:] == ["--binary-format", "uf2", str(image)]


def test_flash_downloads_then_resets_and_reports_versions(fake_tools, elf_image):
    fake_tools.install("probe-rs").on("probe-rs --version", VERSION).on("probe-rs download", DOWNLOAD_OK) \
        .on("probe-rs reset", {})
    seen = []
    report = ProbeRsFlasher("rust", PROBE, env=fake_tools.env).flash(elf_image, timeout_s=20, progress=seen.append)
    subcommands = [call[1] for call in fake_tools.calls()]
    assert subcommands == ["--version", "download", "reset"]
    assert fake_tools.calls()[1][-1] == str(elf_image)
    assert report.flasher == "probe-rs" and report.verified and report.reset_done
    assert report.tool_versions == {"probe-rs": "probe-rs 0.30.0 (git commit: crates.io)"}
    assert report.image_size_bytes == elf_image.stat().st_size
    assert 0 < report.elapsed_s < 20
    assert ("Finished", 100) in [(p.phase, p.percent) for p in seen]


def test_missing_probe_says_which_probe_to_check(fake_tools, elf_image):
    fake_tools.install("probe-rs").on("probe-rs --version", VERSION).on("probe-rs download", {
        "stderr": "Error: Failed to open the debug probe.\n\nCaused by:\n    0: The debug probe could not be "
                  "created.\n    1: The selected debug probe was not found.\n", "rc": 1})
    with pytest.raises(FlashFailed) as caught:
        ProbeRsFlasher("rust", PROBE, env=fake_tools.env).flash(elf_image, timeout_s=20)
    assert caught.value.problem == PROBLEM_NO_PROBE
    assert "probe-rs list" in str(caught.value) and "'rust'" in str(caught.value)
    assert [call[1] for call in fake_tools.calls()] == ["--version", "download"]   # no reset after a failure


def test_unwired_target_is_reported_as_such(fake_tools, elf_image):
    fake_tools.install("probe-rs").on("probe-rs download", {
        "stderr": "Error: Connecting to the chip was unsuccessful.\n\nCaused by:\n    0: Failed to find or attach "
                  "to the target. Please check the wiring before retrying.\n", "rc": 1})
    with pytest.raises(FlashFailed) as caught:
        ProbeRsFlasher("rust", PROBE, env=fake_tools.env).flash(elf_image, timeout_s=20)
    assert caught.value.problem == PROBLEM_TARGET_UNREACHABLE


def test_an_unrecognised_failure_keeps_the_tool_output(fake_tools, elf_image):
    fake_tools.install("probe-rs").on("probe-rs download", {"stderr": "Error: flash algorithm crashed\n", "rc": 1})
    with pytest.raises(ToolFailed) as caught:
        ProbeRsFlasher("rust", PROBE, env=fake_tools.env).flash(elf_image, timeout_s=20)
    assert caught.value.returncode == 1 and "flash algorithm crashed" in str(caught.value)


def test_a_hanging_download_is_killed_within_the_deadline(fake_tools, elf_image):
    fake_tools.install("probe-rs").on("probe-rs download", {"sleep_s": 60})
    started = time.monotonic()
    with pytest.raises(ToolTimeout) as caught:
        ProbeRsFlasher("rust", PROBE, env=fake_tools.env).flash(elf_image, timeout_s=2)
    assert time.monotonic() - started < 2 + 3   # deadline plus the kill grace
    assert caught.value.argv[1] == "download"


def test_missing_probe_rs_is_reported_with_install_hint(fake_tools, elf_image):
    with pytest.raises(ToolMissing) as caught:
        ProbeRsFlasher("rust", PROBE, env=fake_tools.env).flash(elf_image, timeout_s=5)
    assert caught.value.tool == "probe-rs" and "probe.rs" in str(caught.value)
    assert ProbeRsFlasher("rust", PROBE, env=fake_tools.env).version() is None


def test_image_must_exist_and_be_loadable(tmp_path):
    flasher = ProbeRsFlasher("rust", PROBE)
    with pytest.raises(ProvisionError, match="does not exist"):
        flasher.flash(tmp_path / "missing.elf", timeout_s=5)
    text = tmp_path / "notes.txt"
    text.write_text("x")
    with pytest.raises(ProvisionError, match=r"cannot load notes.txt \(bin\)"):
        flasher.flash(text, timeout_s=5)


def test_list_probes_runs_probe_rs_list(fake_tools):
    fake_tools.install("probe-rs").on("probe-rs list", {"stdout": "The following debug probes were found:\n"
                                      "[0]: Debug Probe (CMSIS-DAP) -- 2e8a:000c:E6633861A3978538 (CMSIS-DAP)\n"})
    probes = list_probes(timeout_s=5, env=fake_tools.env)
    assert [p.selector for p in probes] == [PROBE]
