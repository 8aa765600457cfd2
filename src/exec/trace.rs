//! The per-call trace of a run: what each statement item asked for, when, and how it was
//! served. A waterfall can be drawn from it.

use std::rc::Rc;

use serde::ser::{Serialize, SerializeMap, Serializer};

pub use super::dispatch::Served;
use crate::plan::Call;

/// One call a statement item made (or was served without making). Shares the call and the
/// statement's name with the run: recording it copies no text.
#[derive(Debug, Clone, PartialEq)]
pub struct CallTrace {
    /// The statement's identifier.
    pub statement: Rc<str>,
    /// The item's index in multiplex order (0 for a single call).
    pub item: usize,
    /// What the item asked for (method, URL, body, headers).
    pub call: Rc<Call>,
    /// `METHOD URL` of the batch call that served it, when a batch call did.
    pub batch: Option<Rc<str>>,
    /// Milliseconds from the run's start.
    pub start_ms: u64,
    pub end_ms: u64,
    pub status: u16,
    pub served: Served,
    /// `timeout` or `failed` (transport error), when it ended so.
    pub failure: Option<&'static str>,
}

impl CallTrace {
    pub fn method(&self) -> &'static str {
        self.call.request.method
    }

    pub fn url(&self) -> &str {
        &self.call.request.url
    }
}

impl Serialize for CallTrace {
    /// `{statement, item, method, url, batch?, startMs, endMs, status, served, chunk?,
    /// failure?}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("statement", &*self.statement)?;
        m.serialize_entry("item", &self.item)?;
        m.serialize_entry("method", self.method())?;
        m.serialize_entry("url", self.url())?;
        if let Some(batch) = &self.batch {
            m.serialize_entry("batch", &**batch)?;
        }
        m.serialize_entry("startMs", &self.start_ms)?;
        m.serialize_entry("endMs", &self.end_ms)?;
        m.serialize_entry("status", &self.status)?;
        m.serialize_entry("served", self.served.as_str())?;
        if let Some(chunk) = self.served.chunk() {
            m.serialize_entry("chunk", &chunk)?;
        }
        if let Some(failure) = self.failure {
            m.serialize_entry("failure", failure)?;
        }
        m.end()
    }
}
