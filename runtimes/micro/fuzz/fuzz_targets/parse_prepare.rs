//! Fuzzes vlab-micro with arbitrary model bytes: parse, plan, prepare and,
//! when everything loads, one inference. Any panic, out-of-bounds access or
//! hang is a finding. See docs/fuzzing.md.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vlab_micro::{Interpreter, Model, arena_bytes_required};

/// Largest arena the target allocates, so that huge declared tensors are
/// rejected instead of exhausting memory.
const MAX_ARENA: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let Ok(model) = Model::parse(data) else { return };
    let Ok(needed) = arena_bytes_required(&model) else { return };
    if needed > MAX_ARENA {
        return;
    }
    if let Ok(mut interpreter) = Interpreter::new(model, vec![0u8; needed]) {
        let _ = interpreter.invoke(&mut ());
    }
});
