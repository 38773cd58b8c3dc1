//! Three-decimal printing of an `f32`, as `%0.3f` and Rust's `{:.3}` print
//! it (the exact value rounded half to even), without core's float
//! formatting, which would add tens of KiB of flash to every board.

use embedded_io::Write;

/// Largest magnitude printed exactly: beyond it the thousandths no longer
/// fit a `u64`. No model output comes near it.
const LIMIT: f64 = 1.8e16;

/// Writes `value` with three decimals.
pub fn write<W: Write>(out: &mut W, value: f32) -> Result<(), W::Error> {
    if value.is_nan() {
        return out.write_all(b"nan");
    }
    let sign: &[u8] = if value.is_sign_negative() { b"-" } else { b"" };
    // An f32 has 24 significant bits and 1000 needs 10: the product is
    // exact in an f64.
    let scaled = f64::from(value).abs() * 1000.0;
    if scaled.is_infinite() || scaled >= LIMIT {
        out.write_all(sign)?;
        return out.write_all(b"inf");
    }
    let whole = scaled as u64;
    let fraction = scaled - whole as f64;
    let thousandths = if fraction > 0.5 || (fraction == 0.5 && whole % 2 == 1) {
        whole + 1
    } else {
        whole
    };
    out.write_all(sign)?;
    let mut digits = [0u8; 24];
    let mut at = digits.len();
    let mut rest = thousandths;
    let mut count = 0;
    while rest > 0 || count < 4 {
        if count == 3 {
            at -= 1;
            digits[at] = b'.';
        }
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        count += 1;
    }
    out.write_all(&digits[at..])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer into a fixed buffer.
    struct Buf([u8; 32], usize);

    impl embedded_io::ErrorType for Buf {
        type Error = core::convert::Infallible;
    }

    impl Write for Buf {
        fn write(&mut self, bytes: &[u8]) -> Result<usize, Self::Error> {
            self.0[self.1..self.1 + bytes.len()].copy_from_slice(bytes);
            self.1 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
    }

    fn text(value: f32) -> heapless::String<32> {
        let mut buf = Buf([0; 32], 0);
        let Ok(()) = write(&mut buf, value);
        let mut s = heapless::String::new();
        let _ = s.push_str(core::str::from_utf8(&buf.0[..buf.1]).unwrap_or("?"));
        s
    }

    #[test]
    fn prints_as_format_does_ties_included() {
        for (value, expected) in [
            (0.0f32, "0.000"),
            (-0.0, "-0.000"),
            (0.0625, "0.062"),
            (0.1875, "0.188"),
            (0.99609375, "0.996"),
            (1.0, "1.000"),
            (12.3456, "12.346"),
            (-3.5, "-3.500"),
            (-0.0004, "-0.000"),
            (123456.79, "123456.789"),
        ] {
            assert_eq!(text(value).as_str(), expected, "{value}");
        }
        assert_eq!(text(f32::NAN).as_str(), "nan");
        assert_eq!(text(f32::NEG_INFINITY).as_str(), "-inf");
    }
}
