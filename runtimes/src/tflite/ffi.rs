//! The TensorFlow Lite C API (`tensorflow/lite/core/c/c_api.h`), loaded at
//! run time with libloading, behind safe wrappers. No maintained crate loads
//! this API dynamically (the `tflitec` and `tflite` crates build and link
//! TensorFlow Lite from source), so this module is the one place with
//! `unsafe` for it: every call's contract is in a SAFETY comment.

#![allow(unsafe_code)]

use std::ffi::{CStr, c_char, c_void};
use std::path::Path;
use std::ptr::NonNull;

/// Opaque C types.
#[repr(C)]
pub struct TfLiteModel {
    _private: [u8; 0],
}
/// Opaque C types.
#[repr(C)]
pub struct TfLiteInterpreterOptions {
    _private: [u8; 0],
}
/// Opaque C types.
#[repr(C)]
pub struct TfLiteInterpreter {
    _private: [u8; 0],
}
/// Opaque C types.
#[repr(C)]
pub struct TfLiteTensor {
    _private: [u8; 0],
}

/// `TfLiteQuantizationParams`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct QuantizationParams {
    /// Scale.
    pub scale: f32,
    /// Zero point.
    pub zero_point: i32,
}

/// `kTfLiteOk`.
const OK: i32 = 0;

/// The functions vlab calls, resolved once from the library.
pub struct Api {
    _lib: libloading::Library,
    version: unsafe extern "C" fn() -> *const c_char,
    model_create: unsafe extern "C" fn(*const c_void, usize) -> *mut TfLiteModel,
    model_delete: unsafe extern "C" fn(*mut TfLiteModel),
    options_create: unsafe extern "C" fn() -> *mut TfLiteInterpreterOptions,
    options_set_threads: unsafe extern "C" fn(*mut TfLiteInterpreterOptions, i32),
    options_delete: unsafe extern "C" fn(*mut TfLiteInterpreterOptions),
    interpreter_create: unsafe extern "C" fn(
        *const TfLiteModel,
        *const TfLiteInterpreterOptions,
    ) -> *mut TfLiteInterpreter,
    interpreter_delete: unsafe extern "C" fn(*mut TfLiteInterpreter),
    input_count: unsafe extern "C" fn(*const TfLiteInterpreter) -> i32,
    input_tensor: unsafe extern "C" fn(*const TfLiteInterpreter, i32) -> *mut TfLiteTensor,
    allocate: unsafe extern "C" fn(*mut TfLiteInterpreter) -> i32,
    invoke: unsafe extern "C" fn(*mut TfLiteInterpreter) -> i32,
    output_count: unsafe extern "C" fn(*const TfLiteInterpreter) -> i32,
    output_tensor: unsafe extern "C" fn(*const TfLiteInterpreter, i32) -> *const TfLiteTensor,
    tensor_type: unsafe extern "C" fn(*const TfLiteTensor) -> i32,
    tensor_num_dims: unsafe extern "C" fn(*const TfLiteTensor) -> i32,
    tensor_dim: unsafe extern "C" fn(*const TfLiteTensor, i32) -> i32,
    tensor_byte_size: unsafe extern "C" fn(*const TfLiteTensor) -> usize,
    tensor_data: unsafe extern "C" fn(*const TfLiteTensor) -> *mut c_void,
    tensor_name: unsafe extern "C" fn(*const TfLiteTensor) -> *const c_char,
    tensor_quantization: unsafe extern "C" fn(*const TfLiteTensor) -> QuantizationParams,
    copy_from_buffer: unsafe extern "C" fn(*mut TfLiteTensor, *const c_void, usize) -> i32,
}

// SAFETY: the API is a table of function pointers into a library that stays
// loaded (`_lib`); TFLite's C functions may be called from any thread as
// long as one interpreter is not used from two threads at once, which the
// `&mut` receivers of `Interpreter` ensure.
unsafe impl Send for Api {}
// SAFETY: as above; the table itself is immutable.
unsafe impl Sync for Api {}

impl Api {
    /// Loads the library at `path` and resolves every function.
    pub fn load(path: &Path) -> Result<Self, String> {
        // SAFETY: loading runs the library's initialisers; it is a TFLite C
        // library by the caller's choice, and a wrong file fails below when
        // a symbol is missing.
        let lib = unsafe { libloading::Library::new(path) }.map_err(|e| e.to_string())?;
        macro_rules! sym {
            ($name:literal) => {
                // SAFETY: the symbol has the signature of c_api.h, which the
                // field's type spells out; the pointer stays valid while
                // `_lib` is loaded, and `Api` owns `_lib`.
                *unsafe { lib.get($name) }.map_err(|_| {
                    format!(
                        "{} does not export {}: not a TensorFlow Lite C library",
                        path.display(),
                        String::from_utf8_lossy(&$name[..$name.len() - 1])
                    )
                })?
            };
        }
        Ok(Self {
            version: sym!(b"TfLiteVersion\0"),
            model_create: sym!(b"TfLiteModelCreate\0"),
            model_delete: sym!(b"TfLiteModelDelete\0"),
            options_create: sym!(b"TfLiteInterpreterOptionsCreate\0"),
            options_set_threads: sym!(b"TfLiteInterpreterOptionsSetNumThreads\0"),
            options_delete: sym!(b"TfLiteInterpreterOptionsDelete\0"),
            interpreter_create: sym!(b"TfLiteInterpreterCreate\0"),
            interpreter_delete: sym!(b"TfLiteInterpreterDelete\0"),
            input_count: sym!(b"TfLiteInterpreterGetInputTensorCount\0"),
            input_tensor: sym!(b"TfLiteInterpreterGetInputTensor\0"),
            allocate: sym!(b"TfLiteInterpreterAllocateTensors\0"),
            invoke: sym!(b"TfLiteInterpreterInvoke\0"),
            output_count: sym!(b"TfLiteInterpreterGetOutputTensorCount\0"),
            output_tensor: sym!(b"TfLiteInterpreterGetOutputTensor\0"),
            tensor_type: sym!(b"TfLiteTensorType\0"),
            tensor_num_dims: sym!(b"TfLiteTensorNumDims\0"),
            tensor_dim: sym!(b"TfLiteTensorDim\0"),
            tensor_byte_size: sym!(b"TfLiteTensorByteSize\0"),
            tensor_data: sym!(b"TfLiteTensorData\0"),
            tensor_name: sym!(b"TfLiteTensorName\0"),
            tensor_quantization: sym!(b"TfLiteTensorQuantizationParams\0"),
            copy_from_buffer: sym!(b"TfLiteTensorCopyFromBuffer\0"),
            _lib: lib,
        })
    }

    /// `TfLiteVersion()`.
    pub fn version(&self) -> String {
        // SAFETY: returns a static NUL-terminated string.
        unsafe { CStr::from_ptr((self.version)()) }
            .to_string_lossy()
            .into_owned()
    }
}

/// A tensor's description, read once after allocation.
#[derive(Debug, Clone)]
pub struct TensorDesc {
    /// Name.
    pub name: String,
    /// `TfLiteType` code.
    pub type_code: i32,
    /// Dimensions.
    pub dims: Vec<usize>,
    /// Quantisation (scale 0 when none).
    pub quantization: QuantizationParams,
}

/// A model and an interpreter over it, with allocated tensors.
pub struct Interpreter {
    api: &'static Api,
    /// The flatbuffer; TFLite reads it for the model's whole life.
    _data: Box<[u8]>,
    model: NonNull<TfLiteModel>,
    interpreter: NonNull<TfLiteInterpreter>,
}

// SAFETY: the interpreter is used from one thread at a time (`&mut self`
// for everything that mutates), and owns its model and data.
unsafe impl Send for Interpreter {}

impl Interpreter {
    /// Builds an interpreter with `threads` threads over a copy of `model`
    /// and allocates its tensors.
    pub fn new(api: &'static Api, model: &[u8], threads: i32) -> Result<Self, String> {
        let data: Box<[u8]> = model.into();
        // SAFETY: `data` outlives the model (both owned by `Self`, the
        // model deleted first in `drop`).
        let raw_model = unsafe { (api.model_create)(data.as_ptr().cast(), data.len()) };
        let model = NonNull::new(raw_model)
            .ok_or("TensorFlow Lite cannot read the model (TfLiteModelCreate failed)")?;
        // SAFETY: plain constructor and setter on the options object, which
        // is deleted right after the interpreter copies it.
        let interpreter = unsafe {
            let options = (api.options_create)();
            if !options.is_null() {
                (api.options_set_threads)(options, threads);
            }
            let interpreter = (api.interpreter_create)(model.as_ptr(), options);
            if !options.is_null() {
                (api.options_delete)(options);
            }
            interpreter
        };
        let Some(interpreter) = NonNull::new(interpreter) else {
            // SAFETY: the model was created above and is not used again.
            unsafe { (api.model_delete)(model.as_ptr()) };
            return Err("TensorFlow Lite cannot build an interpreter for the model (an unsupported operator? its log on stderr says which)".to_owned());
        };
        let this = Self {
            api,
            _data: data,
            model,
            interpreter,
        };
        // SAFETY: a live interpreter.
        if unsafe { (api.allocate)(this.interpreter.as_ptr()) } != OK {
            return Err("TensorFlow Lite cannot allocate the model's tensors".to_owned());
        }
        Ok(this)
    }

    /// Number of inputs and outputs.
    pub fn counts(&self) -> (usize, usize) {
        let i = self.interpreter.as_ptr();
        // SAFETY: counts of a live interpreter.
        let (n_in, n_out) = unsafe { ((self.api.input_count)(i), (self.api.output_count)(i)) };
        (n_in.max(0) as usize, n_out.max(0) as usize)
    }

    fn input(&self, index: usize) -> Option<NonNull<TfLiteTensor>> {
        let index = i32::try_from(index).ok()?;
        // SAFETY: an index below the input count (the C API returns null
        // otherwise, which is checked).
        NonNull::new(unsafe { (self.api.input_tensor)(self.interpreter.as_ptr(), index) })
    }

    fn output(&self, index: usize) -> Option<NonNull<TfLiteTensor>> {
        let index = i32::try_from(index).ok()?;
        // SAFETY: as in `input`.
        NonNull::new(
            unsafe { (self.api.output_tensor)(self.interpreter.as_ptr(), index) }.cast_mut(),
        )
    }

    fn describe(&self, t: NonNull<TfLiteTensor>) -> TensorDesc {
        let t = t.as_ptr().cast_const();
        let api = self.api;
        // SAFETY: `t` is a tensor of this live interpreter; the name is a
        // NUL-terminated string owned by the model (or null).
        unsafe {
            let name = (api.tensor_name)(t);
            TensorDesc {
                name: if name.is_null() {
                    String::new()
                } else {
                    CStr::from_ptr(name).to_string_lossy().into_owned()
                },
                type_code: (api.tensor_type)(t),
                dims: (0..(api.tensor_num_dims)(t))
                    .map(|d| (api.tensor_dim)(t, d).max(0) as usize)
                    .collect(),
                quantization: (api.tensor_quantization)(t),
            }
        }
    }

    /// Description of input `index`.
    pub fn input_desc(&self, index: usize) -> Option<TensorDesc> {
        self.input(index).map(|t| self.describe(t))
    }

    /// Description of output `index`.
    pub fn output_desc(&self, index: usize) -> Option<TensorDesc> {
        self.output(index).map(|t| self.describe(t))
    }

    /// Copies `bytes` into input `index`; they must be its exact size.
    pub fn set_input(&mut self, index: usize, bytes: &[u8]) -> Result<(), String> {
        let t = self.input(index).ok_or(format!("no input {index}"))?;
        // SAFETY: TfLiteTensorCopyFromBuffer checks the size itself and
        // returns an error when it differs.
        let status =
            unsafe { (self.api.copy_from_buffer)(t.as_ptr(), bytes.as_ptr().cast(), bytes.len()) };
        if status == OK {
            Ok(())
        } else {
            Err(format!("input {index}: {} bytes do not fit", bytes.len()))
        }
    }

    /// `TfLiteInterpreterInvoke`.
    pub fn invoke(&mut self) -> Result<(), String> {
        // SAFETY: a live interpreter with allocated tensors.
        if unsafe { (self.api.invoke)(self.interpreter.as_ptr()) } == OK {
            Ok(())
        } else {
            Err("TensorFlow Lite failed to run the model (its log on stderr says why)".to_owned())
        }
    }

    /// The bytes of output `index` after the last invoke.
    pub fn output_bytes(&self, index: usize) -> Option<&[u8]> {
        let t = self.output(index)?.as_ptr().cast_const();
        // SAFETY: the data pointer and byte size describe the tensor's
        // buffer, which stays valid until the next invoke or `drop`, both of
        // which need `&mut self` and so end this borrow first.
        unsafe {
            let data = (self.api.tensor_data)(t);
            let len = (self.api.tensor_byte_size)(t);
            (!data.is_null()).then(|| std::slice::from_raw_parts(data.cast::<u8>(), len))
        }
    }
}

impl Drop for Interpreter {
    fn drop(&mut self) {
        // SAFETY: both were created in `new` and are deleted once, the
        // interpreter before the model it uses.
        unsafe {
            (self.api.interpreter_delete)(self.interpreter.as_ptr());
            (self.api.model_delete)(self.model.as_ptr());
        }
    }
}
