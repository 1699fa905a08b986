//! The panic handler: report `PANIC <message> at <file>:<line>` on both links, then stop the core the way
//! panic-probe does (`udf`, so a debugger sees a HardFault and the simulator a halt).

use core::fmt::Write;
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

use lesson_core::text::TextBuffer;

use crate::links;

const PANIC_LINE_BYTES: usize = 256;
/// How long the USB host gets to collect the PANIC line before the core stops.
const PANIC_USB_DRAIN_US: u32 = 50_000;

static PANICKING: AtomicBool = AtomicBool::new(false);

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
        links::try_with(|links| {
            links.write_both(line.as_bytes());
            while links.uart.uart_is_busy() {}
            links.usb.drain_for(PANIC_USB_DRAIN_US);
        });
    }
    cortex_m::asm::udf()
}
