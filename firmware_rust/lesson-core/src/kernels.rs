//! Benchmark kernels. Each is the same algorithm as its MicroPython counterpart, so both sides compute the
//! same result and a timing comparison compares the runtimes, not the algorithms.

/// CRC-32 (IEEE 802.3): reflected, polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF.
pub const CRC32_POLY_REFLECTED: u32 = 0xEDB8_8320;
const CRC32_INIT: u32 = 0xFFFF_FFFF;

/// Running CRC-32, computed bit by bit (no table: the MicroPython script does the same work per byte).
#[derive(Clone, Copy, Debug)]
pub struct Crc32 {
    state: u32,
}

impl Default for Crc32 {
    fn default() -> Self {
        Self::new()
    }
}

impl Crc32 {
    pub const fn new() -> Self {
        Self { state: CRC32_INIT }
    }

    pub fn update_byte(&mut self, byte: u8) {
        let mut crc = self.state ^ byte as u32;
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (CRC32_POLY_REFLECTED & mask);
        }
        self.state = crc;
    }

    pub fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.update_byte(b);
        }
    }

    pub const fn value(&self) -> u32 {
        !self.state
    }
}

/// CRC-32 of a whole slice.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = Crc32::new();
    crc.update(bytes);
    crc.value()
}

/// Byte `index` of the `bench crc32` input: `index & 0xff`.
pub const fn crc_input_byte(index: u32) -> u8 {
    (index & 0xff) as u8
}

/// `bench crc32 N`: CRC-32 over the bytes `i & 0xff` for i in 0..N.
pub fn crc32_bench(size_bytes: u32) -> u32 {
    let mut crc = Crc32::new();
    for i in 0..size_bytes {
        crc.update_byte(crc_input_byte(i));
    }
    crc.value()
}

/// Byte `index` of a `tx` payload: the letters A-Z repeating.
pub const fn tx_payload_byte(index: u32) -> u8 {
    b'A' + (index % 26) as u8
}

/// Fills `values` with N, N-1, ..., 1 (the worst case for bubble sort).
pub fn fill_reversed(values: &mut [i32]) {
    let n = values.len() as i32;
    for (i, v) in values.iter_mut().enumerate() {
        *v = n - i as i32;
    }
}

/// Plain bubble sort: n-1 passes, each one shorter, swapping neighbours out of order (no early exit).
pub fn bubble_sort(values: &mut [i32]) {
    let n = values.len();
    for pass in 0..n.saturating_sub(1) {
        for j in 0..n - 1 - pass {
            if values[j] > values[j + 1] {
                values.swap(j, j + 1);
            }
        }
    }
}

pub fn is_sorted(values: &[i32]) -> bool {
    values.windows(2).all(|w| w[0] <= w[1])
}

/// Sieve of Eratosthenes over `flags` (one byte per number, as MicroPython's bytearray): the number of primes
/// below `flags.len()`.
pub fn sieve_count(flags: &mut [u8]) -> u32 {
    let n = flags.len();
    if n < 3 {
        return 0;
    }
    flags.fill(1);
    flags[0] = 0;
    flags[1] = 0;
    let mut i = 2;
    while i * i < n {
        if flags[i] != 0 {
            let mut multiple = i * i;
            while multiple < n {
                flags[multiple] = 0;
                multiple += i;
            }
        }
        i += 1;
    }
    flags.iter().filter(|&&f| f != 0).count() as u32
}

/// The float Fibonacci kernel keeps its terms below this modulus, so every f32 sum is exact (below 2^24) and the
/// result stays finite whatever the number of terms (plain f32 terms overflow to infinity after 186).
pub const FIB_MODULUS: f32 = 1_000_000.0;

/// Float Fibonacci modulo 1,000,000 in f32: `a, b = 0.0, 1.0`, then N times `a, b = b, (a + b) mod 1e6` (one
/// compare and at most one subtraction); the result is `a`, i.e. F(N) mod 1,000,000, an exact integer.
pub fn fib_f32(terms: u32) -> f32 {
    let (mut a, mut b) = (0.0f32, 1.0f32);
    for _ in 0..terms {
        let mut next = a + b;
        if next >= FIB_MODULUS {
            next -= FIB_MODULUS;
        }
        a = b;
        b = next;
    }
    a
}

/// A term of `fib_f32` as an integer (terms are integer-valued and below the modulus, so this is exact).
pub fn float_to_integer(value: f32) -> u32 {
    value as u32
}

/// Size of one unit of `dual` and `jitter` work.
pub const WORK_BLOCK_BYTES: u32 = 256;

/// One unit of `dual` work: the CRC-32 of 256 counting bytes starting at the block index (so blocks differ).
/// Every block costs the same, so splitting blocks between cores splits the time evenly.
pub fn work_block(block_index: u32) -> u32 {
    let mut crc = Crc32::new();
    for i in 0..WORK_BLOCK_BYTES {
        crc.update_byte(crc_input_byte(block_index.wrapping_add(i)));
    }
    crc.value()
}

/// `dual` result check: the XOR of the CRCs of blocks `start..end`; XOR makes halves combine in any order.
pub fn work_blocks(start: u32, end: u32) -> u32 {
    (start..end).fold(0, |acc, block| acc ^ work_block(block))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        // The CRC-32/ISO-HDLC check value for "123456789".
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn crc32_bench_is_the_crc_of_the_counting_bytes() {
        let bytes: [u8; 300] = core::array::from_fn(|i| (i & 0xff) as u8);
        assert_eq!(crc32_bench(300), crc32(&bytes));
        // Known value, also computed by Python: zlib.crc32(bytes(i & 0xff for i in range(256)))
        assert_eq!(crc32_bench(256), 0x2905_8C73);
    }

    #[test]
    fn streaming_crc_equals_one_shot_crc() {
        let mut crc = Crc32::new();
        crc.update(b"1234");
        crc.update(b"56789");
        assert_eq!(crc.value(), crc32(b"123456789"));
    }

    #[test]
    fn tx_payload_cycles_through_the_alphabet() {
        assert_eq!(tx_payload_byte(0), b'A');
        assert_eq!(tx_payload_byte(25), b'Z');
        assert_eq!(tx_payload_byte(26), b'A');
    }

    #[test]
    fn bubble_sort_sorts_a_reversed_array() {
        let mut values = [0i32; 1000];
        fill_reversed(&mut values);
        assert_eq!((values[0], values[999]), (1000, 1));
        assert!(!is_sorted(&values));
        bubble_sort(&mut values);
        assert!(is_sorted(&values));
        assert_eq!((values[0], values[999]), (1, 1000));
    }

    #[test]
    fn bubble_sort_handles_tiny_inputs() {
        let mut empty: [i32; 0] = [];
        bubble_sort(&mut empty);
        let mut one = [7];
        bubble_sort(&mut one);
        assert_eq!(one, [7]);
    }

    #[test]
    fn sieve_counts_primes_below_n() {
        let mut flags = [0u8; 100_000];
        assert_eq!(sieve_count(&mut flags[..10]), 4); // 2 3 5 7
        assert_eq!(sieve_count(&mut flags[..11]), 4); // 11 is not below 11
        assert_eq!(sieve_count(&mut flags[..12]), 5);
        assert_eq!(sieve_count(&mut flags[..2]), 0);
        assert_eq!(sieve_count(&mut flags[..100_000]), 9592);
    }

    #[test]
    fn fib_counts_terms_from_zero_one() {
        assert_eq!(fib_f32(0), 0.0);
        assert_eq!(fib_f32(1), 1.0);
        assert_eq!(fib_f32(2), 1.0);
        assert_eq!(fib_f32(10), 55.0);
        assert_eq!(float_to_integer(fib_f32(30)), 832_040);
    }

    /// F(n) mod 1,000,000 with integers: what the f32 kernel must equal exactly.
    fn fib_mod_reference(terms: u32) -> u32 {
        let (mut a, mut b) = (0u32, 1u32);
        for _ in 0..terms {
            (a, b) = (b, (a + b) % 1_000_000);
        }
        a
    }

    #[test]
    fn fib_stays_finite_and_exact_modulo_one_million() {
        for terms in [31, 100, 186, 187, 800, 5000] {
            let value = fib_f32(terms);
            assert!(value.is_finite());
            assert_eq!(float_to_integer(value), fib_mod_reference(terms), "{terms} terms");
        }
        assert_eq!(float_to_integer(fib_f32(800)), 398_725);
    }

    #[test]
    fn work_split_in_two_halves_gives_the_same_check() {
        let whole = work_blocks(0, 64);
        assert_eq!(work_blocks(0, 32) ^ work_blocks(32, 64), whole);
        assert_ne!(work_block(0), work_block(1));
    }
}
