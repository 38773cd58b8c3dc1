//! A fault-injecting link for robustness tests: it drops, flips or
//! duplicates bytes in both directions at set rates, from a seeded
//! generator so that a failure can be replayed. Real links (UART noise, a
//! USB-serial adapter dropping bytes) fail this way; this wrapper makes it
//! happen on demand (`vlab bench --inject-faults RATE`).

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::Link;

/// Per-byte probabilities of each fault.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultRates {
    /// The byte is lost.
    pub drop: f64,
    /// One bit of the byte is inverted.
    pub flip: f64,
    /// The byte arrives twice.
    pub duplicate: f64,
}

impl FaultRates {
    /// A byte is corrupted with probability `rate`, the three faults
    /// equally likely.
    pub fn uniform(rate: f64) -> Self {
        Self {
            drop: rate / 3.0,
            flip: rate / 3.0,
            duplicate: rate / 3.0,
        }
    }
}

/// Counts of injected faults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// Bytes dropped.
    pub dropped: u64,
    /// Bytes with a flipped bit.
    pub flipped: u64,
    /// Bytes duplicated.
    pub duplicated: u64,
}

/// A [`Link`] that corrupts the bytes passing through it.
pub struct FaultyLink {
    inner: Box<dyn Link>,
    faults: Faults,
    /// Corrupted bytes read from `inner`, not yet handed out.
    incoming: Vec<u8>,
    /// Corrupted bytes accepted from the caller, not yet written to `inner`.
    outgoing: Vec<u8>,
}

/// The fault generator and what it has done.
struct Faults {
    rates: FaultRates,
    rng: ChaCha8Rng,
    counts: FaultCounter,
}

/// The running counts of a [`FaultyLink`], readable after the link has
/// gone into a session.
#[derive(Debug, Clone, Default)]
pub struct FaultCounter(Arc<Mutex<FaultCounts>>);

impl FaultCounter {
    /// Faults injected so far.
    pub fn get(&self) -> FaultCounts {
        self.0.lock().map(|c| *c).unwrap_or_default()
    }

    fn add(&self, count: impl FnOnce(&mut FaultCounts)) {
        if let Ok(mut counts) = self.0.lock() {
            count(&mut counts);
        }
    }
}

impl Faults {
    /// Appends `bytes` to `out`, corrupted.
    fn corrupt(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        let FaultRates {
            drop,
            flip,
            duplicate,
        } = self.rates;
        for &byte in bytes {
            let roll: f64 = self.rng.random();
            if roll < drop {
                self.counts.add(|c| c.dropped += 1);
            } else if roll < drop + flip {
                self.counts.add(|c| c.flipped += 1);
                out.push(byte ^ (1 << self.rng.random_range(0..8)));
            } else if roll < drop + flip + duplicate {
                self.counts.add(|c| c.duplicated += 1);
                out.extend_from_slice(&[byte, byte]);
            } else {
                out.push(byte);
            }
        }
    }
}

impl FaultyLink {
    /// Wraps `inner`, corrupting at `rates` with generator seed `seed`.
    pub fn new(inner: Box<dyn Link>, rates: FaultRates, seed: u64) -> Self {
        Self {
            inner,
            faults: Faults {
                rates,
                rng: ChaCha8Rng::seed_from_u64(seed),
                counts: FaultCounter::default(),
            },
            incoming: Vec::new(),
            outgoing: Vec::new(),
        }
    }

    /// The link's fault counts, which stay readable once it is boxed.
    pub fn counter(&self) -> FaultCounter {
        self.faults.counts.clone()
    }

    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.outgoing.is_empty() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.outgoing))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.outgoing.drain(..n);
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for FaultyLink {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        while this.incoming.is_empty() {
            let mut raw = [0u8; 512];
            let mut raw_buf = ReadBuf::new(&mut raw);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut raw_buf))?;
            if raw_buf.filled().is_empty() {
                return Poll::Ready(Ok(())); // end of stream
            }
            this.faults.corrupt(raw_buf.filled(), &mut this.incoming);
        }
        let n = buf.remaining().min(this.incoming.len());
        buf.put_slice(&this.incoming[..n]);
        this.incoming.drain(..n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for FaultyLink {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        this.faults.corrupt(buf, &mut this.outgoing);
        // The corrupted bytes now belong to the link; push what goes now.
        match this.poll_drain(cx) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            _ => Poll::Ready(Ok(buf.len())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}
