//! Assembles incoming bytes into command lines.

/// Longest command line the firmware accepts (`parse TEXT` is the only long one).
pub const MAX_LINE_BYTES: usize = 128;

/// What one pushed byte completed.
#[derive(Debug, PartialEq, Eq)]
pub enum Push<'a> {
    /// The line is not complete yet.
    Pending,
    /// A complete line (without `\n`; a trailing `\r` removed), valid UTF-8.
    Line(&'a str),
    /// The line was longer than the buffer or not UTF-8: the firmware answers an error and drops it.
    Invalid,
}

/// Collects bytes until `\n`. An over-long line is dropped entirely (up to its `\n`), never split.
pub struct LineBuffer {
    bytes: [u8; MAX_LINE_BYTES],
    len: usize,
    overflowed: bool,
}

impl Default for LineBuffer {
    fn default() -> Self {
        Self::new()
    }
}

impl LineBuffer {
    pub const fn new() -> Self {
        Self { bytes: [0; MAX_LINE_BYTES], len: 0, overflowed: false }
    }

    pub fn push(&mut self, byte: u8) -> Push<'_> {
        if byte != b'\n' {
            if self.len < MAX_LINE_BYTES {
                self.bytes[self.len] = byte;
                self.len += 1;
            } else {
                self.overflowed = true;
            }
            return Push::Pending;
        }
        let len = core::mem::take(&mut self.len);
        if core::mem::take(&mut self.overflowed) {
            return Push::Invalid;
        }
        let line = &self.bytes[..len];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match core::str::from_utf8(line) {
            Ok(text) => Push::Line(text),
            Err(_) => Push::Invalid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed<'a>(buffer: &'a mut LineBuffer, bytes: &[u8]) -> Push<'a> {
        let (last, head) = bytes.split_last().unwrap();
        for &b in head {
            assert_eq!(buffer.push(b), Push::Pending);
        }
        buffer.push(*last)
    }

    #[test]
    fn a_line_completes_at_newline_without_carriage_return() {
        let mut buffer = LineBuffer::new();
        assert_eq!(feed(&mut buffer, b"ping\r\n"), Push::Line("ping"));
        assert_eq!(feed(&mut buffer, b"id\n"), Push::Line("id"));
    }

    #[test]
    fn an_overlong_line_is_dropped_and_the_next_one_works() {
        let mut buffer = LineBuffer::new();
        for _ in 0..MAX_LINE_BYTES + 10 {
            assert_eq!(buffer.push(b'x'), Push::Pending);
        }
        assert_eq!(buffer.push(b'\n'), Push::Invalid);
        assert_eq!(feed(&mut buffer, b"mem\n"), Push::Line("mem"));
    }

    #[test]
    fn a_line_of_exactly_the_maximum_length_is_kept() {
        let mut buffer = LineBuffer::new();
        for _ in 0..MAX_LINE_BYTES {
            buffer.push(b'a');
        }
        match buffer.push(b'\n') {
            Push::Line(text) => assert_eq!(text.len(), MAX_LINE_BYTES),
            other => panic!("expected a line, got {other:?}"),
        }
    }

    #[test]
    fn invalid_utf8_is_rejected() {
        let mut buffer = LineBuffer::new();
        assert_eq!(feed(&mut buffer, b"id\xff\n"), Push::Invalid);
    }
}
