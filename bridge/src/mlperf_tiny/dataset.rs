//! An MLPerf Tiny dataset in the official layout: `<dir>/<model>/y_labels.csv`
//! (no header: `file.bin,classes,class[,bytes_to_send,stride]`) beside the
//! `.bin` files, read raw.

use std::path::{Path, PathBuf};

use vlab_harness::{Error, Result};

/// One row of `y_labels.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// The `.bin` file.
    pub path: PathBuf,
    /// How many classes the benchmark has.
    pub classes: usize,
    /// The true class.
    pub class: usize,
    /// Anomaly detection: bytes of one segment and the stride between
    /// segments.
    pub segments: Option<(usize, usize)>,
}

/// The folder of `model_key`'s files (`ic02` shares `ic01`'s).
pub fn folder(dataset: &Path, model_key: &str) -> PathBuf {
    dataset.join(if model_key == "ic02" {
        "ic01"
    } else {
        model_key
    })
}

/// The samples of `model_key` in `dataset`, in file order.
pub fn samples(dataset: &Path, model_key: &str) -> Result<Vec<Sample>> {
    let dir = folder(dataset, model_key);
    let index = dir.join("y_labels.csv");
    let text = std::fs::read_to_string(&index)
        .map_err(|e| Error::input(format!("{}: cannot read it: {e}", index.display())))?;
    let mut samples = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |what: &str| {
            Error::input(format!(
                "{}: line {}: {what}: {line:?}",
                index.display(),
                n + 1
            ))
        };
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let number = |i: usize, name: &str| -> Result<usize> {
            fields
                .get(i)
                .ok_or_else(|| bad(&format!("no {name} column")))?
                .parse()
                .map_err(|_| bad(&format!("{name} is not a whole number")))
        };
        let file = fields[0];
        if file.is_empty() || file.contains('/') || file.contains("..") {
            return Err(bad("the file must be a plain file name"));
        }
        let classes = number(1, "classes")?;
        let class = number(2, "class")?;
        if class >= classes.max(2) {
            return Err(bad(&format!(
                "class {class} is not below classes {classes}"
            )));
        }
        let segments = match fields.len() {
            5.. => Some((number(3, "bytes_to_send")?, number(4, "stride")?)),
            _ => None,
        };
        if segments.is_some_and(|(bytes, stride)| bytes == 0 || stride == 0) {
            return Err(bad("bytes_to_send and stride must be above 0"));
        }
        samples.push(Sample {
            path: dir.join(file),
            classes,
            class,
            segments,
        });
    }
    if samples.is_empty() {
        return Err(Error::input(format!("{}: no samples", index.display())));
    }
    Ok(samples)
}

/// A sample's bytes.
pub fn read(sample: &Sample) -> Result<Vec<u8>> {
    std::fs::read(&sample.path)
        .map_err(|e| Error::input(format!("{}: cannot read it: {e}", sample.path.display())))
}
