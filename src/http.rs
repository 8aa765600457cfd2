//! Plain request/response data and the two traits the executor reaches the world through:
//! [`Transport`] (upstream calls) and [`Clock`] (time). Both return local, non-`Send` futures
//! so that a wasm `fetch` and `setTimeout` can implement them.

use std::fmt;

use futures::future::LocalBoxFuture;

/// One upstream call, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: &'static str,
    /// Absolute URL, path segments and query values already percent-encoded.
    pub url: String,
    /// Names as written by the query or the client, in sending order. Shared by every
    /// multiplexed item of a statement.
    pub headers: std::rc::Rc<[(String, String)]>,
    /// `None` for GET and DELETE; JSON text (or a raw string body) otherwise.
    pub body: Option<String>,
    /// The transport should stop reading the answer past this many bytes and fail with
    /// [`TransportError::TooLarge`]; the executor checks again.
    pub max_response_bytes: usize,
}

/// An upstream answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// A response with a JSON body and no headers.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: body.to_string().into_bytes(),
        }
    }

    /// The first header with this name, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.headers, name)
    }
}

/// The first header with this name, compared case-insensitively.
pub fn header_value<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Why a call produced no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// Connection refused, DNS failure, TLS failure, reset: reported as 502.
    Connection(String),
    /// The answer was longer than [`Request::max_response_bytes`].
    TooLarge { limit: usize },
    /// The caller aborted the call.
    Aborted,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::Connection(e) => write!(f, "connection error: {e}"),
            TransportError::TooLarge { limit } => {
                write!(f, "response larger than the limit of {limit} bytes")
            }
            TransportError::Aborted => f.write_str("request aborted"),
        }
    }
}

impl std::error::Error for TransportError {}

/// Sends upstream calls. Implemented by the wasm `fetch` binding, by test fakes and by the
/// in-memory benchmark transport. The request is lent: one built request may serve several
/// statements (dedupe), and most transports only read it.
pub trait Transport {
    fn send<'a>(
        &'a self,
        request: &'a Request,
    ) -> LocalBoxFuture<'a, Result<Response, TransportError>>;
}

/// Time as the executor sees it: virtual in tests, `Date.now`/`setTimeout` in wasm.
pub trait Clock {
    /// Milliseconds since an arbitrary, fixed origin.
    fn now_ms(&self) -> u64;
    /// A future that completes `ms` milliseconds from now.
    fn sleep(&self, ms: u64) -> LocalBoxFuture<'static, ()>;
    /// A future that completes at the end of the current task, after everything already
    /// scheduled has run: the batch window `task`, in which concurrent queries add their keys.
    /// In JavaScript, a `setTimeout(0)` or a `MessageChannel` message (never
    /// `process.nextTick`, which runs before promise reactions).
    fn defer(&self) -> LocalBoxFuture<'static, ()> {
        self.sleep(0)
    }
    /// A future that completes once the promise reactions already queued have run: the batch
    /// window `microtask`, sooner than a task's end (no turn of the event loop) and holding the
    /// keys of queries started in the same synchronous run of code. In JavaScript,
    /// `queueMicrotask`; by default [`Clock::defer`].
    fn soon(&self) -> LocalBoxFuture<'static, ()> {
        self.defer()
    }
    /// A future that completes once a run has been idle for a moment: in a task of its own,
    /// after the calls, batch windows and socket writes of the task it was made in. A run
    /// hands out statements' parts then. By default a sleep of [`IDLE_AFTER_MS`].
    fn idle(&self) -> LocalBoxFuture<'static, ()> {
        self.sleep(IDLE_AFTER_MS)
    }
}

/// How long after a statement's part became final it is handed out if the run still waits:
/// a timer, so that it runs in a task of its own (a zero-delay sleep is due at once).
pub const IDLE_AFTER_MS: u64 = 1;
