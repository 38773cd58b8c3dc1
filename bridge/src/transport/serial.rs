//! Serial ports through tokio-serial (serialport without libudev).

use tokio_serial::SerialPortBuilderExt;
use vlab_harness::{Error, Result};

use super::Connection;

/// Opens the serial port at `path` at `baud`, 8N1, raw.
pub fn open(path: &str, baud: u32) -> Result<Connection> {
    let port = tokio_serial::new(path, baud)
        .data_bits(tokio_serial::DataBits::Eight)
        .parity(tokio_serial::Parity::None)
        .stop_bits(tokio_serial::StopBits::One)
        .flow_control(tokio_serial::FlowControl::None)
        .open_native_async()
        .map_err(|e| {
            Error::runtime(format!(
                "cannot open serial port {path}: {e} (is the board attached, and may this user open the port?)"
            ))
        })?;
    Ok(Connection {
        link: Box::new(port),
        description: format!("serial {path} at {baud} baud"),
    })
}
