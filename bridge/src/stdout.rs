//! Printing results on stdout. When the reader goes away (`vlab boards |
//! head`), the write fails with a broken pipe; `println!` would panic,
//! whereas a command-line tool should just stop, as it would on SIGPIPE.
//! Every artifact is written before anything is printed, so stopping there
//! loses nothing.

use std::io::Write;

/// Prints `args` and a newline, like `println!`.
macro_rules! say {
    () => {
        $crate::stdout::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::stdout::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Prints `args`, like `print!`.
macro_rules! say_raw {
    ($($arg:tt)*) => {
        $crate::stdout::write(format_args!($($arg)*))
    };
}

pub(crate) use {say, say_raw};

/// Writes `args` to stdout; ends the program quietly with status 0 when
/// the reader has gone, and with status 1 on any other write error.
pub fn write(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}
