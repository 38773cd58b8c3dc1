//! Collecting a command: bytes up to the `%` terminator.

use heapless::String;

/// Longest command, as the reference firmware's buffer (`EE_CMD_SIZE`).
pub const MAX_COMMAND: usize = 80;

/// A command in the making.
#[derive(Default)]
pub struct CommandLine {
    text: String<MAX_COMMAND>,
    /// More than [`MAX_COMMAND`] bytes, or a byte that is not ASCII, came
    /// since the last `%`.
    overlong: bool,
    not_ascii: bool,
}

/// What a `%` ends.
pub enum Line {
    /// A command of at most [`MAX_COMMAND`] ASCII characters.
    Command(String<MAX_COMMAND>),
    /// A command longer than [`MAX_COMMAND`]: refused whole, rather than
    /// cut as the reference firmware does.
    TooLong,
    /// A command with a byte that is not ASCII.
    NotAscii,
}

impl CommandLine {
    /// Takes one byte; `Some` when it ends a command. `\r`, `\n` and NUL
    /// are ignored wherever they come, so a host that ends its commands
    /// with a newline is understood.
    pub fn push(&mut self, byte: u8) -> Option<Line> {
        match byte {
            b'%' => {
                let line = if self.overlong {
                    Line::TooLong
                } else if self.not_ascii {
                    Line::NotAscii
                } else {
                    Line::Command(core::mem::take(&mut self.text))
                };
                *self = Self::default();
                Some(line)
            }
            b'\r' | b'\n' | 0 => None,
            _ if !byte.is_ascii() => {
                self.not_ascii = true;
                None
            }
            _ => {
                if self.text.push(char::from(byte)).is_err() {
                    self.overlong = true;
                }
                None
            }
        }
    }
}
