//! Model files: reading, hashing, and telling ONNX from TFLite by content.
//!
//! A model path is checked before a byte is read: it must be a regular file
//! (not a directory, a FIFO or a device such as `/dev/zero`, which would be
//! read without end or block) and no larger than the target can hold
//! ([`ModelCapacity`]).

use std::fmt;
use std::fs::FileType;
use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::platform::error::{Error, Result, file_name};
use crate::platform::field::Field;

/// Serialisation format of a model file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ModelFormat {
    /// ONNX `ModelProto` (protobuf).
    Onnx,
    /// TensorFlow Lite flatbuffer (file identifier `TFL3`).
    Tflite,
}

impl fmt::Display for ModelFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ModelFormat::Onnx => "ONNX",
            ModelFormat::Tflite => "TFLite",
        })
    }
}

/// The largest model file a target can hold, and what holds it, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelCapacity {
    /// Largest model, bytes.
    pub bytes: u64,
    /// What sets the limit, as a message puts it after "larger than"
    /// (`board qemu-mps2-an385's flash model slot`).
    pub holder: String,
}

/// The largest TFLite flatbuffer or ONNX protobuf: both formats address
/// their content with 32-bit signed offsets or lengths, so neither file can
/// exceed 2 GiB (larger ONNX models keep their weights in external data
/// files, which vlab does not read).
pub const FORMAT_LIMIT: u64 = 2 << 30;

impl ModelCapacity {
    /// This machine: [`FORMAT_LIMIT`], or its RAM when that is smaller,
    /// since vlab and the engine hold the whole model in memory.
    pub fn host() -> Self {
        match crate::platform::memory::total_ram().filter(|&ram| ram < FORMAT_LIMIT) {
            Some(ram) => Self {
                bytes: ram,
                holder: "this machine's RAM".to_owned(),
            },
            None => Self {
                bytes: FORMAT_LIMIT,
                holder: "the 2 GiB a TFLite or ONNX model file can address".to_owned(),
            },
        }
    }
}

/// A model file read into memory, with its detected format and digest.
#[derive(Debug, Clone)]
pub struct ModelFile {
    path: PathBuf,
    bytes: Vec<u8>,
    format: ModelFormat,
    sha256: String,
}

impl ModelFile {
    /// Reads a model file no larger than `capacity` and detects its format
    /// from its content. Anything but a regular file is refused before it
    /// is opened.
    pub fn read(path: &Path, capacity: &ModelCapacity) -> Result<Self> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, &e))?;
        if let Some(kind) = not_a_file(meta.file_type()) {
            return Err(Error::file(path, format!("{kind}, expected a model file")));
        }
        let too_large = |size: u64| {
            Error::file(
                path,
                format!(
                    "{size} bytes is larger than {} ({} bytes)",
                    capacity.holder, capacity.bytes
                ),
            )
        };
        if meta.len() > capacity.bytes {
            return Err(too_large(meta.len()));
        }
        // Bounded even if the file grows between the check and the read.
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        std::fs::File::open(path)
            .and_then(|f| f.take(capacity.bytes + 1).read_to_end(&mut bytes))
            .map_err(|e| Error::io(path, &e))?;
        if bytes.len() as u64 > capacity.bytes {
            return Err(too_large(bytes.len() as u64));
        }
        Self::from_bytes(path, bytes)
    }

    /// Wraps bytes already in memory; `path` is used for names and messages.
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Self> {
        let format = detect_format(&bytes).map_err(|problem| Error::file(path, problem))?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        Ok(Self {
            path: path.to_path_buf(),
            bytes,
            format,
            sha256,
        })
    }

    /// The path the model was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file name, without directories.
    pub fn file_name(&self) -> String {
        file_name(&self.path)
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The detected format.
    pub fn format(&self) -> ModelFormat {
        self.format
    }

    /// Lowercase hex SHA-256 of the file.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The model file a target that runs files was given: `None` (a spec
    /// for a device that holds its own model) is an input error.
    pub fn needed(model: Option<&ModelFile>) -> Result<&ModelFile> {
        model.ok_or_else(|| {
            Error::input(format!(
                "{}: this target runs a model file; give one",
                Field::Model
            ))
        })
    }

    /// An input error about this model file.
    pub fn error(&self, problem: impl fmt::Display) -> Error {
        Error::file(&self.path, problem)
    }
}

/// What a path is when it is not a regular file, as a message says it.
fn not_a_file(kind: FileType) -> Option<&'static str> {
    if kind.is_file() {
        None
    } else if kind.is_dir() {
        Some("is a directory")
    } else if kind.is_fifo() {
        Some("is a named pipe (FIFO), not a regular file")
    } else if kind.is_char_device() {
        Some("is a character device, not a regular file")
    } else if kind.is_block_device() {
        Some("is a block device, not a regular file")
    } else if kind.is_socket() {
        Some("is a socket, not a regular file")
    } else {
        Some("is not a regular file")
    }
}

/// Detects the model format from the file's bytes, or says why it is neither.
pub fn detect_format(bytes: &[u8]) -> std::result::Result<ModelFormat, String> {
    if bytes.is_empty() {
        return Err("the file is empty".to_owned());
    }
    if bytes.get(4..8) == Some(b"TFL3") {
        return check_tflite_root(bytes).map(|()| ModelFormat::Tflite);
    }
    match scan_onnx(bytes) {
        Ok(()) => Ok(ModelFormat::Onnx),
        Err(OnnxScan::NotOnnx) => Err(
            "not a model vlab recognises: neither a TFLite flatbuffer (identifier TFL3) nor an ONNX protobuf"
                .to_owned(),
        ),
        Err(OnnxScan::Truncated) => {
            Err("truncated or corrupt ONNX file: a protobuf field runs past the end of the file".to_owned())
        }
        Err(OnnxScan::NoGraph) => Err("ONNX protobuf without a graph: not a model".to_owned()),
    }
}

/// The root table offset of a flatbuffer must point inside the file.
fn check_tflite_root(bytes: &[u8]) -> std::result::Result<(), String> {
    let root = bytes
        .get(0..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .unwrap_or(usize::MAX);
    if bytes.len() < 16 || root + 4 > bytes.len() {
        return Err(
            "truncated TFLite file: the flatbuffer root lies past the end of the file".to_owned(),
        );
    }
    Ok(())
}

enum OnnxScan {
    NotOnnx,
    Truncated,
    NoGraph,
}

/// Walks the top-level fields of a protobuf message and checks that they are
/// well-formed and look like an ONNX `ModelProto`: known field numbers with
/// the right wire types, every length inside the file, and a graph (field 7).
fn scan_onnx(bytes: &[u8]) -> std::result::Result<(), OnnxScan> {
    // ModelProto fields: 1 ir_version, 2 producer_name, 3 producer_version,
    // 4 domain, 5 model_version, 6 doc_string, 7 graph, 8 opset_import,
    // 14 metadata_props, 20 training_info, 25 functions, 26 configuration.
    const VARINT_FIELDS: [u64; 2] = [1, 5];
    const LEN_FIELDS: [u64; 10] = [2, 3, 4, 6, 7, 8, 14, 20, 25, 26];
    let mut pos = 0;
    let mut has_graph = false;
    while pos < bytes.len() {
        let tag = read_varint(bytes, &mut pos).ok_or(OnnxScan::NotOnnx)?;
        let (field, wire) = (tag >> 3, tag & 7);
        match wire {
            0 if VARINT_FIELDS.contains(&field) => {
                read_varint(bytes, &mut pos).ok_or(OnnxScan::Truncated)?;
            }
            2 if LEN_FIELDS.contains(&field) => {
                let len = read_varint(bytes, &mut pos).ok_or(OnnxScan::Truncated)?;
                let end = usize::try_from(len)
                    .ok()
                    .and_then(|len| pos.checked_add(len))
                    .filter(|&end| end <= bytes.len())
                    .ok_or(OnnxScan::Truncated)?;
                has_graph |= field == 7;
                pos = end;
            }
            _ => return Err(OnnxScan::NotOnnx),
        }
    }
    if has_graph {
        Ok(())
    } else {
        Err(OnnxScan::NoGraph)
    }
}

fn read_varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*pos)?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn onnx_like() -> Vec<u8> {
        // ir_version = 8, graph = 3 bytes of nested message.
        vec![0x08, 0x08, 0x3a, 0x03, 0x0a, 0x01, 0x41]
    }

    #[test]
    fn detects_onnx_by_content() {
        assert_eq!(detect_format(&onnx_like()), Ok(ModelFormat::Onnx));
    }

    #[test]
    fn truncated_onnx_is_reported_as_such() {
        let mut b = onnx_like();
        b.truncate(5);
        assert!(detect_format(&b).unwrap_err().contains("truncated"));
    }

    #[test]
    fn detects_tflite_identifier() {
        let mut b = vec![0u8; 32];
        b[0] = 16;
        b[4..8].copy_from_slice(b"TFL3");
        assert_eq!(detect_format(&b), Ok(ModelFormat::Tflite));
        b[0] = 200;
        assert!(detect_format(&b).unwrap_err().contains("truncated"));
    }

    #[test]
    fn garbage_and_empty_are_rejected() {
        assert!(detect_format(b"").unwrap_err().contains("empty"));
        assert!(detect_format(b"hello world, not a model").is_err());
        assert!(detect_format(&[0xff; 64]).is_err());
    }
}
