//! The TensorFlow Lite C API (`tensorflow/lite/core/c/c_api.h`), loaded at
//! run time with libloading, behind safe wrappers. No maintained crate loads
//! this API dynamically (the `tflitec` and `tflite` crates build and link
//! TensorFlow Lite from source), so this module is the one place with
//! `unsafe` for it: every call's contract is in a SAFETY comment.

#![allow(unsafe_code)]

use std::ffi::{CStr, c_char, c_void};
use std::path::Path;
use std::ptr::NonNull;

use super::profiler::OpProfiler;

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

/// Opaque C types.
#[repr(C)]
pub struct TfLiteDelegate {
    _private: [u8; 0],
}

/// `TfLiteXNNPackDelegateOptions`. Its layout grows between releases; vlab
/// sets only `num_threads`, the first field in every release, and gives the
/// rest room. Like every struct over 16 bytes it is returned through a
/// caller-made buffer on x86-64 and AArch64, so
/// `TfLiteXNNPackDelegateOptionsDefault` writes the library's own layout
/// into this one, and `TfLiteXNNPackDelegateCreate` reads it back.
#[repr(C)]
struct XnnpackOptions {
    num_threads: i32,
    flags: u32,
    rest: [u64; 30],
}

/// An error reporter callback: `(user_data, format, va_list)`. A `va_list`
/// travels as one pointer-sized value on x86-64 (an array, so a pointer),
/// AArch64 (a 32-byte struct, passed by reference) and 32-bit Arm (a
/// one-pointer struct), so it is taken as a pointer and handed on to
/// `vsnprintf` unchanged: stable Rust cannot read a `va_list` itself.
type Reporter = unsafe extern "C" fn(*mut c_void, *const c_char, *mut c_void);

unsafe extern "C" {
    /// C's `vsnprintf`, from the C library every Rust program on these
    /// targets links.
    fn vsnprintf(buf: *mut c_char, size: usize, format: *const c_char, args: *mut c_void) -> i32;
}

/// What TensorFlow Lite reported through the error reporter, newest last.
#[derive(Default)]
struct ErrorLog(std::sync::Mutex<Vec<String>>);

impl ErrorLog {
    /// Every message since the last call, joined, or `None`.
    fn take(&self) -> Option<String> {
        let mut messages = self.0.lock().ok()?;
        let text = messages.join("; ");
        messages.clear();
        (!text.is_empty()).then_some(text)
    }
}

/// The error reporter vlab installs: formats the message and keeps it in
/// the `ErrorLog` that `user_data` points to.
unsafe extern "C" fn report(user_data: *mut c_void, format: *const c_char, args: *mut c_void) {
    let mut buf = [0 as c_char; 1024];
    // SAFETY: `buf` has the size given; `format` and `args` come from
    // TensorFlow Lite's ErrorReporter::Report, which keeps them valid for
    // this call.
    if unsafe { vsnprintf(buf.as_mut_ptr(), buf.len(), format, args) } < 0 {
        return;
    }
    // SAFETY: vsnprintf NUL-terminates within `buf`; `user_data` is the
    // `ErrorLog` the interpreter owns, which outlives model and interpreter.
    let (message, log) = unsafe {
        (
            CStr::from_ptr(buf.as_ptr()).to_string_lossy(),
            &*user_data.cast::<ErrorLog>(),
        )
    };
    if let Ok(mut messages) = log.0.lock() {
        messages.push(message.trim().to_owned());
    }
}

/// The XNNPACK delegate's functions, when the library exports them.
struct XnnpackApi {
    options_default: unsafe extern "C" fn() -> XnnpackOptions,
    create: unsafe extern "C" fn(*const XnnpackOptions) -> *mut TfLiteDelegate,
    delete: unsafe extern "C" fn(*mut TfLiteDelegate),
}

/// `kTfLiteOk`.
const OK: i32 = 0;

/// The functions vlab calls, resolved once from the library.
pub struct Api {
    _lib: libloading::Library,
    version: unsafe extern "C" fn() -> *const c_char,
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
    resize_input: unsafe extern "C" fn(*mut TfLiteInterpreter, i32, *const i32, i32) -> i32,
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
    model_create_reporting:
        unsafe extern "C" fn(*const c_void, usize, Reporter, *mut c_void) -> *mut TfLiteModel,
    options_set_reporter:
        unsafe extern "C" fn(*mut TfLiteInterpreterOptions, Reporter, *mut c_void),
    options_add_delegate: unsafe extern "C" fn(*mut TfLiteInterpreterOptions, *mut TfLiteDelegate),
    /// `TfLiteInterpreterOptionsSetTelemetryProfiler`, where exported.
    options_set_profiler: Option<unsafe extern "C" fn(*mut TfLiteInterpreterOptions, *mut c_void)>,
    xnnpack: Option<XnnpackApi>,
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
        macro_rules! optional {
            ($name:literal) => {
                // SAFETY: as in `sym!`.
                unsafe { lib.get($name) }.ok().map(|f| *f)
            };
        }
        let xnnpack = (|| {
            Some(XnnpackApi {
                options_default: optional!(b"TfLiteXNNPackDelegateOptionsDefault\0")?,
                create: optional!(b"TfLiteXNNPackDelegateCreate\0")?,
                delete: optional!(b"TfLiteXNNPackDelegateDelete\0")?,
            })
        })();
        Ok(Self {
            version: sym!(b"TfLiteVersion\0"),
            model_delete: sym!(b"TfLiteModelDelete\0"),
            options_create: sym!(b"TfLiteInterpreterOptionsCreate\0"),
            options_set_threads: sym!(b"TfLiteInterpreterOptionsSetNumThreads\0"),
            options_delete: sym!(b"TfLiteInterpreterOptionsDelete\0"),
            interpreter_create: sym!(b"TfLiteInterpreterCreate\0"),
            interpreter_delete: sym!(b"TfLiteInterpreterDelete\0"),
            input_count: sym!(b"TfLiteInterpreterGetInputTensorCount\0"),
            input_tensor: sym!(b"TfLiteInterpreterGetInputTensor\0"),
            allocate: sym!(b"TfLiteInterpreterAllocateTensors\0"),
            resize_input: sym!(b"TfLiteInterpreterResizeInputTensor\0"),
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
            model_create_reporting: sym!(b"TfLiteModelCreateWithErrorReporter\0"),
            options_set_reporter: sym!(b"TfLiteInterpreterOptionsSetErrorReporter\0"),
            options_add_delegate: sym!(b"TfLiteInterpreterOptionsAddDelegate\0"),
            options_set_profiler: optional!(b"TfLiteInterpreterOptionsSetTelemetryProfiler\0"),
            xnnpack,
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

    /// Whether the library exports the XNNPACK delegate.
    pub fn has_xnnpack(&self) -> bool {
        self.xnnpack.is_some()
    }

    /// Whether the library takes a telemetry profiler, which times
    /// operators.
    pub fn has_profiler(&self) -> bool {
        self.options_set_profiler.is_some()
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
    data: Box<[u8]>,
    /// Where TFLite's error reporter writes; outlives model and interpreter.
    errors: Box<ErrorLog>,
    model: NonNull<TfLiteModel>,
    /// The XNNPACK delegate, deleted after the interpreter that uses it.
    delegate: Option<NonNull<TfLiteDelegate>>,
    interpreter: Option<NonNull<TfLiteInterpreter>>,
    /// The profiler the interpreter reports every operator to, if any;
    /// dropped after the interpreter (`drop` deletes that first).
    profiler: Option<OpProfiler>,
}

// SAFETY: the interpreter is used from one thread at a time (`&mut self`
// for everything that mutates), and owns its model, delegate and data.
unsafe impl Send for Interpreter {}

impl Interpreter {
    /// Builds an interpreter with `threads` threads over a copy of `model`,
    /// with the XNNPACK delegate when `xnnpack` is set and reporting every
    /// operator to `profiler` when given, and allocates its tensors. Errors
    /// carry TensorFlow Lite's own messages.
    pub fn new(
        api: &'static Api,
        model: &[u8],
        threads: i32,
        xnnpack: bool,
        profiler: Option<OpProfiler>,
    ) -> Result<Self, String> {
        let data: Box<[u8]> = model.into();
        let errors = Box::<ErrorLog>::default();
        let user_data = std::ptr::from_ref::<ErrorLog>(&errors).cast_mut().cast();
        // SAFETY: `data` and `errors` outlive the model (all owned by
        // `Self`, the model deleted first in `drop`).
        let raw_model = unsafe {
            (api.model_create_reporting)(data.as_ptr().cast(), data.len(), report, user_data)
        };
        let Some(model) = NonNull::new(raw_model) else {
            return Err(format!(
                "TensorFlow Lite cannot read the model: {}",
                errors
                    .take()
                    .unwrap_or_else(|| "TfLiteModelCreate failed".to_owned())
            ));
        };
        let mut this = Self {
            api,
            data,
            errors,
            model,
            delegate: None,
            interpreter: None,
            profiler,
        };
        if xnnpack {
            let x = api
                .xnnpack
                .as_ref()
                .ok_or("this TensorFlow Lite library has no XNNPACK delegate")?;
            // SAFETY: the default options are plain data; `create` copies
            // what it needs from them.
            let delegate = unsafe {
                let mut options = (x.options_default)();
                options.num_threads = threads;
                (x.create)(&options)
            };
            this.delegate = Some(
                NonNull::new(delegate)
                    .ok_or("TensorFlow Lite cannot create its XNNPACK delegate")?,
            );
        }
        let profiling = match &this.profiler {
            Some(profiler) => Some((
                api.options_set_profiler
                    .ok_or("this TensorFlow Lite library takes no profiler")?,
                profiler.as_ptr(),
            )),
            None => None,
        };
        // SAFETY: the options object is created, filled and deleted here;
        // the interpreter copies what it needs from it. The reporter's
        // `user_data` and the delegate outlive the interpreter (`drop`).
        let interpreter = unsafe {
            let options = (api.options_create)();
            if options.is_null() {
                return Err("TensorFlow Lite cannot create interpreter options".to_owned());
            }
            (api.options_set_threads)(options, threads);
            (api.options_set_reporter)(options, report, user_data);
            if let Some(delegate) = this.delegate {
                (api.options_add_delegate)(options, delegate.as_ptr());
            }
            // The profiler outlives the interpreter, which keeps a pointer
            // to it (`drop`).
            if let Some((set, profiler)) = profiling {
                set(options, profiler);
            }
            let interpreter = (api.interpreter_create)(this.model.as_ptr(), options);
            (api.options_delete)(options);
            interpreter
        };
        this.interpreter = Some(NonNull::new(interpreter).ok_or_else(|| {
            this.failure("TensorFlow Lite cannot build an interpreter for the model")
        })?);
        // SAFETY: a live interpreter.
        if unsafe { (api.allocate)(this.raw()) } != OK {
            return Err(this.failure("TensorFlow Lite cannot allocate the model's tensors"));
        }
        Ok(this)
    }

    /// Gives inputs new shapes (`TfLiteInterpreterResizeInputTensor`), by
    /// input index, and allocates the tensors again.
    pub fn resize_inputs(&mut self, shapes: &[(usize, Vec<usize>)]) -> Result<(), String> {
        for (index, dims) in shapes {
            let dims: Vec<i32> = dims
                .iter()
                .map(|&d| i32::try_from(d))
                .collect::<Result<_, _>>()
                .map_err(|_| format!("input {index}: a dimension is too large"))?;
            let (index, rank) = (
                i32::try_from(*index).map_err(|_| format!("no input {index}"))?,
                i32::try_from(dims.len()).map_err(|_| "too many dimensions".to_owned())?,
            );
            // SAFETY: a live interpreter; `dims` holds `rank` ints, which
            // TFLite copies; a bad index is refused with an error status.
            let status = unsafe { (self.api.resize_input)(self.raw(), index, dims.as_ptr(), rank) };
            if status != OK {
                return Err(self.failure(&format!("TensorFlow Lite cannot resize input {index}")));
            }
        }
        // SAFETY: a live interpreter.
        if unsafe { (self.api.allocate)(self.raw()) } != OK {
            return Err(self.failure(
                "TensorFlow Lite cannot allocate the model's tensors for these input shapes",
            ));
        }
        Ok(())
    }

    /// `what`, with what TensorFlow Lite reported since the last failure.
    fn failure(&self, what: &str) -> String {
        match self.errors.take() {
            Some(why) => format!("{what}: {why}"),
            None => what.to_owned(),
        }
    }

    /// The interpreter pointer; `new` only returns a `Self` that has one.
    fn raw(&self) -> *mut TfLiteInterpreter {
        self.interpreter
            .map_or(std::ptr::null_mut(), NonNull::as_ptr)
    }

    /// Number of inputs and outputs.
    pub fn counts(&self) -> (usize, usize) {
        let i = self.raw();
        // SAFETY: counts of a live interpreter.
        let (n_in, n_out) = unsafe { ((self.api.input_count)(i), (self.api.output_count)(i)) };
        (n_in.max(0) as usize, n_out.max(0) as usize)
    }

    fn input(&self, index: usize) -> Option<NonNull<TfLiteTensor>> {
        let index = i32::try_from(index).ok()?;
        // SAFETY: an index below the input count (the C API returns null
        // otherwise, which is checked).
        NonNull::new(unsafe { (self.api.input_tensor)(self.raw(), index) })
    }

    fn output(&self, index: usize) -> Option<NonNull<TfLiteTensor>> {
        let index = i32::try_from(index).ok()?;
        // SAFETY: as in `input`.
        NonNull::new(unsafe { (self.api.output_tensor)(self.raw(), index) }.cast_mut())
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

    /// The bytes input `index` holds now.
    pub fn input_bytes(&self, index: usize) -> Option<&[u8]> {
        let t = self.input(index)?.as_ptr().cast_const();
        // SAFETY: as in `output_bytes`: the buffer stays valid until a call
        // that needs `&mut self`.
        unsafe {
            let data = (self.api.tensor_data)(t);
            let len = (self.api.tensor_byte_size)(t);
            (!data.is_null()).then(|| std::slice::from_raw_parts(data.cast::<u8>(), len))
        }
    }

    /// The model the interpreter runs.
    pub fn model_bytes(&self) -> &[u8] {
        &self.data
    }

    /// The profiler the interpreter reports to, if it was built with one.
    pub fn profiler(&self) -> Option<&OpProfiler> {
        self.profiler.as_ref()
    }

    /// Invokes the interpreter with its profiler cleared first, so that it
    /// holds this inference's operators alone.
    pub fn invoke_profiled(&mut self) -> Result<(), String> {
        if let Some(profiler) = &mut self.profiler {
            profiler.clear();
        }
        self.invoke()
    }

    /// `TfLiteInterpreterInvoke`.
    pub fn invoke(&mut self) -> Result<(), String> {
        // SAFETY: a live interpreter with allocated tensors.
        if unsafe { (self.api.invoke)(self.raw()) } == OK {
            Ok(())
        } else {
            Err(self.failure("TensorFlow Lite failed to run the model"))
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
        // SAFETY: each was created in `new` and is deleted once, the
        // interpreter before the delegate and the model it uses.
        unsafe {
            if let Some(interpreter) = self.interpreter {
                (self.api.interpreter_delete)(interpreter.as_ptr());
            }
            if let (Some(delegate), Some(x)) = (self.delegate, &self.api.xnnpack) {
                (x.delete)(delegate.as_ptr());
            }
            (self.api.model_delete)(self.model.as_ptr());
        }
    }
}
