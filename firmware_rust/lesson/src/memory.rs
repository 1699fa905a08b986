//! RAM report for `mem`: total RAM, RAM taken by statics, and how much stack was never touched.
//!
//! The stack grows down from the top of RAM towards the statics. At start-up the unused region is painted with
//! a pattern; the stack's high-water mark is where the pattern ends.
//!
//! The heap is a fixed arena among the statics (so `static_used` includes it), managed by embedded-alloc's
//! linked-list allocator. Only `jitter N churn` allocates; what it allocates is freed by ownership when dropped, so
//! `mem` reports the heap back at 0 bytes used afterwards (there is no collector to wait for).

use core::mem::MaybeUninit;
use core::ptr::addr_of_mut;

use embedded_alloc::LlffHeap;

/// Ample for `jitter N churn B` (two objects of at most 16 KiB live at once) with room for fragmentation.
pub const HEAP_BYTES: usize = 40 * 1024;

#[global_allocator]
static HEAP: LlffHeap = LlffHeap::empty();
static mut HEAP_ARENA: [MaybeUninit<u8>; HEAP_BYTES] = [MaybeUninit::uninit(); HEAP_BYTES];

/// Hands the arena to the allocator. Call once, at start-up, before anything allocates.
pub fn init_heap() {
    // SAFETY: called once before any allocation; the arena is used by nothing else.
    unsafe { HEAP.init(addr_of_mut!(HEAP_ARENA) as usize, HEAP_BYTES) }
}

extern "C" {
    // From cortex-m-rt's link.x: the start of RAM, the end of the statics (.data, .bss, .uninit), the top of RAM.
    static _ram_start: u8;
    static __sheap: u8;
    static _stack_start: u8;
}

const STACK_PAINT: u32 = 0xA5A5_A5A5;
/// Left unpainted below the current stack pointer: the painting function's own frame lives there.
const PAINT_MARGIN_BYTES: usize = 256;
const WORD_BYTES: usize = 4;

fn ram_start() -> usize {
    core::ptr::addr_of!(_ram_start) as usize
}

fn statics_end() -> usize {
    core::ptr::addr_of!(__sheap) as usize
}

fn ram_end() -> usize {
    core::ptr::addr_of!(_stack_start) as usize
}

/// Paints the RAM between the statics and the current stack pointer. Call early in `main`, before deep calls.
pub fn paint_stack() {
    let stack_pointer = cortex_m::register::msp::read() as usize;
    let mut address = statics_end();
    while address + PAINT_MARGIN_BYTES < stack_pointer {
        // SAFETY: this RAM is above every static and below the live stack; nothing uses it yet.
        unsafe { core::ptr::write_volatile(address as *mut u32, STACK_PAINT) };
        address += WORD_BYTES;
    }
}

/// Bytes of the heap arena currently allocated.
pub fn heap_used_bytes() -> usize {
    HEAP.used()
}

pub struct MemoryReport {
    pub ram_total_bytes: usize,
    pub static_used_bytes: usize,
    pub stack_free_bytes: usize,
    pub heap_total_bytes: usize,
    pub heap_used_bytes: usize,
}

/// Measures the stack's high-water mark: the painted words above the statics that are still intact.
pub fn report() -> MemoryReport {
    let start = statics_end();
    let end = ram_end();
    let mut address = start;
    // SAFETY: reads aligned words of RAM between the statics and the top of RAM.
    while address < end && unsafe { core::ptr::read_volatile(address as *const u32) } == STACK_PAINT {
        address += WORD_BYTES;
    }
    MemoryReport {
        ram_total_bytes: end - ram_start(),
        static_used_bytes: start - ram_start(),
        stack_free_bytes: address - start,
        heap_total_bytes: HEAP_BYTES,
        heap_used_bytes: heap_used_bytes(),
    }
}
