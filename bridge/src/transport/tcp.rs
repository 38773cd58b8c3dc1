//! TCP: QEMU's UART socket, or a board behind a network serial server.

use std::time::Duration;

use tokio::net::TcpStream;
use vlab_harness::{Error, Result};

use super::{Alive, Connection};

/// Connects to `address`, retrying until `patience` runs out (an emulator
/// may still be starting). `alive` is asked between attempts and stops the
/// wait early with its error, e.g. when QEMU has exited.
pub async fn connect(address: &str, patience: Duration, mut alive: Alive) -> Result<Connection> {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        match TcpStream::connect(address).await {
            Ok(stream) => {
                // Frames are small and the protocol waits for each answer:
                // Nagle's algorithm would add a delayed-ACK wait to each.
                stream
                    .set_nodelay(true)
                    .map_err(|e| Error::runtime(format!("tcp {address}: {e}")))?;
                return Ok(Connection {
                    link: Box::new(stream),
                    description: format!("tcp {address}"),
                });
            }
            Err(e) if tokio::time::Instant::now() >= deadline => {
                return Err(Error::runtime(format!(
                    "cannot connect to the board at tcp {address}: {e}"
                )));
            }
            Err(_) => {
                alive()?;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}
