//! Sleeping between events: the main loop waits (WFE) until USB or UART0 has something for it, as good Pico
//! firmware does (an idle board draws less power, and an emulator can skip the idle time).
//!
//! The interrupt handlers only mask their own interrupt (both are level-triggered, and the main loop clears their
//! cause by polling); the main loop does all the work, then unmasks both and waits in WFE. No wake-up is lost: an
//! interrupt that is taken after the last poll, even just before the WFE, sets the event register (every
//! exception entry and return does, ARMv6-M B1.5.18), so that WFE returns at once; a cause already present when
//! the interrupts are unmasked is taken right there, with the same effect.

use cortex_m::peripheral::NVIC;
use rp2040_hal::pac::{self, interrupt, Interrupt};

/// Lets UART0's receiver raise its interrupt: when its FIFO holds 4 bytes (the lowest threshold) and when
/// received bytes wait unread for 32 bit periods (the receive timeout), so a short line is not left waiting.
pub fn enable_uart_rx_interrupt() {
    // SAFETY: UART0 is enabled; only the interrupt level select and mask bits are changed here, which nothing
    // else in the firmware uses (the HAL's reader and writer do not touch them).
    let uart = unsafe { &*pac::UART0::ptr() };
    uart.uartifls().modify(|_, w| unsafe { w.rxiflsel().bits(0b000) });
    uart.uartimsc().modify(|_, w| w.rxim().set_bit().rtim().set_bit());
}

/// Sleeps until USB or UART0 raises its interrupt (or returns at once if one was taken since the last call).
pub fn wait_for_event() {
    // SAFETY: the handlers below only mask their own interrupt: no shared state to break.
    unsafe {
        NVIC::unmask(Interrupt::USBCTRL_IRQ);
        NVIC::unmask(Interrupt::UART0_IRQ);
    }
    cortex_m::asm::wfe();
}

#[interrupt]
fn USBCTRL_IRQ() {
    NVIC::mask(Interrupt::USBCTRL_IRQ);
}

#[interrupt]
fn UART0_IRQ() {
    NVIC::mask(Interrupt::UART0_IRQ);
}
