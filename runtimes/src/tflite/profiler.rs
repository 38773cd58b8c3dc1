//! Per-operator times through TensorFlow Lite's telemetry profiler hook
//! (`TfLiteInterpreterOptionsSetTelemetryProfiler`, from
//! `tensorflow/lite/profiling/telemetry/c/profiler.h`), the one profiler
//! the C API takes. An interpreter built with it calls
//! `ReportBeginOpInvokeEvent` before each operator it invokes and
//! `ReportEndOpInvokeEvent` after; vlab reads the monotonic clock in
//! both. Like `ffi`, this module holds `unsafe` for the C API, each use
//! with its contract in a SAFETY comment.

#![allow(unsafe_code)]

use std::ffi::{CStr, c_char, c_void};
use std::ptr::NonNull;
use std::time::Instant;

/// `TfLiteTelemetrySettings`, which vlab never reads.
#[repr(C)]
pub struct TelemetrySettings {
    _private: [u8; 0],
}

/// `TfLiteTelemetryProfilerStruct`: `data` and the callbacks, in the
/// header's order. TensorFlow Lite calls every callback without checking
/// it, so none may be null.
#[repr(C)]
pub struct TelemetryProfiler {
    data: *mut c_void,
    report_event: unsafe extern "C" fn(*mut TelemetryProfiler, *const c_char, u64),
    report_op_event: unsafe extern "C" fn(*mut TelemetryProfiler, *const c_char, i64, i64, u64),
    report_settings:
        unsafe extern "C" fn(*mut TelemetryProfiler, *const c_char, *const TelemetrySettings),
    begin_op: unsafe extern "C" fn(*mut TelemetryProfiler, *const c_char, i64, i64) -> u32,
    end_op: unsafe extern "C" fn(*mut TelemetryProfiler, u32),
    report_op_invoke: unsafe extern "C" fn(*mut TelemetryProfiler, *const c_char, u64, i64, i64),
}

/// One operator invocation the profiler saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpEvent {
    /// The operator's name as TensorFlow Lite gives it (`CONV_2D`, or a
    /// delegate kernel's name such as `TfLiteXNNPackDelegate`).
    pub op: String,
    /// The node's index in its subgraph.
    pub node: i64,
    /// The subgraph it ran in (0: the main one; others run inside a
    /// control-flow operator of the main one).
    pub subgraph: i64,
    /// Nanoseconds from begin to end; `None` while it runs.
    pub ns: Option<u64>,
}

/// What one profiled inference recorded.
#[derive(Debug, Default)]
struct Recorder {
    events: Vec<OpEvent>,
    started: Vec<Instant>,
}

/// A telemetry profiler for one interpreter: the C struct TensorFlow Lite
/// keeps a pointer to, and the recorder its `data` points to. Both are
/// heap allocations owned here, freed in `drop`, which the interpreter
/// that uses them must precede.
pub struct OpProfiler {
    table: NonNull<TelemetryProfiler>,
    recorder: NonNull<Recorder>,
}

// SAFETY: the profiler is only touched by the thread that invokes its
// interpreter, which `&mut` on the interpreter serialises.
unsafe impl Send for OpProfiler {}

impl OpProfiler {
    /// A profiler with nothing recorded.
    pub fn new() -> Self {
        let recorder = NonNull::from(Box::leak(Box::<Recorder>::default()));
        let table = NonNull::from(Box::leak(Box::new(TelemetryProfiler {
            data: recorder.as_ptr().cast(),
            report_event,
            report_op_event,
            report_settings,
            begin_op,
            end_op,
            report_op_invoke,
        })));
        Self { table, recorder }
    }

    /// The pointer to hand to `TfLiteInterpreterOptionsSetTelemetryProfiler`.
    pub fn as_ptr(&self) -> *mut c_void {
        self.table.as_ptr().cast()
    }

    /// Forgets what was recorded, before an inference.
    pub fn clear(&mut self) {
        // SAFETY: no inference runs (`&mut self`), so no callback holds
        // the recorder.
        let recorder = unsafe { self.recorder.as_mut() };
        recorder.events.clear();
        recorder.started.clear();
    }

    /// The operator invocations since [`OpProfiler::clear`], in the order
    /// they began.
    pub fn events(&self) -> &[OpEvent] {
        // SAFETY: as in `clear`; the borrow ends before the next inference,
        // which needs `&mut` on the interpreter that owns `self`.
        unsafe { &self.recorder.as_ref().events }
    }
}

impl Default for OpProfiler {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for OpProfiler {
    fn drop(&mut self) {
        // SAFETY: both came from `Box::leak` in `new` and are freed once;
        // the interpreter that called into them is gone.
        unsafe {
            drop(Box::from_raw(self.table.as_ptr()));
            drop(Box::from_raw(self.recorder.as_ptr()));
        }
    }
}

/// The recorder behind `profiler`.
///
/// # Safety
/// `profiler` is an `OpProfiler`'s table, called back during an inference.
unsafe fn recorder<'a>(profiler: *mut TelemetryProfiler) -> Option<&'a mut Recorder> {
    // SAFETY: per the contract, `data` is the live recorder, and only this
    // callback touches it while it runs.
    unsafe { profiler.as_ref()?.data.cast::<Recorder>().as_mut() }
}

unsafe extern "C" fn begin_op(
    profiler: *mut TelemetryProfiler,
    op: *const c_char,
    node: i64,
    subgraph: i64,
) -> u32 {
    // SAFETY: TensorFlow Lite calls this with the table vlab gave it.
    let Some(recorder) = (unsafe { recorder(profiler) }) else {
        return u32::MAX;
    };
    let Ok(handle) = u32::try_from(recorder.events.len()) else {
        return u32::MAX;
    };
    // SAFETY: TensorFlow Lite passes null or a NUL-terminated name, valid
    // for this call.
    let op = unsafe { op_name(op) };
    recorder.events.push(OpEvent {
        op,
        node,
        subgraph,
        ns: None,
    });
    // Last, so that recording costs the operator nothing.
    recorder.started.push(Instant::now());
    handle
}

/// An operator name TensorFlow Lite passes: empty for null.
///
/// # Safety
/// `op` is null or a NUL-terminated string valid for the call.
unsafe fn op_name(op: *const c_char) -> String {
    if op.is_null() {
        return String::new();
    }
    // SAFETY: per the contract, a NUL-terminated string.
    unsafe { CStr::from_ptr(op) }.to_string_lossy().into_owned()
}

unsafe extern "C" fn end_op(profiler: *mut TelemetryProfiler, handle: u32) {
    let now = Instant::now();
    // SAFETY: as in `begin_op`.
    let Some(recorder) = (unsafe { recorder(profiler) }) else {
        return;
    };
    let index = handle as usize;
    if let (Some(event), Some(start)) =
        (recorder.events.get_mut(index), recorder.started.get(index))
    {
        let ns = now.duration_since(*start).as_nanos();
        event.ns = Some(u64::try_from(ns).unwrap_or(u64::MAX));
    }
}

/// Telemetry events (not timings): ignored.
unsafe extern "C" fn report_event(_: *mut TelemetryProfiler, _: *const c_char, _: u64) {}

/// Telemetry events about an operator (not timings): ignored.
unsafe extern "C" fn report_op_event(
    _: *mut TelemetryProfiler,
    _: *const c_char,
    _: i64,
    _: i64,
    _: u64,
) {
}

/// The interpreter's settings: ignored.
unsafe extern "C" fn report_settings(
    _: *mut TelemetryProfiler,
    _: *const c_char,
    _: *const TelemetrySettings,
) {
}

/// A delegate kernel's node, timed by TensorFlow Lite around its whole
/// invocation (XNNPACK's: every node it took over), in microseconds: the
/// delegate's node gets no begin and end of its own.
unsafe extern "C" fn report_op_invoke(
    profiler: *mut TelemetryProfiler,
    op: *const c_char,
    elapsed_us: u64,
    node: i64,
    subgraph: i64,
) {
    // SAFETY: as in `begin_op`.
    let Some(recorder) = (unsafe { recorder(profiler) }) else {
        return;
    };
    // SAFETY: TensorFlow Lite passes null or a NUL-terminated name, valid
    // for this call.
    let op = unsafe { op_name(op) };
    recorder.events.push(OpEvent {
        op,
        node,
        subgraph,
        ns: Some(elapsed_us.saturating_mul(1000)),
    });
    recorder.started.push(Instant::now());
}
