//! The deterministic ids the fakes derive from labels (digests, SHAs, ETags,
//! uids), so the same world always answers the same.

/// Deterministic pseudo-random hex of `len` digits derived from `label` (FNV-1a, stretched).
pub(crate) fn hex_id(label: &str, len: usize) -> String {
    let mut out = String::with_capacity(len + 16);
    let mut round = 0u64;
    while out.len() < len {
        let mut h = 0xcbf2_9ce4_8422_2325u64 ^ round;
        for b in label.bytes().chain(round.to_le_bytes()) {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        out.push_str(&format!("{h:016x}"));
        round += 1;
    }
    out.truncate(len);
    out
}
