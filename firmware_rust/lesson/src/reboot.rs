//! Leaving the application: into the USB bootloader (BOOTSEL) or a plain restart.

use rp2040_hal::rom_data;

/// Address of the bootrom's magic word: 'M', 'u', version 1 on every RP2040.
const BOOTROM_MAGIC_ADDR: usize = 0x0000_0010;
const BOOTROM_MAGIC: u32 = 0x0001_754d;
const BOOTROM_MAGIC_MASK: u32 = 0x00ff_ffff;

/// True on a real RP2040; false where no bootrom is mapped (rp2040js starts the application directly), in
/// which case calling into the bootrom would jump into nothing.
pub fn bootrom_present() -> bool {
    // SAFETY: the bootrom is mapped read-only at address 0 on the RP2040; this reads one aligned word of it.
    let magic = unsafe { core::ptr::read_volatile(BOOTROM_MAGIC_ADDR as *const u32) };
    magic & BOOTROM_MAGIC_MASK == BOOTROM_MAGIC
}

/// Reboots into the USB bootloader (the RPI-RP2 drive and picotool's PICOBOOT interface).
pub fn into_bootsel(gpio_activity_mask: u32, disable_interface_mask: u32) -> ! {
    if bootrom_present() {
        rom_data::reset_to_usb_boot(gpio_activity_mask, disable_interface_mask);
    }
    // No bootrom to enter: restart the application instead of jumping into unmapped memory.
    restart()
}

/// Restarts the application (a system reset request).
pub fn restart() -> ! {
    cortex_m::peripheral::SCB::sys_reset()
}
