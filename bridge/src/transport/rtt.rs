//! RTT through a debug probe (probe-rs): the firmware's SEGGER RTT ring
//! buffers, read and written by the probe while the core runs. Up channel
//! 0 carries defmt logs, up and down channel 1 the protocol's frames
//! (boards/support/src/rtt.rs). probe-rs's RTT calls block on USB, so a
//! thread pumps the channels and the session sees an async byte stream.

use std::collections::VecDeque;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::mpsc::{self, TryRecvError};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use probe_rs::Session;
use probe_rs::rtt::Rtt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use vlab_harness::{Error, Result};

use super::Connection;
use crate::session::LogSink;

/// The up channel of the firmware's defmt logs.
pub const LOG_CHANNEL: usize = 0;
/// The up and down channel of the protocol.
pub const LINK_CHANNEL: usize = 1;
/// How long the firmware may take to set up its control block after a
/// reset.
const ATTACH_TIMEOUT: Duration = Duration::from_secs(2);
/// Pause of the pump when no channel had anything to move.
const IDLE: Duration = Duration::from_millis(1);

/// The RTT channels of a running firmware. [`ProbeRtt`] is the real one;
/// the tests use an in-memory double, because no debug probe exists on the
/// machines CI runs on.
pub trait RttPort: Send + 'static {
    /// Reads what up channel `channel` holds into `buf`.
    fn read(&mut self, channel: usize, buf: &mut [u8]) -> std::result::Result<usize, String>;
    /// Writes as much of `buf` as down channel `channel` has room for.
    fn write(&mut self, channel: usize, buf: &[u8]) -> std::result::Result<usize, String>;
}

/// RTT on a board attached through probe-rs.
pub struct ProbeRtt {
    session: Session,
    rtt: Rtt,
}

impl ProbeRtt {
    /// Attaches to the RTT control block at `address` (the `_SEGGER_RTT`
    /// symbol of the firmware `elf`) on the board behind `session`, waiting
    /// for the firmware to set it up, and checks it has the protocol's
    /// channels.
    pub fn attach(mut session: Session, address: u64, elf: &Path) -> Result<Self> {
        let started = Instant::now();
        let mut rtt = loop {
            let mut core = session
                .core(0)
                .map_err(|e| Error::runtime(format!("the probe cannot reach the core: {e}")))?;
            match Rtt::attach_at(&mut core, address) {
                Ok(rtt) => break rtt,
                Err(e) if started.elapsed() > ATTACH_TIMEOUT => {
                    return Err(Error::runtime(format!(
                        "no RTT control block at {address:#010x} after {} s ({e}): is the board \
                         running {}?",
                        ATTACH_TIMEOUT.as_secs(),
                        elf.display()
                    )));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        if rtt.up_channel(LINK_CHANNEL).is_none() || rtt.down_channel(LINK_CHANNEL).is_none() {
            return Err(Error::runtime(format!(
                "the firmware's RTT control block has no channel {LINK_CHANNEL} in both directions \
                 (vlab-board-support's RttLink sets it up)"
            )));
        }
        Ok(Self { session, rtt })
    }
}

impl RttPort for ProbeRtt {
    fn read(&mut self, channel: usize, buf: &mut [u8]) -> std::result::Result<usize, String> {
        let mut core = self.session.core(0).map_err(|e| e.to_string())?;
        match self.rtt.up_channel(channel) {
            Some(up) => up.read(&mut core, buf).map_err(|e| e.to_string()),
            None => Ok(0),
        }
    }

    fn write(&mut self, channel: usize, buf: &[u8]) -> std::result::Result<usize, String> {
        let mut core = self.session.core(0).map_err(|e| e.to_string())?;
        match self.rtt.down_channel(channel) {
            Some(down) => down.write(&mut core, buf).map_err(|e| e.to_string()),
            None => Err(format!("the firmware has no RTT down channel {channel}")),
        }
    }
}

/// Opens the protocol link over `port`, whose defmt bytes go to `logs`.
/// The pump thread ends when the link is dropped or the probe fails.
pub fn open(port: impl RttPort, description: String, logs: Option<LogSink>) -> Connection {
    let (to_host, incoming) = unbounded_channel();
    let (outgoing, from_host) = mpsc::channel();
    let failure = Arc::new(Mutex::new(None));
    let failed = failure.clone();
    std::thread::spawn(move || {
        if let Err(e) = pump(port, &to_host, &from_host, logs) {
            // A write after this names the cause, as a read does.
            *failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.clone());
            let _ = to_host.send(Err(e));
        }
    });
    Connection {
        link: Box::new(RttStream {
            incoming,
            unread: VecDeque::new(),
            outgoing,
            failure,
        }),
        description,
    }
}

/// Moves bytes between the channels and the stream until the stream is
/// dropped, or the port fails: its error, which the stream then reports.
fn pump(
    mut port: impl RttPort,
    to_host: &UnboundedSender<std::result::Result<Vec<u8>, String>>,
    from_host: &mpsc::Receiver<Vec<u8>>,
    mut logs: Option<LogSink>,
) -> std::result::Result<(), String> {
    let mut buf = vec![0u8; 4096];
    let mut pending: VecDeque<u8> = VecDeque::new();
    loop {
        let Some(moved) = step(
            &mut port,
            &mut buf,
            &mut pending,
            to_host,
            from_host,
            &mut logs,
        )?
        else {
            return Ok(());
        };
        if !moved {
            std::thread::sleep(IDLE);
        }
    }
}

/// One round of the pump: whether anything moved, or `None` once the
/// stream is gone.
fn step(
    port: &mut impl RttPort,
    buf: &mut [u8],
    pending: &mut VecDeque<u8>,
    to_host: &UnboundedSender<std::result::Result<Vec<u8>, String>>,
    from_host: &mpsc::Receiver<Vec<u8>>,
    logs: &mut Option<LogSink>,
) -> std::result::Result<Option<bool>, String> {
    let mut moved = false;
    let n = port.read(LINK_CHANNEL, buf)?;
    if n > 0 {
        moved = true;
        if to_host.send(Ok(buf[..n].to_vec())).is_err() {
            return Ok(None);
        }
    }
    let n = port.read(LOG_CHANNEL, buf)?;
    if n > 0 {
        moved = true;
        if let Some(sink) = logs {
            sink(&buf[..n]);
        }
    }
    loop {
        match from_host.try_recv() {
            Ok(bytes) => pending.extend(bytes),
            Err(TryRecvError::Empty) => break,
            Err(TryRecvError::Disconnected) => return Ok(None),
        }
    }
    if !pending.is_empty() {
        let n = port.write(LINK_CHANNEL, pending.make_contiguous())?;
        pending.drain(..n);
        moved |= n > 0;
    }
    Ok(Some(moved))
}

/// The session's side of the pump.
struct RttStream {
    incoming: UnboundedReceiver<std::result::Result<Vec<u8>, String>>,
    unread: VecDeque<u8>,
    outgoing: mpsc::Sender<Vec<u8>>,
    /// Why the pump stopped, once the port failed.
    failure: Arc<Mutex<Option<String>>>,
}

impl AsyncRead for RttStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        while this.unread.is_empty() {
            match this.incoming.poll_recv(cx) {
                Poll::Ready(Some(Ok(bytes))) => this.unread.extend(bytes),
                Poll::Ready(Some(Err(e))) => {
                    return Poll::Ready(Err(io::Error::other(format!(
                        "RTT through the probe: {e}"
                    ))));
                }
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
        let n = buf.remaining().min(this.unread.len());
        let (front, _) = this.unread.as_slices();
        let first = n.min(front.len());
        buf.put_slice(&front[..first]);
        this.unread.drain(..first);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for RttStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.outgoing.send(buf.to_vec()) {
            Ok(()) => Poll::Ready(Ok(buf.len())),
            Err(_) => {
                let failure = self.failure.lock().unwrap_or_else(|p| p.into_inner());
                let message = match failure.as_deref() {
                    Some(e) => format!("RTT through the probe: {e}"),
                    None => "the RTT pump has stopped".to_owned(),
                };
                Poll::Ready(Err(io::Error::new(io::ErrorKind::BrokenPipe, message)))
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    //! The pump and stream against an in-memory RTT control block (a test
    //! double: no debug probe exists here) whose device side runs the real
    //! vlab-firmware agent, as a board's RttLink would.

    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    use vlab_firmware::{Agent, BoardInfo, Memory, TickClock};
    use vlab_protocol::TimerKind;

    use super::*;
    use crate::session::Session;

    /// Room in the down channel: small, so that the host's writes are
    /// split as a full RTT buffer splits them.
    const DOWN_BYTES: usize = 256;

    #[derive(Clone, Default)]
    struct ControlBlock {
        up_link: Arc<Mutex<VecDeque<u8>>>,
        up_log: Arc<Mutex<VecDeque<u8>>>,
        down_link: Arc<Mutex<VecDeque<u8>>>,
        host_gone: Arc<AtomicBool>,
    }

    /// The probe's view.
    struct MemoryRtt(ControlBlock);

    impl RttPort for MemoryRtt {
        fn read(&mut self, channel: usize, buf: &mut [u8]) -> std::result::Result<usize, String> {
            let up = match channel {
                LINK_CHANNEL => &self.0.up_link,
                LOG_CHANNEL => &self.0.up_log,
                _ => return Ok(0),
            };
            let mut up = up.lock().map_err(|e| e.to_string())?;
            let n = buf.len().min(up.len());
            for (slot, byte) in buf.iter_mut().zip(up.drain(..n)) {
                *slot = byte;
            }
            Ok(n)
        }

        fn write(&mut self, channel: usize, buf: &[u8]) -> std::result::Result<usize, String> {
            assert_eq!(channel, LINK_CHANNEL);
            let mut down = self.0.down_link.lock().map_err(|e| e.to_string())?;
            let n = buf.len().min(DOWN_BYTES - down.len());
            down.extend(&buf[..n]);
            Ok(n)
        }
    }

    impl Drop for MemoryRtt {
        fn drop(&mut self) {
            self.0.host_gone.store(true, Ordering::SeqCst);
        }
    }

    /// The firmware's view, as vlab-board-support's RttLink gives it.
    struct DeviceSide(ControlBlock);

    impl embedded_io::ErrorType for DeviceSide {
        type Error = core::convert::Infallible;
    }

    impl embedded_io::Read for DeviceSide {
        fn read(&mut self, buf: &mut [u8]) -> std::result::Result<usize, Self::Error> {
            loop {
                {
                    let mut down = self.0.down_link.lock().unwrap_or_else(|e| e.into_inner());
                    if !down.is_empty() {
                        let n = buf.len().min(down.len());
                        for (slot, byte) in buf.iter_mut().zip(down.drain(..n)) {
                            *slot = byte;
                        }
                        return Ok(n);
                    }
                }
                if self.0.host_gone.load(Ordering::SeqCst) {
                    return Ok(0);
                }
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    }

    impl embedded_io::Write for DeviceSide {
        fn write(&mut self, buf: &[u8]) -> std::result::Result<usize, Self::Error> {
            let mut up = self.0.up_link.lock().unwrap_or_else(|e| e.into_inner());
            up.extend(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::result::Result<(), Self::Error> {
            Ok(())
        }
    }

    struct HostClock(Instant);

    impl vlab_micro::Clock for HostClock {
        fn now(&mut self) -> u64 {
            self.0.elapsed().as_nanos() as u64
        }
    }

    impl TickClock for HostClock {
        fn hz(&self) -> u32 {
            1_000_000_000
        }
        fn kind(&self) -> TimerKind {
            TimerKind::SysTick
        }
    }

    fn leak<T: Clone>(value: T, len: usize) -> &'static mut [T] {
        Vec::leak(vec![value; len])
    }

    /// Starts the agent on the device side of a fresh control block.
    fn board(log_bytes: &[u8]) -> ControlBlock {
        let block = ControlBlock::default();
        block.up_log.lock().unwrap().extend(log_bytes);
        let device = block.clone();
        std::thread::spawn(move || {
            let info = BoardInfo {
                name: "rtt-double",
                core_clock_hz: 64_000_000,
                firmware_version: 0x0001_0000,
                build_hash: [3; 8],
                stack_used: || 0,
            };
            let memory = Memory {
                model_slot: leak(0u8, 128 << 10),
                flash_slot: &[],
                arena: leak(0u8, 64 << 10),
                samples: leak(0u32, 64),
            };
            let mut agent = Agent::new(info, HostClock(Instant::now()), memory);
            let mut link = DeviceSide(device);
            let _ = agent.serve(&mut link);
        });
        block
    }

    fn model() -> Vec<u8> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/keyword_spotting.tflite");
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[tokio::test]
    async fn a_session_over_rtt_identifies_the_board_uploads_a_model_and_gets_the_logs() {
        let block = board(b"defmt bytes");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let seen = logs.clone();
        let sink: LogSink = Box::new(move |bytes| seen.lock().unwrap().extend_from_slice(bytes));
        let connection = open(MemoryRtt(block.clone()), "rtt".into(), Some(sink));
        let mut session =
            Session::open(connection.link, Duration::from_secs(10), Box::new(|| None))
                .await
                .unwrap();
        assert_eq!(session.identify().board.as_str(), "rtt-double");
        let model = model();
        assert!(
            model.len() > 8 * DOWN_BYTES,
            "the upload must fill the down channel"
        );
        let arena = session.upload_model(&model).await.unwrap();
        assert!(arena > 0);
        assert!(session.has_model(&model).await.unwrap());
        assert_eq!(session.resent(), 0, "RTT loses nothing");
        assert_eq!(logs.lock().unwrap().as_slice(), b"defmt bytes");
    }

    /// A port that fails as a probe pulled out of USB does.
    struct Unplugged;

    impl RttPort for Unplugged {
        fn read(&mut self, _: usize, _: &mut [u8]) -> std::result::Result<usize, String> {
            Err("probe disconnected".into())
        }
        fn write(&mut self, _: usize, _: &[u8]) -> std::result::Result<usize, String> {
            Err("probe disconnected".into())
        }
    }

    #[tokio::test]
    async fn a_failing_probe_is_an_error_on_the_link_not_a_hang() {
        let connection = open(Unplugged, "rtt".into(), None);
        let error = Session::open(connection.link, Duration::from_secs(5), Box::new(|| None))
            .await
            .err()
            .unwrap();
        assert!(
            error.message().contains("probe disconnected"),
            "{}",
            error.message()
        );
    }
}
