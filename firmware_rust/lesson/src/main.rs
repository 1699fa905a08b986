//! The lesson firmware for the Raspberry Pi Pico: a line protocol on USB CDC and UART0
//! (docs/lesson-protocol.md) with benchmarks, a handled error path, panic paths and measurements.
#![no_std]
#![no_main]

extern crate alloc;

mod commands;
mod core1;
mod idle;
mod links;
mod memory;
mod panic;
mod picotool_reset;
mod reboot;
mod timing;

use core::ptr::addr_of_mut;

use fugit::RateExtU32;
use lesson_core::build_id::{self, SLOT_SIZE_BYTES, UNPATCHED_SLOT};
use lesson_core::command::MAX_SIEVE_LIMIT;
use lesson_core::line_buffer::{LineBuffer, Push};
use rp2040_hal::clocks::{init_clocks_and_plls, Clock};
use rp2040_hal::gpio::{FunctionUart, Pins};
use rp2040_hal::uart::{DataBits, StopBits, UartConfig, UartPeripheral};
use rp2040_hal::usb::UsbBus;
use rp2040_hal::{pac, Sio, Timer, Watchdog};
use usb_device::bus::UsbBusAllocator;
use usb_device::device::{StringDescriptors, UsbDeviceBuilder, UsbVidPid};
use usbd_serial::SerialPort;

use crate::commands::Executor;
use crate::core1::Core1;
use crate::links::{LinkId, Links, Pending, UsbLink};
use crate::picotool_reset::PicotoolReset;

/// The second-stage bootloader for the Pico's W25Q080 flash, placed first in flash by memory.x.
#[link_section = ".boot2"]
#[used]
pub static BOOT2_FIRMWARE: [u8; 256] = rp2040_boot2::BOOT_LOADER_W25Q080;

/// The build id slot, patched by the host after linking (see lesson_core::build_id and docs/firmware.md).
#[link_section = ".lesson_build_id"]
#[used]
static BUILD_ID_SLOT: [u8; SLOT_SIZE_BYTES] = UNPATCHED_SLOT;

/// An "edit" the host can make without touching the sources (`LESSON_EDIT_STAMP` at build time): a different
/// stamp is a different image and build id. Used by the deploy-time scenario to measure edit -> running.
#[used]
static EDIT_STAMP: [u8; EDIT_STAMP_BYTES] = edit_stamp();
const EDIT_STAMP_BYTES: usize = 32;

const fn edit_stamp() -> [u8; EDIT_STAMP_BYTES] {
    let mut out = [0u8; EDIT_STAMP_BYTES];
    if let Some(stamp) = option_env!("LESSON_EDIT_STAMP") {
        let bytes = stamp.as_bytes();
        let mut i = 0;
        while i < bytes.len() && i < EDIT_STAMP_BYTES {
            out[i] = bytes[i];
            i += 1;
        }
    }
    out
}

const XTAL_FREQ_HZ: u32 = 12_000_000;
const UART_BAUD_RATE: u32 = 115_200;
/// Raspberry Pi's vendor id with the pico-sdk stdio_usb product id, so picotool recognises the board.
const USB_VID: u16 = 0x2E8A;
const USB_PID: u16 = 0x000A;
const USB_MAX_POWER_MA: usize = 100;
/// Full-speed control endpoint size, as the pico-sdk uses (rp2040js's USB host also expects descriptors whole).
const USB_EP0_PACKET_BYTES: u8 = 64;

/// One byte per number for the sieve, as the MicroPython script's bytearray.
static mut SIEVE_FLAGS: [u8; MAX_SIEVE_LIMIT as usize] = [0; MAX_SIEVE_LIMIT as usize];

fn read_build_id_slot() -> [u8; SLOT_SIZE_BYTES] {
    // Volatile: the value in flash is patched after linking, so the compiler must not fold the zeros in.
    // SAFETY: reads a static of the right type through its own address.
    unsafe { core::ptr::read_volatile(&BUILD_ID_SLOT) }
}

/// Serial number when there is no bootrom to read the flash id with (the simulator names its boards itself).
const FALLBACK_SERIAL_NUMBER: &str = "LESSON";
const FLASH_UNIQUE_ID_BYTES: usize = 8;

/// The USB serial number: the flash chip's 64-bit unique id in hex, as the pico-sdk reports it, so several boards
/// on one host are told apart. Call once, at start-up, before core 1 runs.
fn usb_serial_number() -> &'static str {
    if !reboot::bootrom_present() {
        return FALLBACK_SERIAL_NUMBER;
    }
    let mut id = [0u8; FLASH_UNIQUE_ID_BYTES];
    // SAFETY: nothing else touches flash now: interrupts are off, core 1 waits in the bootrom, no DMA is set up.
    cortex_m::interrupt::free(|_| unsafe { rp2040_flash::flash::flash_unique_id(&mut id, true) });
    let text: &'static mut [u8; 2 * FLASH_UNIQUE_ID_BYTES] =
        cortex_m::singleton!(: [u8; 2 * FLASH_UNIQUE_ID_BYTES] = [0; 2 * FLASH_UNIQUE_ID_BYTES]).unwrap();
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    for (i, byte) in id.iter().enumerate() {
        text[2 * i] = DIGITS[(byte >> 4) as usize];
        text[2 * i + 1] = DIGITS[(byte & 0x0f) as usize];
    }
    core::str::from_utf8(text).unwrap_or(FALLBACK_SERIAL_NUMBER)
}

#[rp2040_hal::entry]
fn main() -> ! {
    // First, so that even a panic during start-up reaches a probe.
    panic::init_rtt();
    memory::init_heap();
    let mut pac = pac::Peripherals::take().unwrap();
    let mut watchdog = Watchdog::new(pac.WATCHDOG);
    let clocks = init_clocks_and_plls(
        XTAL_FREQ_HZ,
        pac.XOSC,
        pac.CLOCKS,
        pac.PLL_SYS,
        pac.PLL_USB,
        &mut pac.RESETS,
        &mut watchdog,
    )
    .ok()
    .unwrap();
    // Painted after the clocks run at 125 MHz (~1 ms instead of ~25 ms on the ring oscillator); what start-up
    // used of the stack so far lies below this frame and is painted over, which is fine: it is dead.
    memory::paint_stack();
    let sio = Sio::new(pac.SIO);
    let pins = Pins::new(pac.IO_BANK0, pac.PADS_BANK0, sio.gpio_bank0, &mut pac.RESETS);
    let _timer = Timer::new(pac.TIMER, &mut pac.RESETS, &clocks);

    let uart_pins = (pins.gpio0.into_function::<FunctionUart>(), pins.gpio1.into_function::<FunctionUart>());
    let uart = UartPeripheral::new(pac.UART0, uart_pins, &mut pac.RESETS)
        .enable(
            UartConfig::new(UART_BAUD_RATE.Hz(), DataBits::Eight, None, StopBits::One),
            clocks.peripheral_clock.freq(),
        )
        .unwrap();

    let usb_bus: &'static UsbBusAllocator<UsbBus> = cortex_m::singleton!(: UsbBusAllocator<UsbBus> =
    UsbBusAllocator::new(UsbBus::new(
        pac.USBCTRL_REGS,
        pac.USBCTRL_DPRAM,
        clocks.usb_clock,
        true,
        &mut pac.RESETS,
    )))
    .unwrap();
    let serial = SerialPort::new(usb_bus);
    let reset = PicotoolReset::new(usb_bus);
    let device = UsbDeviceBuilder::new(usb_bus, UsbVidPid(USB_VID, USB_PID))
        .strings(&[StringDescriptors::default()
            .manufacturer("Raspberry Pi")
            .product("Pico lesson firmware")
            .serial_number(usb_serial_number())])
        .unwrap()
        .max_packet_size_0(USB_EP0_PACKET_BYTES)
        .unwrap()
        .max_power(USB_MAX_POWER_MA)
        .unwrap()
        .composite_with_iads()
        .build();
    links::install(Links { uart, usb: UsbLink { device, serial, reset } });
    idle::enable_uart_rx_interrupt();

    let slot = read_build_id_slot();
    // SAFETY: the only reference ever made to SIEVE_FLAGS, taken once here.
    let sieve_flags: &'static mut [u8] = unsafe { &mut *addr_of_mut!(SIEVE_FLAGS) };
    let mut executor = Executor::new(sieve_flags, Core1::new(sio.fifo), build_id::id_hex(&slot));

    let mut banner = lesson_core::text::TextBuffer::<64>::new();
    let _ = core::fmt::write(&mut banner, format_args!("READY lesson build={}\n", executor.build_id()));
    links::with(|links| links.uart.write_full_blocking(banner.as_bytes()));

    let mut uart_lines = LineBuffer::new();
    let mut usb_lines = LineBuffer::new();
    let mut uart_pending = Pending::new();
    let mut usb_pending = Pending::new();
    let mut usb_banner_sent = false;
    loop {
        let (configured, touch) = links::with(|links| {
            links.usb.poll();
            (links.usb.configured(), links.usb.touch_requested())
        });
        if touch {
            reboot::into_bootsel(0, 0);
        }
        if configured && !usb_banner_sent {
            // The USB host only exists once enumeration is done: greet it then.
            usb_banner_sent = true;
            links::with(|links| links.usb.write_all(banner.as_bytes()));
        } else if !configured {
            usb_banner_sent = false;
        }
        serve(&mut executor, LinkId::Usb, &mut usb_lines, &mut usb_pending);
        serve(&mut executor, LinkId::Uart, &mut uart_lines, &mut uart_pending);
        // Everything that arrived is handled: sleep until USB or UART0 has more. Not while output is still
        // queued, nor when the configuration changed while serving (the banner is due): no interrupt would
        // wake the loop for either.
        let (configured, output_pending) =
            links::with(|links| (links.usb.configured(), links.usb.output_pending()));
        if !output_pending && configured == usb_banner_sent {
            idle::wait_for_event();
        }
    }
}

/// Feeds the bytes waiting on `link` into its line buffer and executes each complete line.
fn serve(executor: &mut Executor, link: LinkId, lines: &mut LineBuffer, pending: &mut Pending) {
    while let Some(byte) = links::with(|links| links.read_byte(link, pending)) {
        match lines.push(byte) {
            Push::Pending => {}
            Push::Line(line) => executor.execute(line, link, pending),
            Push::Invalid => links::with(|links| links.write(link, b"ERR line: too long or not UTF-8\n")),
        }
    }
}
