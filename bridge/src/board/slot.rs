//! What goes into a board's flash slot: the slot header (length, CRC and
//! MLPerf Tiny model key, `vlab_protocol::SlotHeader`), then the model.
//! The firmware finds the model by its header, in vlab's protocol and in
//! MLPerf Tiny mode.

use vlab_harness::{Error, Result};
use vlab_micro::Model;
use vlab_protocol::{MAX_KEY, SlotHeader};

/// The MLPerf Tiny model keys and the bytes of each benchmark's input, as
/// the reference models take them (`../shared/reference/mlperf-tiny.md`,
/// section 6.6); the anomaly detection input is 640 values, int8 or
/// float32.
const KEYS_BY_INPUT: &[(usize, &str)] = &[
    (490, "kws01"),
    (3072, "ic01"),
    (27_648, "vww01"),
    (640, "ad01"),
    (2560, "ad01"),
];

/// The flash slot's bytes for `model`: its header, then the model. `key`
/// is the MLPerf Tiny model key; without one, it is taken from the model's
/// input size when that is an MLPerf Tiny benchmark's, and left empty
/// otherwise.
pub fn image(model: &[u8], key: Option<&str>) -> Result<Vec<u8>> {
    let key = match key {
        Some(key) => key.to_owned(),
        None => mlperf_key(model).unwrap_or_default(),
    };
    let header = SlotHeader::new(model, &key).ok_or_else(|| {
        Error::input(format!(
            "MLPerf Tiny model key {key:?} must be at most {MAX_KEY} ASCII characters"
        ))
    })?;
    let mut image = header.encode().to_vec();
    image.extend_from_slice(model);
    Ok(image)
}

/// The MLPerf Tiny key of a model whose one input has an MLPerf Tiny
/// benchmark's size.
pub fn mlperf_key(model: &[u8]) -> Option<String> {
    let parsed = Model::parse(model).ok()?;
    let main = parsed.main();
    let mut inputs = main.inputs();
    let (Some(input), None) = (inputs.next(), inputs.next()) else {
        return None;
    };
    let bytes = main.tensor(input).ok()?.bytes();
    KEYS_BY_INPUT
        .iter()
        .find(|(size, _)| *size == bytes)
        .map(|(_, key)| (*key).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_image_is_the_header_then_the_model_and_keys_are_checked() {
        let model = b"not a tflite model";
        let image = image(model, Some("kws01")).unwrap();
        let header = SlotHeader::decode(&image).unwrap();
        assert_eq!(header.key(), "kws01");
        assert_eq!(header.model(&image), Some(&model[..]));
        let unknown = super::image(model, None).unwrap();
        assert_eq!(SlotHeader::decode(&unknown).unwrap().key(), "");
        let long = super::image(model, Some("keyword-spotting")).unwrap_err();
        assert!(long.message().contains("at most 8"), "{}", long.message());
    }
}
