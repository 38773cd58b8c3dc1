//! The input buffer into the model's input, converted as the reference
//! firmware's `th_load_tensor` does for each benchmark's dataset format:
//! - `ic01` and `vww01` datasets are RGB bytes (uint8); an int8 input takes
//!   them minus 128;
//! - a quantized input given four bytes per value takes them as float32
//!   and quantizes them (`ad01`'s spectrograms);
//! - anything else of the input's size is copied as it is (`kws01`'s int8
//!   features).

use vlab_micro::model::{ElemType, TensorInfo};

/// Why the buffer does not fit the input.
pub struct Mismatch {
    /// Bytes in the buffer.
    pub given: usize,
    /// Bytes the input takes.
    pub wanted: usize,
}

/// Fills `input` (the model's input tensor, described by `info`) from
/// `db`, for a model whose MLPerf Tiny key is `key`.
pub fn load(key: &str, info: &TensorInfo<'_>, db: &[u8], input: &mut [u8]) -> Result<(), Mismatch> {
    let quantized = matches!(info.dtype, ElemType::I8 | ElemType::U8) && info.quant.is_some();
    if db.len() == input.len() {
        let rgb_to_int8 = info.dtype == ElemType::I8 && matches!(key, "ic01" | "vww01");
        for (to, &from) in input.iter_mut().zip(db) {
            *to = if rgb_to_int8 { from ^ 0x80 } else { from };
        }
        return Ok(());
    }
    if quantized && db.len() == input.len() * 4 {
        let (scale, zero) = info.quant.map_or((1.0, 0), |q| (q.scale, q.zero_point));
        let (low, high) = match info.dtype {
            ElemType::I8 => (-128, 127),
            _ => (0, 255),
        };
        for (to, from) in input.iter_mut().zip(db.chunks_exact(4)) {
            let value = f32::from_le_bytes([from[0], from[1], from[2], from[3]]);
            let q = (round(value / scale) as i32)
                .saturating_add(zero)
                .clamp(low, high);
            *to = q as u8;
        }
        return Ok(());
    }
    Err(Mismatch {
        given: db.len(),
        wanted: input.len(),
    })
}

/// Rounds half away from zero, as C's `roundf` (`f32::round` needs std).
fn round(x: f32) -> f32 {
    let t = x as i64 as f32;
    let frac = x - t;
    if frac >= 0.5 {
        t + 1.0
    } else if frac <= -0.5 {
        t - 1.0
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vlab_micro::model::{QParams, Shape};

    fn info(dtype: ElemType, quant: Option<QParams>) -> TensorInfo<'static> {
        TensorInfo {
            dtype,
            shape: Shape::new(&[4]).unwrap(),
            quant,
            ..TensorInfo::empty()
        }
    }

    #[test]
    fn each_dataset_format_becomes_the_models_input() {
        let int8 = info(
            ElemType::I8,
            Some(QParams {
                scale: 0.5,
                zero_point: -1,
            }),
        );
        let mut input = [0u8; 4];
        load("ic01", &int8, &[0, 128, 255, 1], &mut input)
            .ok()
            .unwrap();
        assert_eq!(input, [128, 0, 127, 129], "RGB minus 128");
        load("kws01", &int8, &[0, 128, 255, 1], &mut input)
            .ok()
            .unwrap();
        assert_eq!(input, [0, 128, 255, 1], "as it is");
        let mut floats = [0u8; 16];
        for (i, v) in [1.0f32, -1.0, 100.0, 0.26].iter().enumerate() {
            floats[4 * i..4 * i + 4].copy_from_slice(&v.to_le_bytes());
        }
        load("ad01", &int8, &floats, &mut input).ok().unwrap();
        assert_eq!(
            input.map(|b| b as i8),
            [1, -3, 127, 0],
            "quantized, clamped"
        );
        let wrong = load("kws01", &int8, &[1, 2, 3], &mut input).err().unwrap();
        assert_eq!((wrong.given, wrong.wanted), (3, 4));
    }
}
