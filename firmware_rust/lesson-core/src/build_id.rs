//! The build id slot: 8 magic bytes followed by the 8-byte id, patched into the linked ELF by the host.
//!
//! The id is the first 8 bytes of SHA-256 over the ELF's loadable content with the id bytes taken as zero
//! (docs/firmware.md), so the slot cannot influence its own value and patching is idempotent.

/// Marks the slot so the host finds it in the ELF without symbols.
pub const MAGIC: [u8; 8] = *b"LESSONID";
/// Length of the id itself, after the magic.
pub const ID_SIZE_BYTES: usize = 8;
/// Whole slot: magic then id.
pub const SLOT_SIZE_BYTES: usize = MAGIC.len() + ID_SIZE_BYTES;

/// The slot as linked, before the host patches it: the id is all zero.
pub const UNPATCHED_SLOT: [u8; SLOT_SIZE_BYTES] = {
    let mut slot = [0u8; SLOT_SIZE_BYTES];
    let mut i = 0;
    while i < MAGIC.len() {
        slot[i] = MAGIC[i];
        i += 1;
    }
    slot
};

/// The id bytes of a slot as 16 lowercase hex digits (all zeros means "not patched").
pub fn id_hex(slot: &[u8; SLOT_SIZE_BYTES]) -> [u8; 2 * ID_SIZE_BYTES] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 2 * ID_SIZE_BYTES];
    for (i, byte) in slot[MAGIC.len()..].iter().enumerate() {
        out[2 * i] = DIGITS[(byte >> 4) as usize];
        out[2 * i + 1] = DIGITS[(byte & 0x0f) as usize];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpatched_slot_starts_with_magic_and_has_a_zero_id() {
        assert_eq!(&UNPATCHED_SLOT[..8], b"LESSONID");
        assert_eq!(&id_hex(&UNPATCHED_SLOT), b"0000000000000000");
    }

    #[test]
    fn id_is_printed_as_lowercase_hex_in_byte_order() {
        let mut slot = UNPATCHED_SLOT;
        slot[8..].copy_from_slice(&[0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]);
        assert_eq!(&id_hex(&slot), b"0123456789abcdef");
    }
}
