//! The panic handler: report `PANIC <message> at <file>:<line>` on RTT up channel 0 (for a debug probe: the
//! control block is the symbol `_SEGGER_RTT`, which `probe-rs run` finds in the ELF) and on both serial links
//! (for benches without a probe), then stop the core the way panic-probe does (`udf`, so a debugger sees a
//! HardFault and the simulator a halt).

use core::fmt::Write;
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

use lesson_core::text::TextBuffer;

use crate::links;

const PANIC_LINE_BYTES: usize = 256;
/// How long the USB host gets to collect the PANIC line before the core stops.
const PANIC_USB_DRAIN_US: u32 = 50_000;

static PANICKING: AtomicBool = AtomicBool::new(false);
/// RTT up channel 0's buffer. Non-blocking: with no probe attached the panic path must never wait on it.
const RTT_BUFFER_BYTES: usize = 1024;

/// Sets up the RTT control block and channel 0. Call once, first thing at start-up.
pub fn init_rtt() {
    rtt_target::rtt_init_print!(rtt_target::ChannelMode::NoBlockSkip, RTT_BUFFER_BYTES);
}

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    cortex_m::interrupt::disable();
    // A panic while reporting a panic must not recurse: stop at once.
    // (Load then store: thumbv6m has no atomic swap, and interrupts are off.)
    if !PANICKING.load(Ordering::Relaxed) {
        PANICKING.store(true, Ordering::Relaxed);
        let mut line = TextBuffer::<PANIC_LINE_BYTES>::new();
        // The message is cut to leave room for the location and the newline.
        let _ = match info.location() {
            Some(at) => write!(line, "PANIC {} at {}:{}", info.message(), at.file(), at.line()),
            None => write!(line, "PANIC {} at unknown:0", info.message()),
        };
        line.end_line();
        // RTT first: it is plain memory a probe reads, so it works even when the links are unusable.
        if let Ok(text) = core::str::from_utf8(line.as_bytes()) {
            rtt_target::rprint!("{}", text);
        }
        links::try_with(|links| {
            links.write_both(line.as_bytes());
            while links.uart.uart_is_busy() {}
            links.usb.drain_for(PANIC_USB_DRAIN_US);
        });
    }
    cortex_m::asm::udf()
}
