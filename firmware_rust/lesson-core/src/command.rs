//! Parsing one protocol line into a command (docs/lesson-protocol.md).

use core::fmt;

/// Upper bounds of the numeric arguments: what the firmware's buffers and a sensible run time allow.
pub const MAX_CRC_BYTES: u32 = 16 * 1024 * 1024;
pub const MAX_SORT_VALUES: u32 = 1000;
pub const MAX_SIEVE_LIMIT: u32 = 100_000;
pub const MAX_FIB_TERMS: u32 = 1_000_000;
pub const MAX_TRANSFER_BYTES: u32 = 16 * 1024 * 1024;
pub const MAX_JITTER_ITERATIONS: u32 = 100_000;
/// `jitter N churn [B]`: the object allocated per iteration (two are alive at once: the firmware's heap holds them).
pub const DEFAULT_CHURN_BYTES: u32 = 256;
pub const MAX_CHURN_BYTES: u32 = 16 * 1024;
pub const MAX_DUAL_BLOCKS: u32 = 65_536;

/// Which benchmark kernel `bench` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    Crc32,
    Sort,
    Sieve,
    Fib,
}

impl Kernel {
    pub const fn name(self) -> &'static str {
        match self {
            Kernel::Crc32 => "crc32",
            Kernel::Sort => "sort",
            Kernel::Sieve => "sieve",
            Kernel::Fib => "fib",
        }
    }

    const fn max(self) -> u32 {
        match self {
            Kernel::Crc32 => MAX_CRC_BYTES,
            Kernel::Sort => MAX_SORT_VALUES,
            Kernel::Sieve => MAX_SIEVE_LIMIT,
            Kernel::Fib => MAX_FIB_TERMS,
        }
    }
}

/// How `panic` fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PanicKind {
    /// `Option::unwrap` on `None`.
    Unwrap,
    /// Slice index out of bounds.
    Index,
    /// `panic!` with a message.
    Explicit,
}

/// One parsed command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command<'a> {
    Id,
    Ping,
    Bench {
        kernel: Kernel,
        n: u32,
    },
    Tx {
        size_bytes: u32,
    },
    Rx {
        size_bytes: u32,
    },
    Parse {
        text: &'a str,
    },
    Panic {
        kind: PanicKind,
    },
    Mem,
    /// `jitter N [churn [B]]`: with `churn`, each iteration also allocates a B-byte object (default
    /// DEFAULT_CHURN_BYTES) and frees the previous one; `churn_bytes` is 0 without churn.
    Jitter {
        iterations: u32,
        churn_bytes: u32,
    },
    Dual {
        blocks: u32,
    },
    /// An empty line: ignored, no answer.
    Empty,
}

/// Why a line is not a valid command. `command` is the word the `ERR` line names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandError<'a> {
    pub command: &'a str,
    pub kind: CommandErrorKind<'a>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandErrorKind<'a> {
    Unknown,
    MissingArgument(&'static str),
    NotANumber(&'a str),
    OutOfRange { value: u32, min: u32, max: u32 },
    UnknownVariant { given: &'a str, expected: &'static str },
    ExtraArgument(&'a str),
}

impl fmt::Display for CommandError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            CommandErrorKind::Unknown => write!(f, "unknown command"),
            CommandErrorKind::MissingArgument(what) => write!(f, "missing argument: {what}"),
            CommandErrorKind::NotANumber(text) => write!(f, "not a number: {text}"),
            CommandErrorKind::OutOfRange { value, min, max } => {
                write!(f, "{value} out of range {min}..={max}")
            }
            CommandErrorKind::UnknownVariant { given, expected } => {
                write!(f, "unknown {given}, expected one of: {expected}")
            }
            CommandErrorKind::ExtraArgument(text) => write!(f, "unexpected argument: {text}"),
        }
    }
}

/// Parses one line (without its `\n`; a trailing `\r` and surrounding spaces are ignored).
pub fn parse(line: &str) -> Result<Command<'_>, CommandError<'_>> {
    let line = line.trim_matches(|c: char| c == '\r' || c == ' ' || c == '\t');
    if line.is_empty() {
        return Ok(Command::Empty);
    }
    let (word, rest) = split_word(line);
    let mut args = Args { command: word, rest };
    let command = match word {
        "id" => Command::Id,
        "ping" => Command::Ping,
        "bench" => {
            let kernel_word = args.word("kernel")?;
            let kernel = match kernel_word {
                "crc32" => Kernel::Crc32,
                "sort" => Kernel::Sort,
                "sieve" => Kernel::Sieve,
                "fib" => Kernel::Fib,
                given => {
                    return Err(args.error(CommandErrorKind::UnknownVariant { given, expected: "crc32 sort sieve fib" }))
                }
            };
            Command::Bench { kernel, n: args.number("N", 0, kernel.max())? }
        }
        "tx" => Command::Tx { size_bytes: args.number("N", 0, MAX_TRANSFER_BYTES)? },
        "rx" => Command::Rx { size_bytes: args.number("N", 0, MAX_TRANSFER_BYTES)? },
        "parse" => {
            // Everything after the word is the text, spaces included; it may be empty (that is a parse error).
            let text = args.rest;
            args.rest = "";
            Command::Parse { text }
        }
        "panic" => {
            let kind = match args.word("kind")? {
                "unwrap" => PanicKind::Unwrap,
                "index" => PanicKind::Index,
                "explicit" => PanicKind::Explicit,
                given => {
                    return Err(
                        args.error(CommandErrorKind::UnknownVariant { given, expected: "unwrap index explicit" })
                    )
                }
            };
            Command::Panic { kind }
        }
        "mem" => Command::Mem,
        "jitter" => {
            let iterations = args.number("N", 1, MAX_JITTER_ITERATIONS)?;
            let churn_bytes = match args.optional_word() {
                None => 0,
                Some("churn") if args.at_end() => DEFAULT_CHURN_BYTES,
                Some("churn") => args.number("B", 1, MAX_CHURN_BYTES)?,
                Some(given) => return Err(args.error(CommandErrorKind::UnknownVariant { given, expected: "churn" })),
            };
            Command::Jitter { iterations, churn_bytes }
        }
        "dual" => Command::Dual { blocks: args.number("N", 2, MAX_DUAL_BLOCKS)? },
        _ => return Err(args.error(CommandErrorKind::Unknown)),
    };
    args.finish()?;
    Ok(command)
}

fn split_word(text: &str) -> (&str, &str) {
    let text = text.trim_start_matches(' ');
    match text.find(' ') {
        Some(at) => (&text[..at], text[at + 1..].trim_start_matches(' ')),
        None => (text, ""),
    }
}

struct Args<'a> {
    command: &'a str,
    rest: &'a str,
}

impl<'a> Args<'a> {
    fn error(&self, kind: CommandErrorKind<'a>) -> CommandError<'a> {
        CommandError { command: self.command, kind }
    }

    fn word(&mut self, what: &'static str) -> Result<&'a str, CommandError<'a>> {
        let (word, rest) = split_word(self.rest);
        if word.is_empty() {
            return Err(self.error(CommandErrorKind::MissingArgument(what)));
        }
        self.rest = rest;
        Ok(word)
    }

    fn optional_word(&mut self) -> Option<&'a str> {
        let (word, rest) = split_word(self.rest);
        if word.is_empty() {
            return None;
        }
        self.rest = rest;
        Some(word)
    }

    fn number(&mut self, what: &'static str, min: u32, max: u32) -> Result<u32, CommandError<'a>> {
        let word = self.word(what)?;
        let value: u32 = word.parse().map_err(|_| self.error(CommandErrorKind::NotANumber(word)))?;
        if value < min || value > max {
            return Err(self.error(CommandErrorKind::OutOfRange { value, min, max }));
        }
        Ok(value)
    }

    fn at_end(&self) -> bool {
        split_word(self.rest).0.is_empty()
    }

    fn finish(&self) -> Result<(), CommandError<'a>> {
        let (extra, _) = split_word(self.rest);
        if extra.is_empty() {
            Ok(())
        } else {
            Err(self.error(CommandErrorKind::ExtraArgument(extra)))
        }
    }
}

/// Why `parse TEXT` failed: the explicitly handled `Result` of the lesson.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumberError {
    Empty,
    InvalidDigit { position: usize },
    Overflow,
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumberError::Empty => write!(f, "empty input"),
            NumberError::InvalidDigit { position } => write!(f, "invalid digit at position {position}"),
            NumberError::Overflow => write!(f, "number does not fit in i32"),
        }
    }
}

/// `parse TEXT`: a signed decimal integer that fits in i32, or the reason it is not one.
pub fn parse_i32(text: &str) -> Result<i32, NumberError> {
    let bytes = text.as_bytes();
    let (negative, digits_start) = match bytes.first() {
        None => return Err(NumberError::Empty),
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        Some(_) => (false, 0),
    };
    if digits_start == bytes.len() {
        return Err(NumberError::InvalidDigit { position: digits_start });
    }
    // Accumulate negatively so i32::MIN parses without overflow.
    let mut value: i32 = 0;
    for (position, &b) in bytes.iter().enumerate().skip(digits_start) {
        let digit = match b {
            b'0'..=b'9' => (b - b'0') as i32,
            _ => return Err(NumberError::InvalidDigit { position }),
        };
        value = value.checked_mul(10).and_then(|v| v.checked_sub(digit)).ok_or(NumberError::Overflow)?;
    }
    if negative {
        Ok(value)
    } else {
        value.checked_neg().ok_or(NumberError::Overflow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_commands_parse_with_or_without_carriage_return() {
        assert_eq!(parse("id"), Ok(Command::Id));
        assert_eq!(parse("ping\r"), Ok(Command::Ping));
        assert_eq!(parse("mem"), Ok(Command::Mem));
        assert_eq!(parse(""), Ok(Command::Empty));
        assert_eq!(parse("\r"), Ok(Command::Empty));
    }

    #[test]
    fn bench_takes_a_kernel_and_a_bounded_size() {
        assert_eq!(parse("bench crc32 65536"), Ok(Command::Bench { kernel: Kernel::Crc32, n: 65536 }));
        assert_eq!(parse("bench  sort   1000"), Ok(Command::Bench { kernel: Kernel::Sort, n: 1000 }));
        assert_eq!(parse("bench sieve 100000"), Ok(Command::Bench { kernel: Kernel::Sieve, n: 100_000 }));
        assert_eq!(parse("bench fib 800"), Ok(Command::Bench { kernel: Kernel::Fib, n: 800 }));
        let err = parse("bench sort 1001").unwrap_err();
        assert_eq!(err.command, "bench");
        assert_eq!(err.kind, CommandErrorKind::OutOfRange { value: 1001, min: 0, max: 1000 });
    }

    #[test]
    fn bench_reports_what_is_wrong() {
        assert_eq!(parse("bench").unwrap_err().kind, CommandErrorKind::MissingArgument("kernel"));
        assert_eq!(parse("bench crc32").unwrap_err().kind, CommandErrorKind::MissingArgument("N"));
        assert_eq!(parse("bench crc32 lots").unwrap_err().kind, CommandErrorKind::NotANumber("lots"));
        assert_eq!(parse("bench crc32 -5").unwrap_err().kind, CommandErrorKind::NotANumber("-5"));
        assert!(matches!(
            parse("bench md5 10").unwrap_err().kind,
            CommandErrorKind::UnknownVariant { given: "md5", .. }
        ));
        assert_eq!(parse("bench crc32 10 20").unwrap_err().kind, CommandErrorKind::ExtraArgument("20"));
    }

    #[test]
    fn transfer_and_measurement_commands_take_sizes() {
        assert_eq!(parse("tx 4096"), Ok(Command::Tx { size_bytes: 4096 }));
        assert_eq!(parse("rx 0"), Ok(Command::Rx { size_bytes: 0 }));
        assert_eq!(parse("jitter 1000"), Ok(Command::Jitter { iterations: 1000, churn_bytes: 0 }));
        assert_eq!(parse("jitter 1000 churn"), Ok(Command::Jitter { iterations: 1000, churn_bytes: 256 }));
        assert_eq!(parse("jitter 50 churn 16384"), Ok(Command::Jitter { iterations: 50, churn_bytes: 16384 }));
        assert!(matches!(parse("jitter 50 churn 16385").unwrap_err().kind, CommandErrorKind::OutOfRange { .. }));
        assert!(matches!(parse("jitter 50 churn 0").unwrap_err().kind, CommandErrorKind::OutOfRange { .. }));
        assert!(matches!(
            parse("jitter 10 gc").unwrap_err().kind,
            CommandErrorKind::UnknownVariant { given: "gc", .. }
        ));
        assert!(matches!(parse("jitter 10 churn x").unwrap_err().kind, CommandErrorKind::NotANumber("x")));
        assert!(matches!(parse("jitter 10 churn 8 x").unwrap_err().kind, CommandErrorKind::ExtraArgument("x")));
        assert_eq!(parse("dual 512"), Ok(Command::Dual { blocks: 512 }));
        assert!(matches!(parse("jitter 0").unwrap_err().kind, CommandErrorKind::OutOfRange { .. }));
        assert!(matches!(parse("dual 1").unwrap_err().kind, CommandErrorKind::OutOfRange { .. }));
    }

    #[test]
    fn parse_keeps_the_rest_of_the_line_as_text() {
        assert_eq!(parse("parse 42"), Ok(Command::Parse { text: "42" }));
        assert_eq!(parse("parse 4 2"), Ok(Command::Parse { text: "4 2" }));
        assert_eq!(parse("parse"), Ok(Command::Parse { text: "" }));
    }

    #[test]
    fn panic_kinds_parse() {
        assert_eq!(parse("panic unwrap"), Ok(Command::Panic { kind: PanicKind::Unwrap }));
        assert_eq!(parse("panic index"), Ok(Command::Panic { kind: PanicKind::Index }));
        assert_eq!(parse("panic explicit"), Ok(Command::Panic { kind: PanicKind::Explicit }));
        assert!(matches!(parse("panic softly").unwrap_err().kind, CommandErrorKind::UnknownVariant { .. }));
    }

    #[test]
    fn unknown_words_are_named_in_the_error() {
        let err = parse("reboot now").unwrap_err();
        assert_eq!((err.command, err.kind), ("reboot", CommandErrorKind::Unknown));
    }

    #[test]
    fn parse_i32_accepts_signed_decimal_integers() {
        assert_eq!(parse_i32("42"), Ok(42));
        assert_eq!(parse_i32("-17"), Ok(-17));
        assert_eq!(parse_i32("+8"), Ok(8));
        assert_eq!(parse_i32("2147483647"), Ok(i32::MAX));
        assert_eq!(parse_i32("-2147483648"), Ok(i32::MIN));
    }

    #[test]
    fn parse_i32_explains_its_errors() {
        assert_eq!(parse_i32(""), Err(NumberError::Empty));
        assert_eq!(parse_i32("12x4"), Err(NumberError::InvalidDigit { position: 2 }));
        assert_eq!(parse_i32("-"), Err(NumberError::InvalidDigit { position: 1 }));
        assert_eq!(parse_i32("2147483648"), Err(NumberError::Overflow));
    }
}
