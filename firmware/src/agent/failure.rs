//! A request that failed, and the short texts the agent puts on the wire.

use core::fmt::Write as _;

use heapless::String;
use vlab_protocol::ErrorCode;

/// A failed request: what to answer in its error frame.
pub(super) struct Failure(pub ErrorCode, pub String<64>);

/// A failure with a formatted detail.
pub(super) fn fail(code: ErrorCode, args: core::fmt::Arguments<'_>) -> Failure {
    Failure(code, truncated(args))
}

/// The failure of a request that needs a model when the slot holds none
/// ready.
pub(super) fn no_model() -> Failure {
    fail(ErrorCode::NoModel, format_args!("no model loaded"))
}

/// `args` formatted into at most `N` bytes, the rest dropped.
pub(super) fn truncated<const N: usize>(args: core::fmt::Arguments<'_>) -> String<N> {
    struct Truncating<const N: usize>(String<N>);
    impl<const N: usize> core::fmt::Write for Truncating<N> {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            for c in s.chars() {
                if self.0.push(c).is_err() {
                    break;
                }
            }
            Ok(())
        }
    }
    let mut t = Truncating(String::new());
    let _ = t.write_fmt(args);
    t.0
}
