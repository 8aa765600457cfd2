//! Where the executor's calls go: straight to the transport, or through the shared state of a
//! client: the cache, calls already on the wire (joined, not repeated) and batch groups that
//! collect keys during a window and send them in chunks.
//!
//! Cancellation is counted by references: a call on the wire is a `Shared` future; the map of
//! calls in flight keeps only a `WeakShared`, and each requester holds a clone. When the last
//! requester drops its clone (its statement timed out, its run was dropped), the transport's
//! future is dropped, which aborts the fetch.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, ready};

use futures::FutureExt;
use futures::future::LocalBoxFuture;
use rustc_hash::FxHashMap;
use serde_json::Value as Json;
use serde_json::value::RawValue;

use crate::http::{Clock, Request, Response, Transport, TransportError, header_value};
use crate::mapping::{BatchSpec, KeyPath, Missing, PathStep, Window};
use crate::plan::request::varies;
use crate::plan::{BatchGroup, BatchItem, Call, canonical_key_owned};

use super::cache::{CacheConfig, Lru, storable_for};
use super::chain::{self, Kind};
use super::shared::{Shared, WeakShared};

/// How a requester was served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// Its own call.
    Sent,
    /// Another requester's call in the same query.
    Deduped,
    /// A call another query had on the wire.
    Joined {
        chunk: Option<usize>,
    },
    /// A batch call; `first` for the one requester the call is counted for.
    Batched {
        chunk: usize,
        first: bool,
    },
    Cached,
}

/// The chunk of a batch item that ended (timed out) before its chunk was known.
pub(crate) const NOT_SENT: usize = usize::MAX;

impl Served {
    pub fn as_str(self) -> &'static str {
        match self {
            Served::Sent => "sent",
            Served::Deduped => "deduped",
            Served::Joined { .. } => "joined",
            Served::Batched { .. } => "batched",
            Served::Cached => "cached",
        }
    }

    /// The batch call's number, when a known batch call served it.
    pub fn chunk(self) -> Option<usize> {
        match self {
            Served::Joined { chunk } => chunk,
            Served::Batched { chunk, .. } if chunk != NOT_SENT => Some(chunk),
            _ => None,
        }
    }
}

/// One batch item's answer, shaped like a single call's.
#[derive(Debug, Clone)]
pub(crate) struct ItemReply {
    pub(crate) status: u16,
    pub(crate) body: ItemBody,
    /// The chunk's response headers: shared by its items when it answered, its own when it
    /// failed with a status, none for a failure it did not answer.
    pub(crate) headers: Headers,
}

/// An answer's response headers: its own (a single call's), or a chunk's, which all of the
/// chunk's items share (a copy per item cost allocations per header).
#[derive(Debug, Clone)]
pub(crate) enum Headers {
    Own(Vec<(String, String)>),
    Shared(Rc<Vec<(String, String)>>),
}

impl std::ops::Deref for Headers {
    type Target = [(String, String)];

    fn deref(&self) -> &Self::Target {
        match self {
            Headers::Own(h) => h,
            Headers::Shared(h) => h,
        }
    }
}

/// No headers (synthetic answers).
pub(crate) fn no_headers() -> Headers {
    Headers::Own(Vec::new())
}

#[derive(Debug, Clone)]
pub(crate) enum ItemBody {
    /// Valid JSON text, parsed only if the statement needs it.
    Raw(Box<RawValue>),
    Text(String),
    Empty,
}

#[derive(Debug)]
pub(crate) enum Reply {
    Http(Result<Response, TransportError>),
    Item(ItemReply),
}

/// What a requester gets: the reply, how it was served and, for batch calls, the call made.
#[derive(Debug)]
pub(crate) struct Fetched {
    pub(crate) reply: Reply,
    pub(crate) served: Served,
    /// `METHOD URL` of the batch call that served a batch item.
    pub(crate) via: Option<Rc<str>>,
}

pub(crate) enum Fetch<'s> {
    /// Straight to the transport (the caller sends): this requester's own call.
    Direct,
    /// Boxed: rare (a cache hit), and the future a call waits in is as large as its largest
    /// way of being served.
    Ready(Box<Fetched>),
    /// With how it will be served as far as known now (for a requester that times out).
    Pending(LocalBoxFuture<'s, Fetched>, Served),
    /// A batch item waiting for its window (served as `Batched`).
    Batch(BatchWait<'s>),
}

type ReplyFuture<'a> = LocalBoxFuture<'a, Rc<Result<Response, TransportError>>>;
type ChunkFuture<'a> = LocalBoxFuture<'a, Rc<ChunkResult>>;
type SharedReply<'a> = Shared<ReplyFuture<'a>>;
type SharedChunk<'a> = Shared<ChunkFuture<'a>>;
/// A chunk on the wire: its future (weakly), number, `METHOD URL` and readers.
type ChunkOnWire<'a> = (WeakShared<ChunkFuture<'a>>, usize, Rc<str>, Readers);
/// How many requesters will still read each key of a chunk: the last one takes the item
/// instead of copying it.
type Readers = Rc<RefCell<FxHashMap<Rc<str>, usize>>>;

/// A batch call's answer, split by key.
#[derive(Debug)]
pub(crate) struct ChunkResult {
    line: Rc<str>,
    outcome: Result<ChunkItems, ItemReply>,
    readers: Readers,
}

#[derive(Debug)]
struct ChunkItems {
    items: RefCell<FxHashMap<Rc<str>, SplitItem>>,
    headers: Rc<Vec<(String, String)>>,
}

/// One item of a batch answer, as JSON text.
#[derive(Debug, Clone)]
struct SplitItem {
    body: Box<RawValue>,
    /// The item's status when its error marker is set.
    error_status: Option<u16>,
}

#[derive(Debug, Clone)]
enum CacheValue {
    Response(Rc<Response>),
    Item(Rc<ItemReply>),
}

/// Totals over a client's life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DispatchCounters {
    pub(crate) calls: usize,
    pub(crate) joined: usize,
    pub(crate) batched: usize,
    pub(crate) cache_hits: usize,
}

/// The shared state: one per client, or one per run for [`crate::execute`].
pub(crate) struct Dispatcher<'a> {
    pub(crate) transport: Rc<dyn Transport + 'a>,
    pub(crate) clock: Rc<dyn Clock + 'a>,
    state: Rc<RefCell<State<'a>>>,
    /// Join calls on the wire across runs (a client); a single run dedupes by itself.
    share: bool,
    /// Batch windows from the mappings (a client); a single run sends when it has started
    /// every ready statement.
    windows: bool,
}

impl std::fmt::Debug for Dispatcher<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("share", &self.share)
            .field("windows", &self.windows)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State<'a> {
    in_flight: FxHashMap<String, WeakShared<ReplyFuture<'a>>>,
    groups: FxHashMap<Rc<str>, GroupState<'a>>,
    cache: Option<Lru<CacheValue>>,
    cache_shared: bool,
    next_chunk: usize,
    counters: DispatchCounters,
}

#[derive(Default)]
struct GroupState<'a> {
    pending: Option<Rc<PendingBatch<'a>>>,
    /// canonical key -> the chunk carrying it.
    in_flight: FxHashMap<Rc<str>, ChunkOnWire<'a>>,
}

/// Keys collected for a group while its window is open.
struct PendingBatch<'a> {
    group: Rc<BatchGroup>,
    keys: RefCell<Vec<PendingKey>>,
    /// Keys with a requester still there: what the flush would send.
    live_keys: Cell<usize>,
    index: RefCell<FxHashMap<Rc<str>, usize>>,
    /// Every requester in registration order: its key's slot, whether it is still there
    /// and, after the flush, whether it is the one its chunk is counted for.
    requesters: RefCell<Vec<Requester>>,
    window: Shared<LocalBoxFuture<'a, ()>>,
    flushed: Cell<bool>,
    /// After the flush: the chunks sent, and for each key slot the chunk carrying it.
    sent: RefCell<Flushed<'a>>,
}

struct PendingKey {
    /// The first requester's call: its batch item holds the key as the query gave it.
    call: Rc<Call>,
    canonical: Rc<str>,
    /// Requesters of this key still there.
    live: usize,
}

#[derive(Clone, Copy)]
struct Requester {
    slot: usize,
    live: bool,
    first: bool,
}

#[derive(Default)]
struct Flushed<'a> {
    chunks: Vec<SentChunk<'a>>,
    /// Key slot -> index in `chunks`; `usize::MAX` for a key nobody waited for any more.
    chunk_of: Vec<usize>,
}

struct SentChunk<'a> {
    /// Until its last requester has taken it (or left).
    chunk: Option<SharedChunk<'a>>,
    number: usize,
    first_slot: usize,
    /// Requesters that have not taken it yet.
    takers: usize,
}

/// A requester's wait for its batch item: the window, then its chunk. A concrete future, so
/// that the executor holds it without a box; dropped before the flush, it takes its key
/// out of the batch unless another requester still waits for it.
pub(crate) struct BatchWait<'a> {
    dispatcher: Dispatcher<'a>,
    pending: Option<Rc<PendingBatch<'a>>>,
    window: Option<Shared<LocalBoxFuture<'a, ()>>>,
    me: usize,
    canonical: Rc<str>,
    spec: Rc<BatchSpec>,
    chunk: Option<(SharedChunk<'a>, usize, bool)>,
}

impl std::fmt::Debug for BatchWait<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchWait")
            .field("canonical", &self.canonical)
            .finish_non_exhaustive()
    }
}

impl<'a> Future for BatchWait<'a> {
    type Output = Fetched;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Fetched> {
        let this = &mut *self;
        if let Some(pending) = &this.pending {
            if !pending.flushed.get() {
                if let Some(window) = this.window.as_mut()
                    && window.poll_unpin(cx).is_pending()
                {
                    return Poll::Pending;
                }
                this.dispatcher.flush(pending);
            }
            this.window = None;
            let ticket = pending.take_ticket(this.me);
            this.pending = None;
            match ticket {
                Some(ticket) => this.chunk = Some(ticket),
                None => {
                    // Unreachable: a live requester always has its chunk after the flush.
                    return Poll::Ready(Fetched {
                        reply: Reply::Item(failure(500, "the batch was not sent".into())),
                        served: Served::Sent,
                        via: None,
                    });
                }
            }
        }
        let Some((chunk, number, first)) = this.chunk.as_mut() else {
            return Poll::Ready(Fetched {
                reply: Reply::Item(failure(500, "the batch was not sent".into())),
                served: Served::Sent,
                via: None,
            });
        };
        let result = ready!(chunk.poll_unpin(cx));
        let fetched = Fetched {
            reply: Reply::Item(result.reply_for(&this.canonical, &this.spec)),
            served: Served::Batched {
                chunk: *number,
                first: *first,
            },
            via: Some(Rc::clone(&result.line)),
        };
        this.chunk = None;
        Poll::Ready(fetched)
    }
}

impl Drop for BatchWait<'_> {
    fn drop(&mut self) {
        if let Some(pending) = &self.pending {
            pending.leave(self.me);
        }
    }
}

/// Lends a borrowed transport where an `Rc` is wanted (a single run).
struct Lent<'a, T: ?Sized>(&'a T);

impl<T: Transport + ?Sized> Transport for Lent<'_, T> {
    fn send<'b>(
        &'b self,
        request: &'b Request,
    ) -> LocalBoxFuture<'b, Result<Response, TransportError>> {
        self.0.send(request)
    }
}

impl<T: Clock + ?Sized> Clock for Lent<'_, T> {
    fn now_ms(&self) -> u64 {
        self.0.now_ms()
    }
    fn sleep(&self, ms: u64) -> LocalBoxFuture<'static, ()> {
        self.0.sleep(ms)
    }
    fn defer(&self) -> LocalBoxFuture<'static, ()> {
        self.0.defer()
    }
}

impl<'a> Dispatcher<'a> {
    /// The state of one run: calls go straight out, batches close when the run has started
    /// every ready statement.
    pub(crate) fn for_run(transport: &'a dyn Transport, clock: &'a dyn Clock) -> Self {
        Dispatcher {
            transport: Rc::new(Lent(transport)),
            clock: Rc::new(Lent(clock)),
            state: Rc::default(),
            share: false,
            windows: false,
        }
    }

    /// The state of a client, shared by its runs.
    pub(crate) fn shared(
        transport: Rc<dyn Transport + 'a>,
        clock: Rc<dyn Clock + 'a>,
        cache: Option<CacheConfig>,
    ) -> Self {
        let state = State {
            cache: cache.map(Lru::new),
            cache_shared: cache.is_some_and(|c| c.shared),
            ..State::default()
        };
        Dispatcher {
            transport,
            clock,
            state: Rc::new(RefCell::new(state)),
            share: true,
            windows: true,
        }
    }

    fn handle(&self) -> Dispatcher<'a> {
        Dispatcher {
            transport: Rc::clone(&self.transport),
            clock: Rc::clone(&self.clock),
            state: Rc::clone(&self.state),
            share: self.share,
            windows: self.windows,
        }
    }

    pub(crate) fn counters(&self) -> DispatchCounters {
        self.state.borrow().counters
    }

    /// Whether a batch item or a request is fresh in the cache / on the wire (for explain).
    pub(crate) fn status_of(&self, call: &Call) -> Option<&'static str> {
        let st = self.state.borrow();
        let now = self.clock.now_ms();
        match &call.batch {
            Some(b) => {
                let key = item_cache_key(b);
                if st
                    .cache
                    .as_ref()
                    .is_some_and(|c| c.contains_fresh(&key, now))
                {
                    return Some("cached");
                }
                let live = st
                    .groups
                    .get(&b.group.id)
                    .and_then(|g| g.in_flight.get(&*b.canonical));
                live.filter(|(w, _, _, _)| w.upgrade().is_some())
                    .map(|_| "in flight")
            }
            None => {
                let key = request_cache_key(&call.request);
                if st
                    .cache
                    .as_ref()
                    .is_some_and(|c| c.contains_fresh(&key, now))
                {
                    return Some("cached");
                }
                st.in_flight
                    .get(&key)
                    .and_then(WeakShared::upgrade)
                    .map(|_| "in flight")
            }
        }
    }

    /// Send `call` or join what already serves it.
    pub(crate) fn fetch(&self, call: &Rc<Call>) -> Fetch<'a> {
        if let Some(item) = &call.batch {
            return self.fetch_item(call, item);
        }
        if !self.share {
            self.state.borrow_mut().counters.calls += 1;
            return Fetch::Direct;
        }
        let key = request_cache_key(&call.request);
        let mut st = self.state.borrow_mut();
        // The clock is read for the cache only.
        if let Some(cache) = st.cache.as_mut()
            && let Some(CacheValue::Response(r)) = cache.get(&key, self.clock.now_ms())
        {
            st.counters.cache_hits += 1;
            return Fetch::Ready(Box::new(Fetched {
                reply: Reply::Http(Ok((*r).clone())),
                served: Served::Cached,
                via: None,
            }));
        }
        if let Some(shared) = st.in_flight.get(&key).and_then(WeakShared::upgrade) {
            st.counters.joined += 1;
            return Fetch::Pending(
                async move {
                    let r = shared.await;
                    Fetched {
                        reply: Reply::Http((*r).clone()),
                        served: Served::Joined { chunk: None },
                        via: None,
                    }
                }
                .boxed_local(),
                Served::Joined { chunk: None },
            );
        }
        st.counters.calls += 1;
        let transport = Rc::clone(&self.transport);
        let clock = Rc::clone(&self.clock);
        let state = Rc::clone(&self.state);
        let call = Rc::clone(call);
        let owned_key = key.clone();
        let wire: ReplyFuture<'a> = async move {
            let result = transport.send(&call.request).await;
            let mut st = state.borrow_mut();
            st.in_flight.remove(&owned_key);
            if let Ok(response) = &result
                && (200..300).contains(&response.status)
            {
                let ttl = storable_for(response.header("cache-control"), st.cache_shared);
                if let (Some(cache), Some(ttl)) = (st.cache.as_mut(), ttl) {
                    let bytes = response.body.len() + 64;
                    let expires = clock.now_ms().saturating_add(ttl * 1000);
                    cache.insert(
                        owned_key,
                        CacheValue::Response(Rc::new(response.clone())),
                        bytes,
                        expires,
                    );
                }
            }
            Rc::new(result)
        }
        .boxed_local();
        let wire: SharedReply<'a> = Shared::new(wire);
        if let Some(weak) = wire.downgrade() {
            st.in_flight.insert(key, weak);
        }
        drop(st);
        Fetch::Pending(
            async move {
                let r = wire.await;
                let reply = Rc::try_unwrap(r).unwrap_or_else(|r| (*r).clone());
                Fetched {
                    reply: Reply::Http(reply),
                    served: Served::Sent,
                    via: None,
                }
            }
            .boxed_local(),
            Served::Sent,
        )
    }

    fn fetch_item(&self, call: &Rc<Call>, item: &BatchItem) -> Fetch<'a> {
        let mut st = self.state.borrow_mut();
        if let Some(cache) = st.cache.as_mut()
            && let Some(CacheValue::Item(reply)) =
                cache.get(&item_cache_key(item), self.clock.now_ms())
        {
            st.counters.cache_hits += 1;
            return Fetch::Ready(Box::new(Fetched {
                reply: Reply::Item((*reply).clone()),
                served: Served::Cached,
                via: None,
            }));
        }
        let spec = Rc::clone(&item.group.spec);
        let canonical = Rc::clone(&item.canonical);
        let group = st.groups.entry(Rc::clone(&item.group.id)).or_default();
        if let Some((shared, number, line, readers)) = group
            .in_flight
            .get(&*item.canonical)
            .and_then(|(w, n, l, r)| Some((w.upgrade()?, *n, Rc::clone(l), Rc::clone(r))))
        {
            *readers
                .borrow_mut()
                .entry(Rc::clone(&canonical))
                .or_insert(0) += 1;
            st.counters.joined += 1;
            return Fetch::Pending(
                async move {
                    let chunk = shared.await;
                    Fetched {
                        reply: Reply::Item(chunk.reply_for(&canonical, &spec)),
                        served: Served::Joined {
                            chunk: Some(number),
                        },
                        via: Some(line),
                    }
                }
                .boxed_local(),
                Served::Joined {
                    chunk: Some(number),
                },
            );
        }
        let pending = match &group.pending {
            Some(p) if !p.flushed.get() => Rc::clone(p),
            _ => {
                let window = match (self.windows, spec.window) {
                    (true, Window::Task) => self.clock.defer(),
                    (true, Window::Microtask) => self.clock.soon(),
                    (true, Window::Ms(ms)) => self.clock.sleep(ms),
                    (false, _) | (true, Window::Off) => futures::future::ready(()).boxed_local(),
                };
                // Sized for a typical fan-out, so that the first keys do not grow them.
                let p = Rc::new(PendingBatch {
                    group: Rc::clone(&item.group),
                    keys: RefCell::new(Vec::with_capacity(32)),
                    live_keys: Cell::new(0),
                    index: RefCell::new(FxHashMap::with_capacity_and_hasher(
                        32,
                        Default::default(),
                    )),
                    requesters: RefCell::new(Vec::with_capacity(32)),
                    window: Shared::new(window),
                    flushed: Cell::new(false),
                    sent: RefCell::default(),
                });
                group.pending = Some(Rc::clone(&p));
                p
            }
        };
        drop(st);
        let me = {
            let mut index = pending.index.borrow_mut();
            let mut keys = pending.keys.borrow_mut();
            let slot = *index.entry(Rc::clone(&item.canonical)).or_insert_with(|| {
                keys.push(PendingKey {
                    call: Rc::clone(call),
                    canonical: Rc::clone(&item.canonical),
                    live: 0,
                });
                keys.len() - 1
            });
            keys[slot].live += 1;
            if keys[slot].live == 1 {
                pending.live_keys.set(pending.live_keys.get() + 1);
            }
            let mut requesters = pending.requesters.borrow_mut();
            requesters.push(Requester {
                slot,
                live: true,
                first: false,
            });
            requesters.len() - 1
        };
        // A chunk that no key can join any more goes out now, not at the window's end: keys
        // that come later in the window start the next chunk, which is where the flush would
        // have cut them. (When the URL limit binds first, the window decides, as before.)
        // Without a window the first poll flushes anyway.
        let windowed = self.windows && !matches!(spec.window, Window::Off);
        if windowed && pending.live_keys.get() == spec.max {
            self.send_chunks(&pending, true);
        }
        Fetch::Batch(BatchWait {
            dispatcher: self.handle(),
            window: Some(pending.window.clone()),
            pending: Some(pending),
            me,
            canonical,
            spec,
            chunk: None,
        })
    }

    /// Close a window: the keys whose requesters are still there go out in chunks.
    fn flush(&self, pending: &Rc<PendingBatch<'a>>) {
        step!("m:flush");
        self.send_chunks(pending, false);
    }

    /// Send the keys still wanted in chunks; with `only_whole`, only if they fit one chunk
    /// (a full one, sent before its window ends), else the batch stays open.
    fn send_chunks(&self, pending: &Rc<PendingBatch<'a>>, only_whole: bool) {
        if pending.flushed.get() {
            return;
        }
        let group = &pending.group;
        let keys = pending.keys.take();
        let live: Vec<usize> = (0..keys.len()).filter(|&i| keys[i].live > 0).collect();
        let refs: Vec<&Json> = live.iter().map(|&i| keys[i].key()).collect();
        let chunks = group.chunks(&refs);
        if only_whole && chunks.len() != 1 {
            drop(chunks);
            drop(refs);
            *pending.keys.borrow_mut() = keys;
            return;
        }
        pending.flushed.set(true);
        let mut st = self.state.borrow_mut();
        let gs = st.groups.entry(Rc::clone(&group.id)).or_default();
        if gs.pending.as_ref().is_some_and(|p| Rc::ptr_eq(p, pending)) {
            gs.pending = None;
        }
        gs.in_flight.reserve(live.len());
        st.counters.calls += chunks.len();
        st.counters.batched += live.iter().map(|&i| keys[i].live).sum::<usize>();
        let mut sent = Flushed {
            chunks: Vec::with_capacity(chunks.len()),
            chunk_of: vec![usize::MAX; keys.len()],
        };
        let mut at = 0;
        for chunk_keys in &chunks {
            let members = &live[at..at + chunk_keys.len()];
            at += chunk_keys.len();
            let number = st.next_chunk;
            st.next_chunk += 1;
            let (url, body) = group.render(chunk_keys);
            let line: Rc<str> = Rc::from(format!("{} {url}", group.spec.method));
            let request = Request {
                method: group.spec.method,
                url,
                headers: Rc::clone(&group.headers),
                body,
                max_response_bytes: group.max_response_bytes,
            };
            let canonicals: Vec<Rc<str>> = members
                .iter()
                .map(|&i| Rc::clone(&keys[i].canonical))
                .collect();
            let readers: Readers = Rc::new(RefCell::new(
                members
                    .iter()
                    .map(|&i| (Rc::clone(&keys[i].canonical), keys[i].live))
                    .collect(),
            ));
            let chunk: SharedChunk<'a> = Shared::new(
                chunk_call(
                    self.handle(),
                    Rc::clone(group),
                    request,
                    (number, Rc::clone(&line), Rc::clone(&readers)),
                    canonicals,
                )
                .boxed_local(),
            );
            let gs = st.groups.entry(Rc::clone(&group.id)).or_default();
            for &i in members {
                if let Some(weak) = chunk.downgrade() {
                    gs.in_flight.insert(
                        Rc::clone(&keys[i].canonical),
                        (weak, number, Rc::clone(&line), Rc::clone(&readers)),
                    );
                }
                sent.chunk_of[i] = sent.chunks.len();
            }
            let takers = members.iter().map(|&i| keys[i].live).sum();
            sent.chunks.push(SentChunk {
                chunk: Some(chunk),
                number,
                first_slot: members.first().copied().unwrap_or(usize::MAX),
                takers,
            });
        }
        drop(st);
        // Each chunk is counted for the first requester (in registration order) of its
        // first key.
        let mut requesters = pending.requesters.borrow_mut();
        let mut counted = vec![false; sent.chunks.len()];
        for r in requesters.iter_mut().filter(|r| r.live) {
            if let Some(&c) = sent.chunk_of.get(r.slot)
                && let Some(chunk) = sent.chunks.get(c)
                && chunk.first_slot == r.slot
                && !counted[c]
            {
                counted[c] = true;
                r.first = true;
            }
        }
        *pending.sent.borrow_mut() = sent;
    }
}

impl<'a> PendingBatch<'a> {
    /// Requester `me`'s chunk, number and whether the chunk is counted for it; the chunk
    /// leaves the batch with its last taker, so that only requesters hold it.
    fn take_ticket(&self, me: usize) -> Option<(SharedChunk<'a>, usize, bool)> {
        let requester = *self.requesters.borrow().get(me)?;
        if !requester.live {
            return None;
        }
        self.requesters.borrow_mut()[me].live = false;
        let mut sent = self.sent.borrow_mut();
        let c = *sent.chunk_of.get(requester.slot)?;
        let entry = sent.chunks.get_mut(c)?;
        entry.takers = entry.takers.saturating_sub(1);
        let chunk = if entry.takers == 0 {
            entry.chunk.take()?
        } else {
            entry.chunk.clone()?
        };
        Some((chunk, entry.number, requester.first))
    }

    /// Requester `me` is gone: before the flush its key goes out only if someone else
    /// still waits for it; after, its share of the chunk is let go.
    fn leave(&self, me: usize) {
        let Some(r) = self.requesters.borrow_mut().get_mut(me).map(|r| {
            let was = *r;
            r.live = false;
            was
        }) else {
            return;
        };
        if !r.live {
            return;
        }
        if !self.flushed.get() {
            if let Some(k) = self.keys.borrow_mut().get_mut(r.slot) {
                k.live -= 1;
                if k.live == 0 {
                    self.live_keys.set(self.live_keys.get() - 1);
                }
            }
            return;
        }
        let mut sent = self.sent.borrow_mut();
        if let Some(&c) = sent.chunk_of.get(r.slot)
            && let Some(entry) = sent.chunks.get_mut(c)
        {
            entry.takers = entry.takers.saturating_sub(1);
            if entry.takers == 0 {
                entry.chunk = None;
            }
        }
    }
}

impl PendingKey {
    fn key(&self) -> &Json {
        static NULL: Json = Json::Null;
        self.call.batch.as_ref().map_or(&NULL, |b| &b.key)
    }
}

/// One batch call: send, split, fill the cache, leave the in-flight map.
async fn chunk_call(
    this: Dispatcher<'_>,
    group: Rc<BatchGroup>,
    request: Request,
    (number, line, readers): (usize, Rc<str>, Readers),
    canonicals: Vec<Rc<str>>,
) -> Rc<ChunkResult> {
    let result = this.transport.send(&request).await;
    let outcome = split(&group.spec, result, request.max_response_bytes, &canonicals);
    let mut st = this.state.borrow_mut();
    if let Some(gs) = st.groups.get_mut(&group.id) {
        for c in &canonicals {
            if gs
                .in_flight
                .get(&**c)
                .is_some_and(|(_, n, _, _)| *n == number)
            {
                gs.in_flight.remove(c);
            }
        }
    }
    let shared_cache = st.cache_shared;
    if let (Some(cache), Ok(items)) = (st.cache.as_mut(), &outcome)
        && let Some(ttl) = storable_for(header_value(&items.headers, "cache-control"), shared_cache)
    {
        let expires = this.clock.now_ms().saturating_add(ttl * 1000);
        for (canonical, item) in items.items.borrow().iter() {
            if item.error_status.is_none() {
                let reply = ItemReply {
                    status: 200,
                    body: ItemBody::Raw(item.body.clone()),
                    headers: Headers::Shared(Rc::clone(&items.headers)),
                };
                let key = format!("{}\u{0}{canonical}", group.id);
                let bytes = 64 + item.body.get().len();
                cache.insert(key, CacheValue::Item(Rc::new(reply)), bytes, expires);
            }
        }
    }
    Rc::new(ChunkResult {
        line,
        outcome,
        readers,
    })
}

fn failure(status: u16, message: String) -> ItemReply {
    ItemReply {
        status,
        body: ItemBody::Text(message),
        headers: no_headers(),
    }
}

/// A batch answer split by key, or the failure every key of the chunk gets. Items stay JSON
/// text: only the path to the items, each item's key and its error marker are read.
fn split(
    spec: &BatchSpec,
    result: Result<Response, TransportError>,
    limit: usize,
    canonicals: &[Rc<str>],
) -> Result<ChunkItems, ItemReply> {
    let response = match result {
        Ok(r) => r,
        Err(TransportError::TooLarge { limit }) => {
            return Err(failure(502, super::too_large(limit)));
        }
        Err(e) => return Err(failure(502, e.to_string())),
    };
    if response.body.len() > limit {
        return Err(failure(502, super::too_large(limit)));
    }
    if !(200..300).contains(&response.status) {
        let body = match String::from_utf8(response.body) {
            Ok(text) if text.is_empty() => ItemBody::Empty,
            Ok(text) => match serde_json::from_str::<Box<RawValue>>(&text) {
                Ok(raw) => ItemBody::Raw(raw),
                Err(_) => ItemBody::Text(text),
            },
            Err(e) => ItemBody::Text(String::from_utf8_lossy(e.as_bytes()).into_owned()),
        };
        return Err(ItemReply {
            status: response.status,
            body,
            headers: Headers::Own(response.headers),
        });
    }
    let not_json = || failure(502, "the batch answer is not JSON".into());
    let text = std::str::from_utf8(&response.body).map_err(|_| not_json())?;
    let mut found: Vec<&RawValue> = Vec::new();
    let mut map_form: Option<&RawValue> = None;
    let mut reached = false;
    if spec.items.is_empty() && text.trim_start().starts_with('[') {
        // The common answer, an array of items: checked and cut into items in one pass.
        found = serde_json::from_str(text).map_err(|_| not_json())?;
        reached = true;
    } else {
        let whole = serde_json::from_str::<&RawValue>(text).map_err(|_| not_json())?;
        locate(
            whole,
            &spec.items,
            &mut found,
            &mut map_form,
            false,
            &mut reached,
        );
    }
    if !reached {
        return Err(failure(
            502,
            "the batch answer has no array or object of items where the mapping's 'items' points"
                .into(),
        ));
    }
    let split_item = |item: &RawValue| SplitItem {
        error_status: spec
            .item_error
            .as_ref()
            .and_then(|p| chain::member_at(item.get(), p))
            .filter(|e| !e.is_null())
            .map(|e| item_error_status(&e)),
        body: item.to_owned(),
    };
    // Keys asked for share the requesters' text; others (kept for the cache) get their own.
    let asked: FxHashMap<&str, &Rc<str>> = canonicals.iter().map(|c| (&**c, c)).collect();
    let shared_key = |k: &str| asked.get(k).map_or_else(|| Rc::from(k), |c| Rc::clone(c));
    let key_of = |item: &RawValue, path: &[String]| {
        let text = chain::member_text_at(item.get(), path)?;
        match canonical_in_place(text) {
            Some(k) => Some(shared_key(k)),
            None => serde_json::from_str(text)
                .ok()
                .and_then(canonical_key_owned)
                .map(|k| shared_key(&k)),
        }
    };
    let mut items: FxHashMap<Rc<str>, SplitItem> = FxHashMap::default();
    match (&spec.key, map_form) {
        (KeyPath::MapKey, Some(map)) => {
            // A repeated key: the last one, as in the parsed object.
            for (k, item) in chain::members(map) {
                items.insert(shared_key(&k), split_item(item));
            }
        }
        (KeyPath::Field(path), None) => {
            items.reserve(found.len());
            for item in found {
                let Some(k) = key_of(item, path) else {
                    continue;
                };
                // A repeated key: the first item wins.
                items.entry(k).or_insert_with(|| split_item(item));
            }
        }
        (KeyPath::Field(path), Some(item)) => {
            // A single object where an array was expected: one item.
            if let Some(k) = key_of(item, path) {
                items.insert(k, split_item(item));
            }
        }
        (KeyPath::MapKey, None) => {
            return Err(failure(
                502,
                "the batch answer has no object of items keyed by id".into(),
            ));
        }
    }
    Ok(ChunkItems {
        items: RefCell::new(items),
        headers: Rc::new(response.headers),
    })
}

/// The canonical text of a key written as a string without escapes or as a small integer:
/// the token itself (what [`canonical_key_owned`] gives for it), with no value built.
fn canonical_in_place(token: &str) -> Option<&str> {
    if let Some(inner) = token.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        return (!inner.contains('\\')).then_some(inner);
    }
    // Up to 18 digits: an integer whose text serde_json prints back unchanged (no `-0`, no
    // leading zeros, nothing past 64 bits).
    let digits = token.strip_prefix('-').unwrap_or(token);
    let plain = !digits.is_empty()
        && digits.len() <= 18
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" && digits.len() == token.len() || !digits.starts_with('0'));
    plain.then_some(token)
}

/// The items at `path`: array elements, or the object itself (map-keyed answers). Under a
/// `[*]`, each object reached is an item. `reached` tells whether the path led anywhere.
fn locate<'t>(
    json: &'t RawValue,
    path: &[PathStep],
    found: &mut Vec<&'t RawValue>,
    map: &mut Option<&'t RawValue>,
    under_each: bool,
    reached: &mut bool,
) {
    match path.split_first() {
        None => match chain::kind_of(json) {
            Kind::Array => {
                *reached = true;
                found.extend(chain::elements(json));
            }
            Kind::Object if !under_each && map.is_none() => {
                *reached = true;
                *map = Some(json);
            }
            Kind::Null => {}
            _ => found.push(json),
        },
        Some((PathStep::Field(name), rest)) => {
            if let Some(v) = chain::member(json, name) {
                locate(v, rest, found, map, under_each, reached);
            }
        }
        Some((PathStep::Each, rest)) => {
            if chain::kind_of(json) == Kind::Array {
                *reached = true;
                for item in chain::elements(json) {
                    locate(item, rest, found, map, true, reached);
                }
            }
        }
    }
}

impl ChunkResult {
    fn reply_for(&self, canonical: &str, spec: &BatchSpec) -> ItemReply {
        let items = match &self.outcome {
            Err(failure) => return failure.clone(),
            Ok(items) => items,
        };
        let last = match self.readers.borrow_mut().get_mut(canonical) {
            Some(left) => {
                *left = left.saturating_sub(1);
                *left == 0
            }
            None => false,
        };
        let mut map = items.items.borrow_mut();
        let item = if last {
            map.remove(canonical)
        } else {
            map.get(canonical).cloned()
        };
        match item {
            Some(SplitItem {
                body,
                error_status: None,
            }) => ItemReply {
                status: 200,
                body: ItemBody::Raw(body),
                headers: Headers::Shared(Rc::clone(&items.headers)),
            },
            Some(SplitItem {
                body,
                error_status: Some(status),
            }) => ItemReply {
                status,
                body: ItemBody::Raw(body),
                headers: no_headers(),
            },
            None => match spec.missing {
                Missing::Null => ItemReply {
                    status: 404,
                    body: ItemBody::Empty,
                    headers: no_headers(),
                },
                Missing::Error => failure(
                    404,
                    format!("the batch answer has no item for the key '{canonical}'"),
                ),
            },
        }
    }
}

/// The status of an item marked failed: its error's `status` (or the error itself when it is
/// a status number), else 500.
fn item_error_status(error: &Json) -> u16 {
    let status = match error {
        Json::Number(n) => n.as_u64(),
        Json::Object(m) => m.get("status").and_then(Json::as_u64),
        _ => None,
    };
    status
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| (400..600).contains(s))
        .unwrap_or(500)
}

/// The key of an answer in the cache and in the map of calls in flight: method, URL, body and
/// the headers that vary the answer (the rule of `RequestKey`).
pub(crate) fn request_cache_key(request: &Request) -> String {
    let mut key = String::with_capacity(request.url.len() + 32);
    key.push_str(request.method);
    key.push(' ');
    key.push_str(&request.url);
    key.push('\u{0}');
    if let Some(body) = &request.body {
        key.push_str(body);
    }
    // In the request's order: the same headers in another order only cost a separate entry.
    for (n, v) in request.headers.iter().filter(|(n, _)| varies(n)) {
        key.push('\u{0}');
        key.extend(n.chars().map(|c| c.to_ascii_lowercase()));
        key.push(':');
        key.push_str(v);
    }
    key
}

fn item_cache_key(item: &BatchItem) -> String {
    format!("{}\u{0}{}", item.group.id, item.canonical)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeTransport, Reply as FakeReply, VirtualClock};
    use crate::{Client, ClientConfig, Inputs, Mappings, Options};
    use futures::future::{Either, join, select};
    use serde_json::json;

    /// A client whose `product` batches on `GET http://u/products` with the fields of
    /// `batch` besides its key and request; each batch call answers its ids after 20 ms.
    fn product_client(batch: Json) -> (VirtualClock, Rc<FakeTransport>, Client) {
        let clock = VirtualClock::new();
        let transport = Rc::new(FakeTransport::new(&clock, |r: &Request| {
            let ids: Vec<Json> = r
                .url
                .split(['?', '&'])
                .filter_map(|p| p.strip_prefix("id="))
                .filter_map(|v| v.parse::<u64>().ok())
                .map(|id| json!({"id": id}))
                .collect();
            FakeReply::json(200, Json::Array(ids)).after(20)
        }));
        let mut spec = json!({"on": "id", "request": "GET http://u/products"});
        if let (Some(spec), Some(batch)) = (spec.as_object_mut(), batch.as_object()) {
            spec.extend(batch.clone());
        }
        let mappings = Mappings::from_json_value(&json!({
            "product": {"url": "http://u/product/:id", "batch": spec},
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let client = Client::new(
            transport.clone(),
            Rc::new(clock.clone()),
            mappings,
            Options::default(),
            ClientConfig { cache: None },
        );
        (clock, transport, client)
    }

    #[test]
    fn a_requester_gone_before_the_window_closes_takes_only_its_own_keys_out() {
        let (clock, transport, client) = product_client(json!({"window": 30}));
        let inputs = Inputs::default();
        // Dropped at 10 ms, inside the 30 ms window: key 1 was its alone, key 2 is shared.
        let dropped = async {
            let run = std::pin::pin!(client.run_text("from product with id = [1, 2]", &inputs));
            matches!(select(run, clock.sleep(10)).await, Either::Right(_))
        };
        let kept = client.run_text("from product with id = [2, 3]", &inputs);
        let (dropped, kept) = clock
            .run(join(dropped, kept))
            .unwrap_or_else(|| panic!("hang"));
        assert!(dropped);
        assert_eq!(transport.lines(), vec!["GET http://u/products?id=2&id=3"]);
        assert_eq!(
            kept.body.to_json()["product"]["result"],
            json!([{"id": 2}, {"id": 3}])
        );
        let served: Vec<_> = kept
            .trace
            .iter()
            .map(|t| (t.served.as_str(), t.served.chunk()))
            .collect();
        assert_eq!(served, vec![("batched", Some(0)), ("batched", Some(0))]);
        assert_eq!((kept.stats.calls, kept.stats.batched), (1, 2));
    }

    #[test]
    fn a_key_nobody_waits_for_any_more_does_not_count_towards_a_full_chunk() {
        let (clock, transport, client) = product_client(json!({"window": 30, "max": 2}));
        let inputs = Inputs::default();
        // Key 1 is left at 5 ms; 2 and 3, from 10 ms, fill a chunk without it.
        let dropped = async {
            let run = std::pin::pin!(client.run_text("from product with id = 1", &inputs));
            matches!(select(run, clock.sleep(5)).await, Either::Right(_))
        };
        let later = async {
            clock.sleep(10).await;
            client
                .run_text("from product with id = [2, 3]", &inputs)
                .await
        };
        let (dropped, _) = clock
            .run(join(dropped, later))
            .unwrap_or_else(|| panic!("hang"));
        assert!(dropped);
        let sent: Vec<(String, u64)> = transport
            .calls()
            .iter()
            .map(|c| (c.line(), c.at_ms))
            .collect();
        assert_eq!(sent, vec![("GET http://u/products?id=2&id=3".into(), 10)]);
    }

    #[test]
    fn keys_read_in_place_are_their_canonical_text() {
        let tokens = [
            r#""SKU1""#,
            r#""""#,
            r#""a\"b""#,
            r#""\u00e9""#,
            "0",
            "-0",
            "7",
            "-42",
            "123456789012345678",
            "1234567890123456789",
            "18446744073709551616",
            "1.0",
            "2.50",
            "1e2",
            "-1.5E-3",
            "true",
            "null",
        ];
        for token in tokens {
            let json: Json = serde_json::from_str(token).expect("valid test JSON");
            let owned = canonical_key_owned(json);
            if let Some(in_place) = canonical_in_place(token) {
                assert_eq!(Some(in_place), owned.as_deref(), "{token}");
            }
        }
        assert_eq!(canonical_in_place(r#""SKU1""#), Some("SKU1"));
        assert_eq!(canonical_in_place("-42"), Some("-42"));
        assert_eq!(canonical_in_place("-0"), None);
        assert_eq!(canonical_in_place(r#""a\"b""#), None);
    }
}
