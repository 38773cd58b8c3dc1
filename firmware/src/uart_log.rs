//! A defmt global logger for boards whose only link to the host is the
//! protocol's byte stream (a UART): log frames are kept in a buffer and the
//! agent sends them in `Event::Log` frames after each request, so logs and
//! protocol never interleave mid-frame. defmt-rtt does this job on boards
//! with a probe; no maintained crate buffers defmt output for another
//! transport, hence this module.
//!
//! A whole defmt frame is written inside one critical section (taken in
//! `acquire`, released in `release`), so frames from interrupt handlers
//! cannot interleave. A frame that does not fit in the free space is
//! dropped whole and counted, never cut.

// defmt's `Logger` is an unsafe trait and its acquire/release pair holds a
// critical section across calls, which needs the raw acquire/release API.
#![allow(unsafe_code)]

use core::cell::RefCell;

use critical_section::{CriticalSection, Mutex, RestoreState};
use heapless::Deque;

/// Bytes of encoded log frames the buffer holds.
pub const LOG_BUFFER: usize = 2048;

/// Where encoded log bytes go.
struct Sink {
    buffer: Deque<u8, LOG_BUFFER>,
    /// Buffer length when the current frame started.
    frame_start: usize,
    /// The current frame did not fit and is being dropped.
    overflowed: bool,
    /// Frames dropped since the last drain.
    dropped: u32,
}

impl Sink {
    fn start_frame(&mut self) {
        self.frame_start = self.buffer.len();
        self.overflowed = false;
    }

    fn push(&mut self, bytes: &[u8]) {
        if self.overflowed {
            return;
        }
        for &b in bytes {
            if self.buffer.push_back(b).is_err() {
                // Drop the partial frame: the host's decoder then sees only
                // whole frames.
                while self.buffer.len() > self.frame_start {
                    self.buffer.pop_back();
                }
                self.overflowed = true;
                self.dropped = self.dropped.saturating_add(1);
                return;
            }
        }
    }
}

struct State {
    encoder: defmt::Encoder,
    sink: Sink,
    /// Held between `acquire` and `release`.
    restore: RestoreState,
    taken: bool,
}

static STATE: Mutex<RefCell<State>> = Mutex::new(RefCell::new(State {
    encoder: defmt::Encoder::new(),
    sink: Sink {
        buffer: Deque::new(),
        frame_start: 0,
        overflowed: false,
        dropped: 0,
    },
    restore: RestoreState::invalid(),
    taken: false,
}));

#[defmt::global_logger]
struct UartLogger;

// SAFETY: `acquire` takes a critical section that `release` ends, so the
// state is used by one frame at a time; a nested `acquire` (a log inside a
// log) is refused by the `taken` flag, as defmt's contract requires.
unsafe impl defmt::Logger for UartLogger {
    fn acquire() {
        // SAFETY: paired with the `release` in `Logger::release`, which defmt
        // always calls after `acquire`.
        let restore = unsafe { critical_section::acquire() };
        // SAFETY: inside the critical section just taken.
        let cs = unsafe { CriticalSection::new() };
        let mut state = STATE.borrow_ref_mut(cs);
        if state.taken {
            panic!("defmt logger taken reentrantly");
        }
        state.taken = true;
        state.restore = restore;
        let State { encoder, sink, .. } = &mut *state;
        sink.start_frame();
        encoder.start_frame(|b| sink.push(b));
    }

    unsafe fn flush() {}

    unsafe fn release() {
        // SAFETY: between `acquire` and `release` the critical section is held.
        let cs = unsafe { CriticalSection::new() };
        let restore = {
            let mut state = STATE.borrow_ref_mut(cs);
            let State { encoder, sink, .. } = &mut *state;
            encoder.end_frame(|b| sink.push(b));
            state.taken = false;
            state.restore
        };
        // SAFETY: ends the critical section `acquire` took, with its state.
        unsafe { critical_section::release(restore) };
    }

    unsafe fn write(bytes: &[u8]) {
        // SAFETY: between `acquire` and `release` the critical section is held.
        let cs = unsafe { CriticalSection::new() };
        let mut state = STATE.borrow_ref_mut(cs);
        let State { encoder, sink, .. } = &mut *state;
        encoder.write(bytes, |b| sink.push(b));
    }
}

/// Moves up to `out.len()` bytes of whole or partial log frames into `out`
/// (the host's decoder reassembles them); returns how many, and how many
/// frames were dropped for lack of space since the last call.
pub fn drain(out: &mut [u8]) -> (usize, u32) {
    critical_section::with(|cs| {
        let mut state = STATE.borrow_ref_mut(cs);
        let sink = &mut state.sink;
        let mut n = 0;
        while n < out.len() {
            let Some(b) = sink.buffer.pop_front() else {
                break;
            };
            out[n] = b;
            n += 1;
        }
        (n, core::mem::take(&mut sink.dropped))
    })
}
