//! The device's own clock: the RP2040 timer, counting microseconds since reset.

use rp2040_hal::pac;

/// The low 32 bits of the 1 MHz timer. Wraps after ~71 minutes; differences with `wrapping_sub` stay right.
pub fn now_us() -> u32 {
    // SAFETY: a read-only register of a peripheral brought out of reset by `Timer::new` during start-up.
    unsafe { (*pac::TIMER::ptr()).timerawl().read().bits() }
}

/// Microseconds elapsed since `start_us` (a value of `now_us`).
pub fn since_us(start_us: u32) -> u32 {
    now_us().wrapping_sub(start_us)
}

/// Polls `ready` until it returns true or `timeout_us` passes, checking every `interval_us`.
/// The interval matters in the simulator, where each read of an unemulated register is logged.
pub fn wait_until(timeout_us: u32, interval_us: u32, mut ready: impl FnMut() -> bool) -> bool {
    let start_us = now_us();
    loop {
        if ready() {
            return true;
        }
        if since_us(start_us) >= timeout_us {
            return false;
        }
        let pause_start_us = now_us();
        while since_us(pause_start_us) < interval_us {}
    }
}
