"""Uf2CopyFlasher: the image lands on the one RPI-RP2 volume, and every other situation is a clear error."""
from __future__ import annotations

import threading
import time

import pytest

from hil.deploy.uf2_copy_flasher import Uf2CopyFlasher
from hil.errors import ProvisionError

INFO_UF2 = "UF2 Bootloader v3.0\nModel: Raspberry Pi RP2\nBoard-ID: RPI-RP2\n"   # what the RP2040 boot ROM serves


def make_volume(root, name="RPI-RP2"):
    volume = root / name
    volume.mkdir(parents=True)
    (volume / "INFO_UF2.TXT").write_text(INFO_UF2)
    (volume / "INDEX.HTM").write_text("<html>")
    return volume


@pytest.fixture
def uf2_image(tmp_path):
    image = tmp_path / "lesson.uf2"
    image.write_bytes(b"UF2\n" + bytes(508) + b"UF2\n" + bytes(508))
    return image


def test_the_image_is_copied_to_the_rpi_rp2_volume(tmp_path, uf2_image):
    mounts = tmp_path / "media"
    volume = make_volume(mounts)
    make_volume(mounts, "USB-STICK").joinpath("INFO_UF2.TXT").write_text("not a pico")
    seen = []
    report = Uf2CopyFlasher("rust", mount_roots=[mounts]).flash(uf2_image, timeout_s=5, progress=seen.append)
    assert (volume / "lesson.uf2").read_bytes() == uf2_image.read_bytes()
    assert report.flasher == "uf2-copy" and report.reset_done and not report.verified
    assert seen[-1].percent == 100


def test_two_rpi_rp2_volumes_are_not_guessed_between(tmp_path, uf2_image):
    mounts = tmp_path / "media"
    make_volume(mounts, "RPI-RP2")
    make_volume(mounts, "RPI-RP21")
    with pytest.raises(ProvisionError, match="2 RPI-RP2 volumes are mounted"):
        Uf2CopyFlasher("rust", mount_roots=[mounts]).flash(uf2_image, timeout_s=5)


def test_no_volume_is_an_error_after_the_deadline_saying_how_to_enter_bootsel(tmp_path, uf2_image):
    started = time.monotonic()
    with pytest.raises(ProvisionError, match="hold BOOTSEL"):
        Uf2CopyFlasher("rust", mount_roots=[tmp_path / "media"]).flash(uf2_image, timeout_s=0.5)
    assert time.monotonic() - started < 2


def test_a_volume_that_appears_in_time_is_used(tmp_path, uf2_image):
    mounts = tmp_path / "media"
    threading.Timer(0.3, make_volume, args=(mounts,)).start()
    Uf2CopyFlasher("rust", mount_roots=[mounts]).flash(uf2_image, timeout_s=5)
    assert (mounts / "RPI-RP2" / "lesson.uf2").exists()


def test_a_file_that_is_neither_uf2_nor_elf_is_refused(tmp_path):
    image = tmp_path / "lesson.bin"
    image.write_bytes(bytes(512))
    with pytest.raises(ProvisionError, match="expects uf2, elf"):
        Uf2CopyFlasher("rust", mount_roots=[tmp_path]).flash(image, timeout_s=5)


def test_mount_roots_come_from_the_environment(tmp_path):
    flasher = Uf2CopyFlasher("rust", env={"HIL_UF2_MOUNT_ROOTS": f"{tmp_path}/a:{tmp_path}/b"})
    assert flasher.mount_roots == [tmp_path / "a", tmp_path / "b"]


def fake_usb_disks(tmp_path, disks: dict[str, str]):
    """/sys/block with each disk linked under its USB port's device path, and /proc/mounts text for their first
    partition, as Linux lays them out."""
    sys_block, devices = tmp_path / "sys-block", tmp_path / "sys-devices"
    sys_block.mkdir()
    mounts = []
    for disk, usb_port in disks.items():
        target = devices / "pci0000:00" / "0000:00:14.0" / "usb1" / usb_port / f"{usb_port}:1.0" / "host3" / "block" / disk
        target.mkdir(parents=True)
        (sys_block / disk).symlink_to(target)
        mounts.append(f"/dev/{disk}1 {tmp_path}/media/{disk} vfat rw,nosuid 0 0")
    proc_mounts = tmp_path / "mounts"
    proc_mounts.write_text("\n".join(mounts) + "\n")
    return sys_block, proc_mounts


def test_two_boards_in_bootsel_each_get_the_volume_on_their_own_usb_port(tmp_path, uf2_image):
    # Both volumes are labelled RPI-RP2 and both disks carry the boot ROM's shared serial: only the port tells.
    sys_block, proc_mounts = fake_usb_disks(tmp_path, {"sdb": "1-1.2", "sdc": "1-1.3"})
    media = tmp_path / "media"
    volume_b, volume_c = make_volume(media, "sdb"), make_volume(media, "sdc")
    flasher = Uf2CopyFlasher("rust", mount_roots=[media], usb_port_finder=lambda: "1-1.3", sys_block=sys_block,
                             proc_mounts=proc_mounts)
    flasher.flash(uf2_image, timeout_s=5)
    assert (volume_c / "lesson.uf2").exists() and not (volume_b / "lesson.uf2").exists()


def test_a_known_port_without_its_volume_waits_and_never_takes_another_boards(tmp_path, uf2_image):
    sys_block, proc_mounts = fake_usb_disks(tmp_path, {"sdb": "1-1.2"})
    make_volume(tmp_path / "media", "sdb")
    flasher = Uf2CopyFlasher("rust", mount_roots=[tmp_path / "media"], usb_port_finder=lambda: "1-1.3",
                             sys_block=sys_block, proc_mounts=proc_mounts)
    with pytest.raises(ProvisionError, match="no RPI-RP2 volume appeared"):
        flasher.flash(uf2_image, timeout_s=0.5)
    assert not (tmp_path / "media" / "sdb" / "lesson.uf2").exists()


def test_the_simulated_volume_takes_a_uf2_only_once_every_block_is_there(tmp_path):
    import struct

    from hil.sim.uf2_volumes import uf2_complete

    def block(number: int, total: int) -> bytes:
        return struct.pack("<IIIIIIII", 0x0A324655, 0x9E5D5157, 0x2000, 0x10000000 + 256 * number, 256, number,
                           total, 0xE48BFF56) + bytes(476) + struct.pack("<I", 0x0AB16F30)

    image = tmp_path / "x.uf2"
    image.write_bytes(block(0, 3) + block(1, 3))
    assert not uf2_complete(image)                      # still being copied
    image.write_bytes(block(0, 3) + block(1, 3) + block(2, 3))
    assert uf2_complete(image)
    image.write_bytes(b"not a uf2".ljust(512, b"\0"))
    assert not uf2_complete(image)
