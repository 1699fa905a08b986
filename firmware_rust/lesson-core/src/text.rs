//! Formatting answer lines without an allocator.

use core::fmt;

/// A fixed-capacity text buffer implementing `fmt::Write`; text beyond the capacity is cut and marked.
pub struct TextBuffer<const N: usize> {
    bytes: [u8; N],
    len: usize,
    truncated: bool,
}

impl<const N: usize> Default for TextBuffer<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> TextBuffer<N> {
    pub const fn new() -> Self {
        Self { bytes: [0; N], len: 0, truncated: false }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    pub fn as_str(&self) -> &str {
        // Only whole UTF-8 sequences are ever copied in (see write_str).
        core::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// Ends the text with `\n`, replacing the last character if the buffer is full, so a line always ends.
    pub fn end_line(&mut self) {
        if N == 0 {
            return;
        }
        if self.len == N {
            self.truncated = true;
            let mut cut = N - 1;
            while !self.as_bytes_unchecked_boundary(cut) {
                cut -= 1;
            }
            self.len = cut;
        }
        self.bytes[self.len] = b'\n';
        self.len += 1;
    }

    fn as_bytes_unchecked_boundary(&self, index: usize) -> bool {
        // A UTF-8 continuation byte is 0b10xx_xxxx; any other byte starts a character.
        index == 0 || index >= self.len || self.bytes[index] & 0xC0 != 0x80
    }

    pub fn clear(&mut self) {
        self.len = 0;
        self.truncated = false;
    }
}

impl<const N: usize> fmt::Write for TextBuffer<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = N - self.len;
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        self.bytes[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        if take < s.len() {
            self.truncated = true;
        }
        // Never an error: a cut message is better than none (this also formats panic messages).
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write;

    #[test]
    fn formats_into_the_buffer() {
        let mut text = TextBuffer::<32>::new();
        write!(text, "OK crc32 n={} crc=0x{:08x}", 5, 0xab).unwrap();
        assert_eq!(text.as_str(), "OK crc32 n=5 crc=0x000000ab");
        assert!(!text.truncated());
    }

    #[test]
    fn end_line_appends_a_newline_or_makes_room_for_one() {
        let mut text = TextBuffer::<4>::new();
        write!(text, "ab").unwrap();
        text.end_line();
        assert_eq!(text.as_str(), "ab\n");
        let mut full = TextBuffer::<4>::new();
        write!(full, "abcé").unwrap(); // "abc" fits, é does not
        write!(full, "d").unwrap();
        assert_eq!(full.as_str(), "abcd");
        full.end_line();
        assert_eq!(full.as_str(), "abc\n");
        assert!(full.truncated());
    }

    #[test]
    fn end_line_never_splits_a_character() {
        let mut text = TextBuffer::<4>::new();
        write!(text, "aé£").unwrap(); // a (1) + é (2) fit; £ (2) does not
        write!(text, "b").unwrap();
        assert_eq!(text.as_str(), "aéb");
        text.end_line();
        assert_eq!(text.as_str(), "aé\n");
    }

    #[test]
    fn overlong_text_is_cut_at_a_character_boundary() {
        let mut text = TextBuffer::<5>::new();
        write!(text, "abcdé").unwrap(); // é is 2 bytes and does not fit
        assert_eq!(text.as_str(), "abcd");
        assert!(text.truncated());
    }
}
