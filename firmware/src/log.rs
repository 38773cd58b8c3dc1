//! The agent's log statements. With the `defmt` feature they are defmt
//! logs, carried by whichever global logger the board links: defmt-rtt on
//! a board with a probe, or [`crate::uart_log`] (feature `uart-log`) on a
//! board whose only link is its UART. Without it they compile to nothing,
//! so host builds need no logger.

/// Logs at info level.
macro_rules! info {
    ($($arg:tt)*) => {{
        #[cfg(feature = "defmt")]
        defmt::info!($($arg)*);
    }};
}

/// Logs at warn level: something went wrong and was recovered from.
macro_rules! warning {
    ($($arg:tt)*) => {{
        #[cfg(feature = "defmt")]
        defmt::warn!($($arg)*);
    }};
}

/// Logs at error level: a request failed.
macro_rules! error {
    ($($arg:tt)*) => {{
        #[cfg(feature = "defmt")]
        defmt::error!($($arg)*);
    }};
}

pub(crate) use {error, info, warning};
