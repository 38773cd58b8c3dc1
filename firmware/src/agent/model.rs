//! Getting a model into the slot: `ModelQuery` (the model held, or the
//! flash slot's), and an upload: `ModelBegin`, `ModelChunk`s, `ModelCommit`.

use vlab_protocol::{ErrorCode, Event, SlotHeader, Stream, chunk_crc};

use super::Agent;
use super::failure::{Failure, fail};
use super::layout::Layout;
use super::slot::{LastRun, Ready, Slot, Source, Stored};
use crate::clock::TickClock;
use crate::log;

impl<C: TickClock> Agent<'_, C> {
    /// `ModelQuery`: whether the slot or the flash slot holds that model.
    /// A model found is prepared afresh: a benchmark starts from the
    /// model's state at load.
    pub(super) fn model_query(
        &mut self,
        len: u32,
        crc: u32,
        send: &mut dyn FnMut(&Event),
    ) -> Result<(), Failure> {
        let len = len as usize;
        let arena_bytes = match &self.slot {
            Slot::Ready(ready) if ready.crc == crc && ready.stored.len == len => {
                let (stored, last_run) = (ready.stored, ready.last_run);
                Some(self.load(stored, crc, last_run)?)
            }
            _ => self.use_flash_slot(len, crc)?,
        };
        send(&Event::ModelStatus {
            present: arena_bytes.is_some(),
            arena_bytes: arena_bytes.unwrap_or(0),
        });
        Ok(())
    }

    /// `ModelBegin`: starts an upload into the RAM slot, dropping the model
    /// held.
    pub(super) fn model_begin(
        &mut self,
        len: u32,
        send: &mut dyn FnMut(&Event),
    ) -> Result<(), Failure> {
        let (len, slot) = (len as usize, self.mem.model_slot.len());
        if len > slot {
            return Err(fail(
                ErrorCode::ModelTooLarge,
                format_args!("model {len} B > slot {slot} B"),
            ));
        }
        self.slot = Slot::Receiving {
            expected: len,
            received: 0,
        };
        send(&Event::Received {
            stream: Stream::Model,
            end: 0,
        });
        Ok(())
    }

    /// `ModelChunk`: a piece of the upload. A chunk at or before the end
    /// received so far is taken, so that a chunk resent after a lost answer
    /// is harmless.
    pub(super) fn model_chunk(
        &mut self,
        offset: u32,
        crc: u32,
        data: &[u8],
        send: &mut dyn FnMut(&Event),
    ) -> Result<(), Failure> {
        let Slot::Receiving { expected, received } = &mut self.slot else {
            return Err(fail(
                ErrorCode::BadChunk,
                format_args!("no upload in progress"),
            ));
        };
        let (offset, end) = (
            offset as usize,
            (offset as usize).saturating_add(data.len()),
        );
        let dest = self.mem.model_slot.get_mut(offset..end);
        let taken = offset <= *received && end <= *expected && chunk_crc(data) == crc;
        let Some(dest) = dest.filter(|_| taken) else {
            return Err(fail(
                ErrorCode::BadChunk,
                format_args!("chunk at {offset}: {received} B received"),
            ));
        };
        dest.copy_from_slice(data);
        *received = (*received).max(end);
        send(&Event::Received {
            stream: Stream::Model,
            end: *received as u32,
        });
        Ok(())
    }

    /// `ModelCommit`: checks the upload's CRC and prepares the model. A
    /// commit of the model already prepared (resent) is answered again.
    pub(super) fn model_commit(
        &mut self,
        crc: u32,
        send: &mut dyn FnMut(&Event),
    ) -> Result<(), Failure> {
        let arena_bytes = match self.slot {
            Slot::Ready(ref ready) if ready.crc == crc => ready.layout.arena_used,
            Slot::Receiving { expected, received } if expected == received => {
                self.commit(received, crc)?
            }
            ref slot => {
                return Err(fail(
                    ErrorCode::BadChunk,
                    format_args!("model incomplete: {} B received", slot.len()),
                ));
            }
        };
        send(&Event::ModelStatus {
            present: true,
            arena_bytes,
        });
        Ok(())
    }

    /// Checks the uploaded model's CRC and prepares it; its arena use.
    fn commit(&mut self, len: usize, crc: u32) -> Result<u32, Failure> {
        self.slot = Slot::Refused { len };
        let model = self.mem.model_slot.get(..len).unwrap_or_default();
        if chunk_crc(model) != crc {
            return Err(fail(
                ErrorCode::ModelCrc,
                format_args!("model CRC mismatch"),
            ));
        }
        let stored = Stored {
            source: Source::Ram,
            len,
        };
        let arena_bytes = self.load(stored, crc, None)?;
        log::info!(
            "model received: {=usize} B, tensor arena {=u32} B",
            len,
            arena_bytes
        );
        Ok(arena_bytes)
    }

    /// The flash slot's model if its header names `len` bytes of CRC `crc`
    /// and the bytes after it match: it becomes the slot's model, prepared,
    /// and this is its arena use.
    fn use_flash_slot(&mut self, len: usize, crc: u32) -> Result<Option<u32>, Failure> {
        let found = SlotHeader::decode(self.mem.flash_slot)
            .filter(|h| h.len as usize == len && h.crc == crc)
            .and_then(|h| h.model(self.mem.flash_slot));
        if found.is_none() {
            return Ok(None);
        }
        let arena_bytes = self.load_flash_slot(len, crc)?;
        log::info!("model found in the flash slot: {=usize} B", len);
        Ok(Some(arena_bytes))
    }

    /// Prepares the flash slot's model of `len` bytes and CRC `crc`, checked
    /// by the caller, as the slot's model.
    pub(super) fn load_flash_slot(&mut self, len: usize, crc: u32) -> Result<u32, Failure> {
        let stored = Stored {
            source: Source::Flash,
            len,
        };
        self.load(stored, crc, None)
    }

    /// Prepares `stored` afresh (its state as at load) and makes it the
    /// slot's model, with `last_run` to read; its arena use. A model that
    /// does not prepare leaves the slot refused.
    fn load(
        &mut self,
        stored: Stored,
        crc: u32,
        last_run: Option<LastRun>,
    ) -> Result<u32, Failure> {
        self.slot = Slot::Refused { len: stored.len };
        let model = stored.bytes(self.mem.model_slot, self.mem.flash_slot);
        let layout = Layout::load(model, self.mem.arena)?;
        let arena_used = layout.arena_used;
        self.slot = Slot::Ready(Ready {
            stored,
            crc,
            layout,
            last_run,
        });
        Ok(arena_used)
    }
}
