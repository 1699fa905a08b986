//! The two serial links the protocol is served on: USB CDC (as a Pico user connects) and UART0 on GP0/GP1
//! (a Debug Probe's UART, and the link the simulator always has). Each is a full protocol endpoint: an answer
//! goes back on the link that asked; the boot banner and PANIC lines go to both.
//!
//! Both live in one static so the panic handler can still reach them; everyone else borrows them only for
//! the duration of one read or write.

use core::cell::RefCell;

use critical_section::Mutex;
use rp2040_hal::gpio::{bank0, FunctionUart, Pin, PullDown};
use rp2040_hal::pac;
use rp2040_hal::uart::{Enabled, UartPeripheral};
use rp2040_hal::usb::UsbBus;
use usb_device::device::{UsbDevice, UsbDeviceState};
use usbd_serial::SerialPort;

use crate::picotool_reset::PicotoolReset;
use crate::timing::{now_us, since_us};

pub type UartPins = (Pin<bank0::Gpio0, FunctionUart, PullDown>, Pin<bank0::Gpio1, FunctionUart, PullDown>);
pub type Uart0 = UartPeripheral<Enabled, pac::UART0, UartPins>;

/// Which link a command came in on (and its answer goes out on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkId {
    Usb,
    Uart,
}

/// A USB write that makes no progress for this long is dropped: nobody is reading the port.
const USB_STALL_TIMEOUT_US: u32 = 100_000;
/// The baud rate a host sets (then drops DTR) to ask for a reboot into BOOTSEL, as with Arduino-style boards.
const TOUCH_BAUD_RATE: u32 = 1200;
/// Largest chunk moved per USB read: one full-speed bulk packet.
pub const USB_PACKET_BYTES: usize = 64;

pub struct UsbLink {
    pub device: UsbDevice<'static, UsbBus>,
    pub serial: SerialPort<'static, UsbBus>,
    pub reset: PicotoolReset<'static, UsbBus>,
}

impl UsbLink {
    /// Services the USB controller; call often. True if a class may have data.
    pub fn poll(&mut self) -> bool {
        self.device.poll(&mut [&mut self.serial, &mut self.reset])
    }

    pub fn configured(&self) -> bool {
        self.device.state() == UsbDeviceState::Configured
    }

    /// Bytes received so far (up to one packet); 0 if none.
    pub fn read(&mut self, buffer: &mut [u8]) -> usize {
        self.poll();
        self.serial.read(buffer).unwrap_or(0)
    }

    /// Writes all of `bytes`, polling the controller while the host drains them. Returns false if the data
    /// had to be dropped (not configured, or no progress within the stall timeout).
    pub fn write_all(&mut self, mut bytes: &[u8]) -> bool {
        if !self.configured() {
            return false;
        }
        let mut progress_us = now_us();
        while !bytes.is_empty() {
            self.poll();
            match self.serial.write(bytes) {
                Ok(written) if written > 0 => {
                    bytes = &bytes[written..];
                    progress_us = now_us();
                }
                _ => {
                    if since_us(progress_us) > USB_STALL_TIMEOUT_US {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// Keeps servicing the controller for `duration_us`, so queued data reaches the host even when what comes
    /// next is a halt (usbd-serial's `flush` returning Ok still leaves the last packet in hardware buffers).
    pub fn drain_for(&mut self, duration_us: u32) {
        let start_us = now_us();
        while since_us(start_us) < duration_us {
            self.poll();
            let _ = self.serial.flush();
        }
    }

    /// True while usbd-serial still holds bytes the host has not taken: the loop keeps polling instead of
    /// sleeping, so queued output (the banner, the end of an answer) leaves without waiting for the next event.
    pub fn output_pending(&mut self) -> bool {
        self.configured() && self.serial.flush().is_err()
    }

    /// The host asked for BOOTSEL the Arduino way: line coding set to 1200 baud, then DTR dropped.
    pub fn touch_requested(&self) -> bool {
        self.serial.line_coding().data_rate() == TOUCH_BAUD_RATE && !self.serial.dtr()
    }
}

pub struct Links {
    pub uart: Uart0,
    pub usb: UsbLink,
}

impl Links {
    pub fn write(&mut self, link: LinkId, bytes: &[u8]) {
        match link {
            LinkId::Uart => self.uart.write_full_blocking(bytes),
            LinkId::Usb => {
                self.usb.write_all(bytes);
            }
        }
    }

    pub fn write_both(&mut self, bytes: &[u8]) {
        self.uart.write_full_blocking(bytes);
        self.usb.write_all(bytes);
    }

    /// One received byte of `link`, or None. The USB side is read a packet at a time into `pending`.
    pub fn read_byte(&mut self, link: LinkId, pending: &mut Pending) -> Option<u8> {
        match link {
            LinkId::Uart => uart_read_byte(),
            LinkId::Usb => {
                if pending.is_empty() {
                    pending.len = self.usb.read(&mut pending.bytes);
                    pending.next = 0;
                }
                pending.pop()
            }
        }
    }
}

/// One byte from UART0's receive FIFO, or None if it is empty. Reads only the flag and data registers (the
/// HAL's reader also touches the error-status register on every poll, which rp2040js does not emulate and logs).
fn uart_read_byte() -> Option<u8> {
    // SAFETY: UART0 is owned by `Links`, which the caller borrows; these reads have no effect beyond popping
    // the byte that is returned.
    let uart = unsafe { &*pac::UART0::ptr() };
    if uart.uartfr().read().rxfe().bit_is_set() {
        return None;
    }
    // Framing/parity/break errors (bits 8..11) are dropped with the byte's status: the line protocol recovers.
    Some(uart.uartdr().read().data().bits())
}

/// Bytes already read from USB (a whole packet arrives at once) but not yet consumed.
pub struct Pending {
    bytes: [u8; USB_PACKET_BYTES],
    len: usize,
    next: usize,
}

impl Pending {
    pub const fn new() -> Self {
        Self { bytes: [0; USB_PACKET_BYTES], len: 0, next: 0 }
    }

    fn is_empty(&self) -> bool {
        self.next >= self.len
    }

    fn pop(&mut self) -> Option<u8> {
        if self.is_empty() {
            return None;
        }
        let byte = self.bytes[self.next];
        self.next += 1;
        Some(byte)
    }
}

static LINKS: Mutex<RefCell<Option<Links>>> = Mutex::new(RefCell::new(None));

/// Hands the links over at start-up.
pub fn install(links: Links) {
    critical_section::with(|cs| *LINKS.borrow_ref_mut(cs) = Some(links));
}

/// Runs `f` with the links. Panics if they are not installed yet (a start-up ordering bug).
pub fn with<R>(f: impl FnOnce(&mut Links) -> R) -> R {
    critical_section::with(|cs| {
        let mut links = LINKS.borrow_ref_mut(cs);
        f(links.as_mut().expect("links are installed at start-up"))
    })
}

/// For the panic handler: runs `f` only if the links exist and nobody is using them right now.
pub fn try_with(f: impl FnOnce(&mut Links)) {
    critical_section::with(|cs| {
        if let Ok(mut links) = LINKS.borrow(cs).try_borrow_mut() {
            if let Some(links) = links.as_mut() {
                f(links);
            }
        }
    });
}
