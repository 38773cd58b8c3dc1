//! Compile-time facts from the board's build.rs (boards/build-support),
//! turned into constants: `env!` strings parsed at compile time.

/// `major.minor.patch` packed as `major << 16 | minor << 8 | patch`.
pub const fn version(v: &str) -> u32 {
    let bytes = v.as_bytes();
    let (mut packed, mut part, mut i) = (0u32, 0u32, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'.' => {
                packed = packed << 8 | part;
                part = 0;
            }
            d @ b'0'..=b'9' => part = part * 10 + (d - b'0') as u32,
            _ => break,
        }
        i += 1;
    }
    packed << 8 | part
}

/// A decimal number.
pub const fn decimal(digits: &str) -> usize {
    let bytes = digits.as_bytes();
    let (mut value, mut i) = (0usize, 0);
    while i < bytes.len() {
        value = value * 10 + (bytes[i] - b'0') as usize;
        i += 1;
    }
    value
}

/// The build hash build.rs computed, 16 hex digits, as 8 bytes.
pub const fn build_hash(hex: &str) -> [u8; 8] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => 0,
        }
    }
    let h = hex.as_bytes();
    let mut out = [0u8; 8];
    let mut i = 0;
    while i < 8 && 2 * i + 1 < h.len() {
        out[i] = nibble(h[2 * i]) << 4 | nibble(h[2 * i + 1]);
        i += 1;
    }
    out
}
