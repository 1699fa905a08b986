//! Core 1 for `dual`: started once through the bootrom's launch handshake on the inter-core FIFO, then it
//! waits for work posted through atomics.
//!
//! Every wait is bounded: where core 1 cannot start (rp2040js emulates one core and no inter-core FIFO), the
//! launch fails within milliseconds with a reason and `dual` reports `cores=1` instead of hanging.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU32, Ordering};

use lesson_core::kernels::work_blocks;
use rp2040_hal::pac;
use rp2040_hal::sio::SioFifo;

use crate::timing::{now_us, since_us, wait_until};

const CORE1_STACK_WORDS: usize = 2048;
/// SIO FIFO_ST: only bits 0..3 exist (VLD, RDY, WOF, ROE); anything above reads 0 on silicon. An emulator that
/// does not model the FIFO answers all ones, which is how its absence is recognised without a long wait.
const FIFO_ST_DEFINED_BITS: u32 = 0xF;
const HANDSHAKE_STEP_TIMEOUT_US: u32 = 10_000;
const POLL_INTERVAL_US: u32 = 10;
/// The bootrom may answer a stale word once; a few restarts of the sequence are plenty on silicon.
const MAX_LAUNCH_ATTEMPTS: u32 = 3;
const PSM_RESET_TIMEOUT_US: u32 = 1_000;

#[repr(C, align(8))]
struct Core1Stack(UnsafeCell<[u32; CORE1_STACK_WORDS]>);

// SAFETY: only core 1 uses this memory, as its stack, after the launch handshake.
unsafe impl Sync for Core1Stack {}

static CORE1_STACK: Core1Stack = Core1Stack(UnsafeCell::new([0; CORE1_STACK_WORDS]));

static JOB_POSTED: AtomicU32 = AtomicU32::new(0);
static JOB_DONE: AtomicU32 = AtomicU32::new(0);
static JOB_START: AtomicU32 = AtomicU32::new(0);
static JOB_END: AtomicU32 = AtomicU32::new(0);
static JOB_RESULT: AtomicU32 = AtomicU32::new(0);

/// Core 1's program: compute posted block ranges forever.
extern "C" fn core1_main() -> ! {
    let mut seen = 0;
    loop {
        let job = JOB_POSTED.load(Ordering::Acquire);
        if job == seen {
            core::hint::spin_loop();
            continue;
        }
        let result = work_blocks(JOB_START.load(Ordering::Relaxed), JOB_END.load(Ordering::Relaxed));
        JOB_RESULT.store(result, Ordering::Relaxed);
        JOB_DONE.store(job, Ordering::Release);
        seen = job;
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Core1State {
    NotTried,
    Running,
    /// Why it could not start (reported by `dual`).
    Unavailable(&'static str),
}

pub struct Core1 {
    state: Core1State,
    fifo: SioFifo,
}

impl Core1 {
    pub fn new(fifo: SioFifo) -> Self {
        Self { state: Core1State::NotTried, fifo }
    }

    /// Starts core 1 if that was not tried yet; the outcome is remembered.
    pub fn ensure_started(&mut self) -> Core1State {
        if self.state == Core1State::NotTried {
            self.state = match self.launch() {
                Ok(()) => Core1State::Running,
                Err(reason) => Core1State::Unavailable(reason),
            };
        }
        self.state
    }

    fn launch(&mut self) -> Result<(), &'static str> {
        if self.fifo.status() & !FIFO_ST_DEFINED_BITS != 0 {
            return Err("no-fifo");
        }
        reset_core1()?;
        let stack_top = CORE1_STACK.0.get() as usize + CORE1_STACK_WORDS * core::mem::size_of::<u32>();
        // SAFETY: reads the vector table offset register of this core.
        let vector_table = unsafe { (*cortex_m::peripheral::SCB::PTR).vtor.read() };
        let sequence = [0, 0, 1, vector_table, stack_top as u32, core1_main as *const () as usize as u32];
        for _attempt in 0..MAX_LAUNCH_ATTEMPTS {
            if self.try_sequence(&sequence)? {
                return Ok(());
            }
        }
        Err("handshake-rejected")
    }

    /// One pass of the launch sequence: Ok(true) if core 1 echoed every word.
    fn try_sequence(&mut self, sequence: &[u32]) -> Result<bool, &'static str> {
        for &word in sequence {
            if word == 0 {
                self.fifo.drain();
                cortex_m::asm::sev(); // wakes core 1's bootrom, which sleeps in WFE
            }
            let fifo = &mut self.fifo;
            if !wait_until(HANDSHAKE_STEP_TIMEOUT_US, POLL_INTERVAL_US, || fifo.is_write_ready()) {
                return Err("fifo-full");
            }
            fifo.write(word);
            cortex_m::asm::sev();
            let mut answer = None;
            if !wait_until(HANDSHAKE_STEP_TIMEOUT_US, POLL_INTERVAL_US, || {
                answer = fifo.read();
                answer.is_some()
            }) {
                return Err("no-answer");
            }
            if answer != Some(word) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Computes blocks `start..end` on core 1 while the caller works; `finish` waits for the result.
    pub fn post(&mut self, start: u32, end: u32) -> u32 {
        JOB_START.store(start, Ordering::Relaxed);
        JOB_END.store(end, Ordering::Relaxed);
        let job = JOB_POSTED.load(Ordering::Relaxed).wrapping_add(1);
        JOB_POSTED.store(job, Ordering::Release);
        cortex_m::asm::sev();
        job
    }

    /// The result of job `job`, or None if core 1 did not finish within `timeout_us`.
    pub fn finish(&mut self, job: u32, timeout_us: u32) -> Option<u32> {
        let start_us = now_us();
        while JOB_DONE.load(Ordering::Acquire) != job {
            if since_us(start_us) > timeout_us {
                return None;
            }
        }
        Some(JOB_RESULT.load(Ordering::Relaxed))
    }
}

/// Puts core 1 back into the bootrom's wait-for-launch state through the power-on state machine.
fn reset_core1() -> Result<(), &'static str> {
    // SAFETY: PSM is only touched here, on core 0, before core 1 runs any of our code.
    let psm = unsafe { &*pac::PSM::ptr() };
    psm.frce_off().modify(|_, w| w.proc1().set_bit());
    if !wait_until(PSM_RESET_TIMEOUT_US, POLL_INTERVAL_US, || psm.frce_off().read().proc1().bit_is_set()) {
        return Err("psm-timeout");
    }
    psm.frce_off().modify(|_, w| w.proc1().clear_bit());
    Ok(())
}
