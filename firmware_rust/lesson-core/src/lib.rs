//! Pure logic of the lesson firmware: the line protocol and the benchmark kernels.
//!
//! `no_std` and free of hardware access, so it builds for the RP2040 and for the host, where `cargo test` runs
//! its unit tests. The protocol is specified in `docs/lesson-protocol.md`; the kernels compute the same results
//! as the MicroPython scripts in `scripts_micropython/lesson/`.
#![no_std]

pub mod build_id;
pub mod command;
pub mod kernels;
pub mod line_buffer;
pub mod stats;
pub mod text;

/// Name reported by `id` and the boot banner.
pub const FIRMWARE_NAME: &str = "lesson";
