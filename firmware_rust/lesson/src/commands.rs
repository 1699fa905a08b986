//! Executes protocol commands (docs/lesson-protocol.md). Answers go back on the link that asked.

use alloc::vec::Vec;
use core::fmt::{self, Write};
use core::hint::black_box;

use lesson_core::build_id;
use lesson_core::command::{self, Command, Kernel, PanicKind, MAX_SORT_VALUES};
use lesson_core::kernels::{self, Crc32};
use lesson_core::stats::TimingStats;
use lesson_core::text::TextBuffer;
use lesson_core::FIRMWARE_NAME;

use crate::core1::{Core1, Core1State};
use crate::links::{self, LinkId, Pending};
use crate::memory;
use crate::timing::{now_us, since_us};

const ANSWER_BYTES: usize = 200;
/// Chunk size for `tx`: one USB full-speed packet.
const TX_CHUNK_BYTES: usize = 64;
/// `rx` gives up when no byte arrives for this long, answers an error and keeps serving.
const RX_IDLE_TIMEOUT_US: u32 = 2_000_000;
/// Core 1 gets this many times the single-core duration (plus a floor) to finish its half.
const DUAL_TIMEOUT_FACTOR: u32 = 4;
const DUAL_TIMEOUT_FLOOR_US: u32 = 100_000;
/// The `handicap-sort` feature sorts this many times per `bench sort`: Rust made ~30x slower on purpose.
#[cfg(feature = "handicap-sort")]
const HANDICAP_SORT_REPEATS: u32 = 30;

/// What commands need beyond the links: the sieve's buffer, core 1, and the build id to report.
pub struct Executor {
    sieve_flags: &'static mut [u8],
    core1: Core1,
    build_id_hex: [u8; 2 * build_id::ID_SIZE_BYTES],
}

impl Executor {
    pub fn new(sieve_flags: &'static mut [u8], core1: Core1, build_id_hex: [u8; 2 * build_id::ID_SIZE_BYTES]) -> Self {
        Self { sieve_flags, core1, build_id_hex }
    }

    pub fn build_id(&self) -> &str {
        core::str::from_utf8(&self.build_id_hex).unwrap_or("?")
    }

    /// Executes one line received on `link`; `pending` holds bytes already read from that link.
    pub fn execute(&mut self, line: &str, link: LinkId, pending: &mut Pending) {
        match command::parse(line) {
            Ok(command) => self.run(command, link, pending),
            Err(error) => answer(link, format_args!("ERR {}: {}", error.command, error)),
        }
    }

    fn run(&mut self, command: Command<'_>, link: LinkId, pending: &mut Pending) {
        match command {
            Command::Empty => {}
            Command::Id => answer(
                link,
                format_args!(
                    "OK id name={} version={} build={}",
                    FIRMWARE_NAME,
                    env!("CARGO_PKG_VERSION"),
                    self.build_id()
                ),
            ),
            Command::Ping => answer(link, format_args!("OK pong")),
            Command::Bench { kernel, n } => self.bench(kernel, n, link),
            Command::Tx { size_bytes } => transmit(size_bytes, link),
            Command::Rx { size_bytes } => receive(size_bytes, link, pending),
            Command::Parse { text } => match command::parse_i32(text) {
                // The handled error path: a Result, matched, reported; the firmware goes on serving.
                Ok(value) => answer(link, format_args!("OK parse value={value}")),
                Err(error) => answer(link, format_args!("ERR parse: {error}")),
            },
            Command::Panic { kind } => panic_now(kind),
            Command::Mem => {
                let report = memory::report();
                answer(
                    link,
                    format_args!(
                        "OK mem ram_total={} stack_free={} static_used={} heap_total={} heap_used={}",
                        report.ram_total_bytes,
                        report.stack_free_bytes,
                        report.static_used_bytes,
                        report.heap_total_bytes,
                        report.heap_used_bytes
                    ),
                )
            }
            Command::Jitter { iterations, churn_bytes } => jitter(iterations, churn_bytes as usize, link),
            Command::Dual { blocks } => self.dual(blocks, link),
        }
    }

    fn bench(&mut self, kernel: Kernel, n: u32, link: LinkId) {
        match kernel {
            Kernel::Crc32 => {
                let start_us = now_us();
                let crc = kernels::crc32_bench(black_box(n));
                let elapsed_us = since_us(start_us);
                answer(link, format_args!("OK crc32 n={n} crc=0x{crc:08x} us={elapsed_us}"));
            }
            Kernel::Sort => {
                let mut values = [0i32; MAX_SORT_VALUES as usize];
                let values = &mut values[..n as usize];
                kernels::fill_reversed(values);
                let start_us = now_us();
                kernels::bubble_sort(black_box(&mut *values));
                #[cfg(feature = "handicap-sort")]
                for _ in 1..HANDICAP_SORT_REPEATS {
                    kernels::fill_reversed(values);
                    kernels::bubble_sort(black_box(&mut *values));
                }
                let elapsed_us = since_us(start_us);
                let sorted = kernels::is_sorted(values) as u8;
                answer(link, format_args!("OK sort n={n} ok={sorted} us={elapsed_us}"));
            }
            Kernel::Sieve => {
                let start_us = now_us();
                let primes = kernels::sieve_count(black_box(&mut self.sieve_flags[..n as usize]));
                let elapsed_us = since_us(start_us);
                answer(link, format_args!("OK sieve n={n} primes={primes} us={elapsed_us}"));
            }
            Kernel::Fib => {
                let start_us = now_us();
                let value = kernels::fib_f32(black_box(n));
                let elapsed_us = since_us(start_us);
                let value = kernels::float_to_integer(value);
                answer(link, format_args!("OK fib n={n} value={value} us={elapsed_us}"));
            }
        }
    }

    fn dual(&mut self, blocks: u32, link: LinkId) {
        let start_us = now_us();
        let single_check = kernels::work_blocks(0, black_box(blocks));
        let single_us = since_us(start_us);

        let half = blocks / 2;
        let state = self.core1.ensure_started();
        let start_us = now_us();
        let (dual_check, cores) = match state {
            Core1State::Running => {
                let job = self.core1.post(half, blocks);
                let mine = kernels::work_blocks(0, half);
                let timeout_us = single_us.saturating_mul(DUAL_TIMEOUT_FACTOR).max(DUAL_TIMEOUT_FLOOR_US);
                match self.core1.finish(job, timeout_us) {
                    Some(theirs) => (mine ^ theirs, 2),
                    None => {
                        answer(link, format_args!("ERR dual: core 1 did not finish within {timeout_us} us"));
                        return;
                    }
                }
            }
            // Honest fallback: the same split, both halves on core 0, and say so.
            _ => (kernels::work_blocks(0, half) ^ kernels::work_blocks(half, blocks), 1),
        };
        let dual_us = since_us(start_us);
        if dual_check != single_check {
            answer(link, format_args!("ERR dual: results differ (0x{single_check:08x} vs 0x{dual_check:08x})"));
            return;
        }
        let mut text = TextBuffer::<ANSWER_BYTES>::new();
        let _ = write!(
            text,
            "OK dual n={blocks} single_us={single_us} dual_us={dual_us} cores={cores} check=0x{single_check:08x}"
        );
        if let Core1State::Unavailable(reason) = state {
            let _ = write!(text, " core1={reason}");
        }
        send_line(link, &mut text);
    }
}

/// Formats one answer line and sends it with its `\n`.
fn answer(link: LinkId, args: fmt::Arguments<'_>) {
    let mut text = TextBuffer::<ANSWER_BYTES>::new();
    let _ = text.write_fmt(args);
    send_line(link, &mut text);
}

/// Sends `text` plus its newline in one write (one USB packet for a short line).
fn send_line(link: LinkId, text: &mut TextBuffer<ANSWER_BYTES>) {
    text.end_line();
    links::with(|links| links.write(link, text.as_bytes()));
}

fn transmit(size_bytes: u32, link: LinkId) {
    answer(link, format_args!("DATA n={size_bytes}"));
    let mut crc = Crc32::new();
    let mut chunk = [0u8; TX_CHUNK_BYTES];
    let start_us = now_us();
    let mut sent = 0u32;
    while sent < size_bytes {
        let count = (size_bytes - sent).min(TX_CHUNK_BYTES as u32) as usize;
        for (i, byte) in chunk[..count].iter_mut().enumerate() {
            *byte = kernels::tx_payload_byte(sent + i as u32);
        }
        crc.update(&chunk[..count]);
        links::with(|links| links.write(link, &chunk[..count]));
        sent += count as u32;
    }
    let elapsed_us = since_us(start_us);
    links::with(|links| links.write(link, b"\n"));
    answer(link, format_args!("OK tx n={size_bytes} crc=0x{:08x} us={elapsed_us}", crc.value()));
}

fn receive(size_bytes: u32, link: LinkId, pending: &mut Pending) {
    answer(link, format_args!("READY rx n={size_bytes}"));
    let mut crc = Crc32::new();
    let start_us = now_us();
    let mut last_byte_us = start_us;
    let mut received = 0u32;
    while received < size_bytes {
        match links::with(|links| links.read_byte(link, pending)) {
            Some(byte) => {
                crc.update_byte(byte);
                received += 1;
                last_byte_us = now_us();
            }
            None => {
                if since_us(last_byte_us) > RX_IDLE_TIMEOUT_US {
                    answer(link, format_args!("ERR rx: timeout after {received} of {size_bytes} bytes"));
                    return;
                }
            }
        }
    }
    let elapsed_us = since_us(start_us);
    answer(link, format_args!("OK rx n={size_bytes} crc=0x{:08x} us={elapsed_us}", crc.value()));
}

/// The loop of the GC-jitter claim. With churn, as the MicroPython script: each iteration allocates a new
/// `churn_bytes` object on the heap and drops the previous one (freed right there, by ownership: no collector).
/// `heap_max_used` (sampled after each iteration, outside the timed part) shows the objects were on the heap.
fn jitter(iterations: u32, churn_bytes: usize, link: LinkId) {
    let mut stats = TimingStats::new();
    let mut keep: Option<Vec<u8>> = None;
    let mut heap_max_used_bytes = memory::heap_used_bytes();
    for i in 0..iterations {
        let start_us = now_us();
        black_box(kernels::work_block(black_box(i)));
        if churn_bytes > 0 {
            // Assigning drops the previous object, so at most two are alive, and the heap never fills.
            keep = Some(black_box(alloc::vec![black_box(i as u8); churn_bytes]));
        }
        stats.add(since_us(start_us));
        heap_max_used_bytes = heap_max_used_bytes.max(memory::heap_used_bytes());
    }
    drop(black_box(keep));
    let mut text = TextBuffer::<ANSWER_BYTES>::new();
    let _ = write!(
        text,
        "OK jitter n={iterations} min_us={} max_us={} mean_us={} total_us={}",
        stats.min_or_zero_us(),
        stats.max_us,
        stats.mean_us(),
        stats.total_us
    );
    if churn_bytes > 0 {
        let _ = write!(
            text,
            " churn={churn_bytes} heap_max_used={heap_max_used_bytes} heap_used={}",
            memory::heap_used_bytes()
        );
    }
    send_line(link, &mut text);
}

/// The three unrecoverable errors of the lesson. Each panics on the marked line (the tests look for the markers).
fn panic_now(kind: PanicKind) -> ! {
    match kind {
        PanicKind::Unwrap => {
            let nothing: Option<u32> = black_box(None);
            let value = nothing.unwrap(); // PANIC-SITE unwrap
            unreachable_after_panic(value)
        }
        PanicKind::Index => {
            let values = [1u32, 2, 3];
            let index = black_box(values.len() + 4);
            let value = values[index]; // PANIC-SITE index
            unreachable_after_panic(value)
        }
        PanicKind::Explicit => {
            panic!("explicit panic requested by the host"); // PANIC-SITE explicit
        }
    }
}

fn unreachable_after_panic(value: u32) -> ! {
    panic!("expected a panic, got a value: {value}")
}
