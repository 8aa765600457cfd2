//! Test support, public so that integration tests, benchmarks and users' own tests can drive the
//! executor deterministically: a virtual clock, a fake transport that records calls and answers
//! from a function, and [`VirtualClock::run`] that drives a future to completion, advancing
//! virtual time only when nothing else can progress.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures::FutureExt;
use futures::future::LocalBoxFuture;

use crate::http::{Clock, Request, Response, Transport, TransportError};

/// Time that moves only when [`VirtualClock::run`] finds every task waiting on a timer.
#[derive(Debug, Clone, Default)]
pub struct VirtualClock {
    state: Rc<RefCell<ClockState>>,
}

#[derive(Debug, Default)]
struct ClockState {
    now: u64,
    next_id: u64,
    /// Polls of the future [`VirtualClock::run`] drives (the `defer` window counts them).
    pass: u64,
    /// (deadline, id) -> waker of the sleeping task.
    timers: BTreeMap<(u64, u64), Option<Waker>>,
}

impl VirtualClock {
    pub fn new() -> Self {
        VirtualClock::default()
    }

    /// Move time to the earliest pending timer and wake everything due; false when no timer
    /// is pending.
    pub fn advance(&self) -> bool {
        let mut state = self.state.borrow_mut();
        let Some((&(deadline, _), _)) = state.timers.iter().next() else {
            return false;
        };
        state.now = state.now.max(deadline);
        let now = state.now;
        let due: Vec<(u64, u64)> = state
            .timers
            .range(..(now + 1, 0))
            .map(|(k, _)| *k)
            .collect();
        let mut wakers = Vec::new();
        for k in due {
            if let Some(Some(w)) = state.timers.remove(&k) {
                wakers.push(w);
            }
        }
        drop(state);
        wakers.into_iter().for_each(Waker::wake);
        true
    }

    /// Drive `future` to completion on this thread. `None` if it can never finish (every task
    /// waits and no timer is pending): a hang, reported instead of blocking the test.
    pub fn run<F: Future>(&self, future: F) -> Option<F::Output> {
        let flag = Arc::new(Flag(AtomicBool::new(true)));
        let waker = Waker::from(Arc::clone(&flag));
        let mut cx = Context::from_waker(&waker);
        let mut future = std::pin::pin!(future);
        loop {
            flag.0.store(false, Ordering::SeqCst);
            self.state.borrow_mut().pass += 1;
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return Some(out);
            }
            if !flag.0.load(Ordering::SeqCst) && !self.advance() {
                return None;
            }
        }
    }
}

#[derive(Debug)]
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl Clock for VirtualClock {
    fn now_ms(&self) -> u64 {
        self.state.borrow().now
    }

    fn sleep(&self, ms: u64) -> LocalBoxFuture<'static, ()> {
        let deadline = self.now_ms().saturating_add(ms);
        Sleep {
            state: Rc::clone(&self.state),
            deadline,
            id: None,
        }
        .boxed_local()
    }

    /// Ready in the next pass of [`VirtualClock::run`] after the one it was made in: every
    /// task polled in the same pass (a `join` of runs) has had its turn first.
    fn defer(&self) -> LocalBoxFuture<'static, ()> {
        let state = Rc::clone(&self.state);
        let made_in = state.borrow().pass;
        futures::future::poll_fn(move |cx| {
            if state.borrow().pass > made_in {
                return std::task::Poll::Ready(());
            }
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        })
        .boxed_local()
    }
}

/// A virtual timer; registers itself on first poll, so an unpolled timer costs nothing.
struct Sleep {
    state: Rc<RefCell<ClockState>>,
    deadline: u64,
    id: Option<u64>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.state.borrow_mut();
        if state.now >= self.deadline {
            return Poll::Ready(());
        }
        let id = match self.id {
            Some(id) => id,
            None => {
                state.next_id += 1;
                state.next_id
            }
        };
        state
            .timers
            .insert((self.deadline, id), Some(cx.waker().clone()));
        drop(state);
        self.id = Some(id);
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(id) = self.id
            && let Ok(mut state) = self.state.try_borrow_mut()
        {
            state.timers.remove(&(self.deadline, id));
        }
    }
}

/// What the fake upstream answers to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub result: Result<Response, TransportError>,
    /// Virtual milliseconds before the answer arrives.
    pub latency_ms: u64,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply {
            result: Ok(Response::json(status, &body)),
            latency_ms: 0,
        }
    }

    /// A raw answer (empty, XML, plain text).
    pub fn text(status: u16, body: &str) -> Reply {
        Reply {
            result: Ok(Response {
                status,
                headers: Vec::new(),
                body: body.as_bytes().to_vec(),
            }),
            latency_ms: 0,
        }
    }

    /// A transport failure (connection refused...).
    pub fn error(error: TransportError) -> Reply {
        Reply {
            result: Err(error),
            latency_ms: 0,
        }
    }

    pub fn after(mut self, ms: u64) -> Reply {
        self.latency_ms = ms;
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        if let Ok(r) = &mut self.result {
            r.headers.push((name.to_string(), value.to_string()));
        }
        self
    }
}

/// A call the fake transport received, with the virtual time it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedCall {
    pub at_ms: u64,
    pub request: Request,
}

impl RecordedCall {
    /// `GET http://u/path?q` — handy in assertions.
    pub fn line(&self) -> String {
        format!("{} {}", self.request.method, self.request.url)
    }

    /// The body parsed as JSON (`Null` when absent or not JSON).
    pub fn json_body(&self) -> serde_json::Value {
        self.request
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or(serde_json::Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        crate::http::header_value(&self.request.headers, name)
    }
}

type Handler = Box<dyn Fn(&Request) -> Reply>;

/// A transport answering from a function, recording every call.
pub struct FakeTransport {
    clock: VirtualClock,
    handler: Handler,
    calls: RefCell<Vec<RecordedCall>>,
    aborted: RefCell<Vec<String>>,
}

impl std::fmt::Debug for FakeTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeTransport")
            .field("calls", &self.calls)
            .finish_non_exhaustive()
    }
}

impl FakeTransport {
    pub fn new(clock: &VirtualClock, handler: impl Fn(&Request) -> Reply + 'static) -> Self {
        FakeTransport {
            clock: clock.clone(),
            handler: Box::new(handler),
            calls: RefCell::new(Vec::new()),
            aborted: RefCell::new(Vec::new()),
        }
    }

    /// Calls in the order they were sent.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.calls.borrow().clone()
    }

    /// `METHOD url` of every call, in sending order.
    pub fn lines(&self) -> Vec<String> {
        self.calls.borrow().iter().map(RecordedCall::line).collect()
    }

    /// `METHOD url` of the calls whose future was dropped before its answer came (what a
    /// real transport aborts).
    pub fn aborted(&self) -> Vec<String> {
        self.aborted.borrow().clone()
    }
}

/// Records the call as aborted when dropped before [`AbortWatch::finish`].
struct AbortWatch<'a> {
    aborted: &'a RefCell<Vec<String>>,
    line: Option<String>,
}

impl AbortWatch<'_> {
    fn finish(mut self) {
        self.line = None;
    }
}

impl Drop for AbortWatch<'_> {
    fn drop(&mut self) {
        if let Some(line) = self.line.take() {
            self.aborted.borrow_mut().push(line);
        }
    }
}

impl Transport for FakeTransport {
    fn send<'a>(
        &'a self,
        request: &'a Request,
    ) -> LocalBoxFuture<'a, Result<Response, TransportError>> {
        let reply = (self.handler)(request);
        self.calls.borrow_mut().push(RecordedCall {
            at_ms: self.clock.now_ms(),
            request: request.clone(),
        });
        if reply.latency_ms == 0 {
            return futures::future::ready(reply.result).boxed_local();
        }
        let sleep = self.clock.sleep(reply.latency_ms);
        let watch = AbortWatch {
            aborted: &self.aborted,
            line: Some(format!("{} {}", request.method, request.url)),
        };
        async move {
            sleep.await;
            watch.finish();
            reply.result
        }
        .boxed_local()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_time_advances_only_when_everything_waits() {
        let clock = VirtualClock::new();
        let c = clock.clone();
        let out = clock.run(async move {
            let a = c.sleep(50);
            let b = c.sleep(20);
            futures::future::join(a, b).await;
            c.now_ms()
        });
        assert_eq!(out, Some(50));
    }

    #[test]
    fn a_future_that_never_ends_is_reported() {
        let clock = VirtualClock::new();
        assert_eq!(clock.run(futures::future::pending::<()>()), None);
    }
}
