//! Where input tensors come from: seeded random data (TYPE1) or a raw
//! dataset file (TYPE2).
//!
//! # Dataset layout
//!
//! A dataset is the concatenation of samples with no header. Each sample is
//! the raw bytes of every model input, in the model's input order, each
//! input's elements in row-major order and little-endian, exactly
//! `sum(input byte sizes)` bytes. For a single-input model this is the
//! contract's "preprocessed input tensors of all samples concatenated".
//! Inputs with a fixed value ([`InputValues`]) are not in the samples.
//!
//! A dataset may also be a NumPy `.npy` file holding the one input that
//! comes from the dataset, `(N, ...)`; its element type and shape are
//! checked against the input first.

mod npy;

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::platform::error::{Error, Result, file_name};
use crate::platform::field::Field;
use crate::seam::params::InputValues;
use crate::seam::tensor::{DType, TensorSpec};
use crate::spec::Workload;

/// Byte size of every input, in model order. Inputs must have fixed shapes.
pub fn input_sizes(inputs: &[TensorSpec]) -> Result<Vec<usize>> {
    inputs
        .iter()
        .map(|spec| {
            spec.byte_size().ok_or_else(|| {
                Error::input(format!(
                    "input '{}' has no fixed shape; give it with {}",
                    spec.name,
                    Field::InputShapes
                ))
            })
        })
        .collect()
}

/// Seeded random bytes for one input, reproducible for a given seed, input
/// index and vlab version.
///
/// Values by type: floats uniform in [-1, 1); 8- and 16-bit integers over
/// their full range; 32- and 64-bit integers in [0, 100) (they are usually
/// indices or sizes, which full-range values would only break); bools 0 or 1.
pub fn random_input(spec: &TensorSpec, index: usize, seed: u64) -> Result<Vec<u8>> {
    let size = input_sizes(std::slice::from_ref(spec))?[0];
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index as u64);
    let count = size / spec.dtype.size();
    let mut bytes = Vec::with_capacity(size);
    match spec.dtype {
        DType::Int8 | DType::Uint8 | DType::Int16 | DType::Uint16 => {
            bytes.resize(size, 0);
            rng.fill_bytes(&mut bytes);
        }
        DType::Bool => bytes.extend((0..count).map(|_| u8::from(rng.random::<bool>()))),
        DType::Float32 => {
            for _ in 0..count {
                bytes.extend_from_slice(&rng.random_range(-1.0f32..1.0).to_le_bytes());
            }
        }
        DType::Float64 => {
            for _ in 0..count {
                bytes.extend_from_slice(&rng.random_range(-1.0f64..1.0).to_le_bytes());
            }
        }
        DType::Int32 | DType::Uint32 => {
            for _ in 0..count {
                bytes.extend_from_slice(&rng.random_range(0u32..100).to_le_bytes());
            }
        }
        DType::Int64 | DType::Uint64 => {
            for _ in 0..count {
                bytes.extend_from_slice(&rng.random_range(0u64..100).to_le_bytes());
            }
        }
    }
    Ok(bytes)
}

/// Bytes for every input of a model: the input's value where `values`
/// gives one, seeded random bytes otherwise.
pub fn random_inputs(
    inputs: &[TensorSpec],
    values: &InputValues,
    seed: u64,
) -> Result<Vec<Vec<u8>>> {
    let constants = constant_inputs(inputs, values)?;
    inputs
        .iter()
        .zip(constants)
        .enumerate()
        .map(|(i, (spec, constant))| match constant {
            Some(bytes) => Ok(bytes),
            None => random_input(spec, i, seed),
        })
        .collect()
}

/// For each input, its bytes when `values` gives it one. Fails when a value
/// names no input or does not fit the input's type.
fn constant_inputs(inputs: &[TensorSpec], values: &InputValues) -> Result<Vec<Option<Vec<u8>>>> {
    if let Some(unknown) = values
        .names()
        .find(|name| !inputs.iter().any(|i| i.name == *name))
    {
        let known: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
        return Err(Error::input(format!(
            "input value for '{unknown}': the model has no such input (inputs: {})",
            known.join(", ")
        )));
    }
    let sizes = input_sizes(inputs)?;
    inputs
        .iter()
        .zip(sizes)
        .map(|(spec, size)| {
            values
                .get(&spec.name)
                .map(|v| InputValues::fill(&spec.name, v, spec.dtype, size / spec.dtype.size()))
                .transpose()
        })
        .collect()
}

/// Inputs of a measured run, ready to be handed to an engine or a board.
pub struct InputSource(Source);

enum Source {
    /// TYPE1: the same inputs for every inference.
    Random {
        seed: u64,
        iterations: usize,
        inputs: Vec<TensorSpec>,
        values: InputValues,
    },
    /// TYPE2: one sample per inference; inputs with a value are not in the file.
    Dataset {
        dataset: Dataset,
        constants: Vec<Option<Vec<u8>>>,
        scratch: Vec<Vec<u8>>,
    },
}

impl InputSource {
    /// Prepares the inputs `workload` describes for a model's `inputs`.
    pub fn open(workload: &Workload, inputs: &[TensorSpec], values: &InputValues) -> Result<Self> {
        let constants = constant_inputs(inputs, values)?;
        Ok(Self(match workload {
            Workload::Random { seed, iterations } => Source::Random {
                seed: *seed,
                iterations: *iterations,
                inputs: inputs.to_vec(),
                values: values.clone(),
            },
            Workload::Dataset { path } => {
                let in_file: Vec<TensorSpec> = inputs
                    .iter()
                    .zip(&constants)
                    .filter(|(_, c)| c.is_none())
                    .map(|(spec, _)| spec.clone())
                    .collect();
                Source::Dataset {
                    dataset: Dataset::open(path, &in_file)?,
                    constants,
                    scratch: Vec::new(),
                }
            }
        }))
    }

    /// Fills `buffers` with the inputs of the first and warmup inferences:
    /// the TYPE1 inputs, or the dataset's first sample (which the timed
    /// loop then reads again from the start).
    pub fn first(&mut self, buffers: &mut Vec<Vec<u8>>) -> Result<()> {
        match &mut self.0 {
            Source::Random {
                seed,
                inputs,
                values,
                ..
            } => {
                *buffers = random_inputs(inputs, values, *seed)?;
                Ok(())
            }
            Source::Dataset {
                dataset,
                constants,
                scratch,
            } => {
                let mut probe = dataset.reopen()?;
                probe.read_next(scratch)?;
                assemble(constants, scratch, buffers);
                Ok(())
            }
        }
    }

    /// The number of TYPE1 inferences, or `None` for a dataset.
    pub fn random_iterations(&self) -> Option<usize> {
        match &self.0 {
            Source::Random { iterations, .. } => Some(*iterations),
            Source::Dataset { .. } => None,
        }
    }

    /// Reads the next dataset sample into `buffers`, one per model input.
    /// Returns `false` after the last sample, and always for TYPE1.
    pub fn next_sample(&mut self, buffers: &mut Vec<Vec<u8>>) -> Result<bool> {
        match &mut self.0 {
            Source::Random { .. } => Ok(false),
            Source::Dataset {
                dataset,
                constants,
                scratch,
            } => {
                if !dataset.read_next(scratch)? {
                    return Ok(false);
                }
                assemble(constants, scratch, buffers);
                Ok(true)
            }
        }
    }

    /// The number of timed inferences.
    pub fn count(&self) -> usize {
        match &self.0 {
            Source::Random { iterations, .. } => *iterations,
            Source::Dataset { dataset, .. } => dataset.samples(),
        }
    }

    /// The TYPE1 seed.
    pub fn seed(&self) -> Option<u64> {
        match &self.0 {
            Source::Random { seed, .. } => Some(*seed),
            Source::Dataset { .. } => None,
        }
    }

    /// The TYPE2 dataset.
    pub fn dataset_info(&self) -> Option<DatasetInfo> {
        match &self.0 {
            Source::Random { .. } => None,
            Source::Dataset { dataset, .. } => Some(DatasetInfo {
                file_name: dataset.file_name(),
                samples: dataset.samples(),
            }),
        }
    }
}

/// Model-order input buffers from the constant inputs and one sample of the
/// others.
fn assemble(constants: &[Option<Vec<u8>>], sample: &[Vec<u8>], buffers: &mut Vec<Vec<u8>>) {
    buffers.resize_with(constants.len(), Vec::new);
    let mut from_file = sample.iter();
    for (buffer, constant) in buffers.iter_mut().zip(constants) {
        let source = match constant {
            Some(bytes) => bytes,
            None => from_file.next().map_or(&[][..], Vec::as_slice),
        };
        buffer.clear();
        buffer.extend_from_slice(source);
    }
}

/// A TYPE2 dataset file, read one sample at a time.
pub struct Dataset {
    path: PathBuf,
    reader: BufReader<File>,
    specs: Vec<TensorSpec>,
    sizes: Vec<usize>,
    samples: usize,
    next: usize,
}

impl Dataset {
    /// Opens a dataset for a model's inputs and checks that its size is a
    /// whole number of samples.
    pub fn open(path: &Path, inputs: &[TensorSpec]) -> Result<Self> {
        let sizes = input_sizes(inputs)?;
        let sample_size: usize = sizes.iter().sum();
        if path.is_dir() {
            return Err(Error::file(path, "is a directory, expected a dataset file"));
        }
        let file = File::open(path).map_err(|e| Error::io(path, &e))?;
        let len = file.metadata().map_err(|e| Error::io(path, &e))?.len();
        let mut reader = BufReader::new(file);
        let samples = match npy::samples(&mut reader, len, inputs) {
            Ok(Some(samples)) => Ok(samples),
            Ok(None) => check_dataset_len(len, sample_size, inputs),
            Err(problem) => Err(problem),
        }
        .map_err(|p| Error::file(path, p))?;
        Ok(Self {
            path: path.to_path_buf(),
            reader,
            specs: inputs.to_vec(),
            sizes,
            samples,
            next: 0,
        })
    }

    /// A fresh reader over the same file, positioned at the first sample.
    pub fn reopen(&self) -> Result<Self> {
        Self::open(&self.path, &self.specs)
    }

    /// Number of samples in the file.
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// The dataset's file name.
    pub fn file_name(&self) -> String {
        file_name(&self.path)
    }

    /// Reads the next sample into `buffers` (one buffer per input, resized
    /// as needed). Returns `false` after the last sample.
    pub fn read_next(&mut self, buffers: &mut Vec<Vec<u8>>) -> Result<bool> {
        if self.next == self.samples {
            return Ok(false);
        }
        buffers.resize_with(self.sizes.len(), Vec::new);
        for ((buf, &size), spec) in buffers.iter_mut().zip(&self.sizes).zip(&self.specs) {
            buf.resize(size, 0);
            self.reader
                .read_exact(buf)
                .map_err(|e| Error::io(&self.path, &e))?;
            if spec.dtype == DType::Bool && buf.iter().any(|&b| b > 1) {
                return Err(Error::file(
                    &self.path,
                    format!(
                        "sample {}: bool input '{}' holds a byte other than 0 or 1",
                        self.next, spec.name
                    ),
                ));
            }
        }
        self.next += 1;
        Ok(true)
    }
}

fn check_dataset_len(
    len: u64,
    sample_size: usize,
    inputs: &[TensorSpec],
) -> std::result::Result<usize, String> {
    let layout = inputs
        .iter()
        .map(|s| {
            format!(
                "{} {} {}",
                s.name,
                s.dtype,
                crate::seam::tensor::format_shape(&s.shape)
            )
        })
        .collect::<Vec<_>>()
        .join(" + ");
    if len == 0 {
        return Err(format!(
            "the dataset is empty; one sample is {sample_size} bytes ({layout})"
        ));
    }
    if sample_size == 0 {
        return Err(
            "the model's inputs are empty tensors, so a dataset cannot be split into samples"
                .to_owned(),
        );
    }
    let sample = sample_size as u64;
    if !len.is_multiple_of(sample) {
        return Err(format!(
            "size {len} bytes is not a multiple of the sample size {sample_size} bytes ({layout}); \
             {} whole samples and {} bytes left over",
            len / sample,
            len % sample
        ));
    }
    usize::try_from(len / sample)
        .map_err(|_| "the dataset has too many samples for this machine".to_owned())
}

/// Information about a TYPE2 dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DatasetInfo {
    /// The dataset's file name.
    pub file_name: String,
    /// Number of samples, which is the number of timed inferences.
    pub samples: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(dtype: DType, shape: &[usize]) -> TensorSpec {
        TensorSpec {
            name: "x".into(),
            dtype,
            shape: shape.iter().copied().map(Some).collect(),
            quantization: None,
        }
    }

    #[test]
    fn random_inputs_are_reproducible_and_seed_dependent() {
        let s = spec(DType::Float32, &[1, 10]);
        assert_eq!(
            random_input(&s, 0, 7).unwrap(),
            random_input(&s, 0, 7).unwrap()
        );
        assert_ne!(
            random_input(&s, 0, 7).unwrap(),
            random_input(&s, 0, 8).unwrap()
        );
        assert_ne!(
            random_input(&s, 0, 7).unwrap(),
            random_input(&s, 1, 7).unwrap()
        );
    }

    #[test]
    fn random_values_respect_type_ranges() {
        for dtype in [
            DType::Float32,
            DType::Float64,
            DType::Int8,
            DType::Uint8,
            DType::Int16,
            DType::Uint16,
            DType::Int32,
            DType::Uint32,
            DType::Int64,
            DType::Uint64,
            DType::Bool,
        ] {
            let bytes = random_input(&spec(dtype, &[3, 50]), 0, 1).unwrap();
            assert_eq!(bytes.len(), 150 * dtype.size(), "{dtype}");
        }
        let floats = random_input(&spec(DType::Float32, &[1000]), 0, 1).unwrap();
        assert!(floats.chunks(4).all(|c| {
            let v = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            (-1.0..1.0).contains(&v)
        }));
        let bools = random_input(&spec(DType::Bool, &[1000]), 0, 1).unwrap();
        assert!(bools.iter().all(|&b| b <= 1) && bools.contains(&0) && bools.contains(&1));
        let ints = random_input(&spec(DType::Int64, &[1000]), 0, 1).unwrap();
        assert!(
            ints.chunks(8)
                .all(|c| i64::from_le_bytes(c.try_into().unwrap()) < 100)
        );
    }

    #[test]
    fn dataset_length_must_be_whole_samples() {
        let inputs = [spec(DType::Int8, &[10])];
        assert_eq!(check_dataset_len(30, 10, &inputs), Ok(3));
        let err = check_dataset_len(25, 10, &inputs).unwrap_err();
        assert!(
            err.contains("not a multiple of the sample size 10"),
            "{err}"
        );
        assert!(
            check_dataset_len(0, 10, &inputs)
                .unwrap_err()
                .contains("empty")
        );
    }

    #[test]
    fn dataset_reads_samples_in_order() {
        let dir = std::env::temp_dir().join(format!("vlab-dataset-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("d.bin");
        std::fs::write(&path, [1u8, 2, 3, 4, 5, 6]).unwrap();
        let inputs = [
            spec(DType::Uint8, &[2]),
            TensorSpec {
                name: "y".into(),
                ..spec(DType::Uint8, &[1])
            },
        ];
        let mut ds = Dataset::open(&path, &inputs).unwrap();
        assert_eq!(ds.samples(), 2);
        let mut bufs = Vec::new();
        assert!(ds.read_next(&mut bufs).unwrap());
        assert_eq!(bufs, vec![vec![1, 2], vec![3]]);
        assert!(ds.read_next(&mut bufs).unwrap());
        assert_eq!(bufs, vec![vec![4, 5], vec![6]]);
        assert!(!ds.read_next(&mut bufs).unwrap());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
