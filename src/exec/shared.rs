//! `Shared`: one future several requesters await, on one thread. A call on the wire, a batch
//! chunk, a batch window and a statement's timeout are each awaited by many handles: a
//! fan-out's items, and the runs that join a call.
//!
//! What it keeps of `futures`' `Shared`: every handle gets a clone of the output, the future
//! is dropped with the last handle (which aborts a fetch), and the dispatcher's maps hold
//! weak handles. What it drops, since a run and its client live on one thread: the atomics,
//! the lock, and the waker of its own that `futures` hands the future, which wakes every
//! handle each time the future is woken. Here the future holds the waker of the handle that
//! polled it first (the driver), and only that one polls it; the others wait in a list and
//! are woken once, when the output is there. A driver dropped before the output wakes one of
//! the others, which polls the future in its place.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

enum State<F: Future> {
    /// Not done yet; `None` while a handle polls it.
    Waiting(Option<F>),
    Done(F::Output),
}

struct Inner<F: Future> {
    state: RefCell<State<F>>,
    /// Each polled handle's slot: its waker while it waits, `None` once it is gone or served.
    wakers: RefCell<Vec<Option<Waker>>>,
    /// The slot of the handle whose waker the future holds, the only one that polls it.
    driver: Cell<Option<usize>>,
}

/// A handle on a future shared by its handles (`Shared::new`, `Clone`).
pub(crate) struct Shared<F: Future> {
    inner: Rc<Inner<F>>,
    /// Given at the first poll that waits.
    slot: Option<usize>,
}

/// A handle that does not keep the future alive (`Shared::downgrade`).
pub(crate) struct WeakShared<F: Future>(Weak<Inner<F>>);

impl<F: Future> Shared<F>
where
    F::Output: Clone,
{
    pub(crate) fn new(future: F) -> Self {
        Shared {
            inner: Rc::new(Inner {
                state: RefCell::new(State::Waiting(Some(future))),
                wakers: RefCell::new(Vec::new()),
                driver: Cell::new(None),
            }),
            slot: None,
        }
    }

    /// A weak handle, or `None` once the output is there (nothing is on its way to join).
    pub(crate) fn downgrade(&self) -> Option<WeakShared<F>> {
        match &*self.inner.state.borrow() {
            State::Done(_) => None,
            State::Waiting(_) => Some(WeakShared(Rc::downgrade(&self.inner))),
        }
    }

    /// Keep `waker` in this handle's slot (taking one at its first wait).
    fn wait_with(&mut self, waker: &Waker) -> usize {
        let mut wakers = self.inner.wakers.borrow_mut();
        let slot = *self.slot.get_or_insert_with(|| {
            wakers.push(None);
            wakers.len() - 1
        });
        match &mut wakers[slot] {
            Some(kept) if kept.will_wake(waker) => {}
            place => *place = Some(waker.clone()),
        }
        slot
    }
}

impl<F: Future> WeakShared<F>
where
    F::Output: Clone,
{
    /// A new handle, while some other still keeps the future.
    pub(crate) fn upgrade(&self) -> Option<Shared<F>> {
        Some(Shared {
            inner: self.0.upgrade()?,
            slot: None,
        })
    }
}

impl<F: Future> Clone for Shared<F> {
    fn clone(&self) -> Self {
        Shared {
            inner: Rc::clone(&self.inner),
            slot: None,
        }
    }
}

impl<F: Future + Unpin> Future for Shared<F>
where
    F::Output: Clone,
{
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        if let State::Done(output) = &*this.inner.state.borrow() {
            return Poll::Ready(output.clone());
        }
        // Kept in the list too: should another handle poll the future later, this one still
        // hears of the output.
        let slot = this.wait_with(cx.waker());
        if this.inner.driver.get().is_some_and(|driver| driver != slot) {
            // The future holds another handle's waker, which will poll it when it is woken.
            return Poll::Pending;
        }
        let taken = match &mut *this.inner.state.borrow_mut() {
            State::Done(output) => return Poll::Ready(output.clone()),
            State::Waiting(future) => future.take(),
        };
        let Some(mut future) = taken else {
            // This poll comes from inside another handle's poll of the future.
            return Poll::Pending;
        };
        let polled = Pin::new(&mut future).poll(cx);
        let inner = &*this.inner;
        match polled {
            Poll::Pending => {
                inner.driver.set(Some(slot));
                *inner.state.borrow_mut() = State::Waiting(Some(future));
                Poll::Pending
            }
            Poll::Ready(output) => {
                *inner.state.borrow_mut() = State::Done(output.clone());
                inner.driver.set(None);
                drop(future);
                let waiting = std::mem::take(&mut *inner.wakers.borrow_mut());
                for (at, waker) in waiting.into_iter().enumerate() {
                    if at != slot
                        && let Some(waker) = waker
                    {
                        waker.wake();
                    }
                }
                Poll::Ready(output)
            }
        }
    }
}

impl<F: Future> Drop for Shared<F> {
    fn drop(&mut self) {
        let Some(slot) = self.slot else {
            return;
        };
        let inner = &*self.inner;
        let next = {
            let mut wakers = inner.wakers.borrow_mut();
            if let Some(place) = wakers.get_mut(slot) {
                *place = None;
            }
            // The future holds this handle's waker: another handle must poll it, or nobody
            // would hear of its output.
            let waiting = matches!(&*inner.state.borrow(), State::Waiting(Some(_)));
            if waiting && inner.driver.get() == Some(slot) {
                inner.driver.set(None);
                wakers.iter().flatten().next().cloned()
            } else {
                None
            }
        };
        if let Some(next) = next {
            next.wake();
        }
    }
}

impl<F: Future> std::fmt::Debug for Shared<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let done = matches!(&*self.inner.state.borrow(), State::Done(_));
        f.debug_struct("Shared").field("done", &done).finish()
    }
}

impl<F: Future> std::fmt::Debug for WeakShared<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeakShared").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;
    use futures::channel::oneshot;
    use futures::task::{ArcWake, waker};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Default)]
    struct CountingWaker(AtomicUsize);
    impl ArcWake for CountingWaker {
        fn wake_by_ref(arc_self: &Arc<Self>) {
            arc_self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn counting() -> (Arc<CountingWaker>, Waker) {
        let count = Arc::new(CountingWaker::default());
        let w = waker(Arc::clone(&count));
        (count, w)
    }
    fn wakes(count: &Arc<CountingWaker>) -> usize {
        count.0.load(Ordering::SeqCst)
    }
    fn poll<F: Future + Unpin>(f: &mut Shared<F>, w: &Waker) -> Poll<F::Output>
    where
        F::Output: Clone,
    {
        f.poll_unpin(&mut Context::from_waker(w))
    }

    #[test]
    fn every_handle_gets_the_output_and_the_waiting_ones_are_woken_once() {
        let (tx, rx) = oneshot::channel::<u32>();
        let mut a = Shared::new(rx.map(|r| r.unwrap_or(0)));
        let mut b = a.clone();
        let mut c = a.clone();
        let (wa, a_waker) = counting();
        let (wb, b_waker) = counting();
        let (wc, c_waker) = counting();
        assert!(poll(&mut a, &a_waker).is_pending());
        assert!(poll(&mut b, &b_waker).is_pending());
        assert!(poll(&mut c, &c_waker).is_pending());
        // Polled again, a waiting handle does not take the future from the driver.
        assert!(poll(&mut b, &b_waker).is_pending());
        tx.send(7).expect("the receiver waits");
        // Only the driver, the first to poll, is woken by the future itself.
        assert_eq!((wakes(&wa), wakes(&wb), wakes(&wc)), (1, 0, 0));
        // A waiting handle polled before the driver still waits.
        assert!(poll(&mut c, &c_waker).is_pending());
        assert_eq!(poll(&mut a, &a_waker), Poll::Ready(7));
        assert_eq!((wakes(&wa), wakes(&wb), wakes(&wc)), (1, 1, 1));
        assert_eq!(poll(&mut a, &a_waker), Poll::Ready(7));
        assert_eq!(poll(&mut b, &b_waker), Poll::Ready(7));
        // A handle made after the end gets the output at once.
        assert!(a.downgrade().is_none());
        assert_eq!(poll(&mut a.clone(), &a_waker), Poll::Ready(7));
    }

    #[test]
    fn a_driver_dropped_hands_the_future_to_another_handle() {
        let (tx, rx) = oneshot::channel::<u32>();
        let mut a = Shared::new(rx.map(|r| r.unwrap_or(0)));
        let mut b = a.clone();
        let (wa, a_waker) = counting();
        let (wb, b_waker) = counting();
        assert!(poll(&mut b, &b_waker).is_pending());
        assert!(poll(&mut a, &a_waker).is_pending());
        drop(b);
        // `b` held the future's waker: `a` is told to poll it.
        assert_eq!(wakes(&wa), 1);
        assert!(poll(&mut a, &a_waker).is_pending());
        tx.send(3).expect("the receiver waits");
        assert_eq!(wakes(&wa), 2);
        assert_eq!(wakes(&wb), 0);
        assert_eq!(poll(&mut a, &a_waker), Poll::Ready(3));
    }

    #[test]
    fn the_future_is_dropped_with_the_last_handle_and_weak_handles_do_not_keep_it() {
        let (tx, rx) = oneshot::channel::<u32>();
        let mut a = Shared::new(rx.map(|r| r.unwrap_or(0)));
        let (_, a_waker) = counting();
        assert!(poll(&mut a, &a_waker).is_pending());
        let weak = a.downgrade().expect("not done");
        let b = weak.upgrade().expect("alive");
        drop(a);
        assert!(!tx.is_canceled());
        drop(b);
        // The receiver is gone: what the fetch's abort hangs on.
        assert!(tx.is_canceled());
        assert!(weak.upgrade().is_none());
    }

    #[test]
    fn a_handle_never_polled_costs_the_others_nothing_when_dropped() {
        let (tx, rx) = oneshot::channel::<u32>();
        let mut a = Shared::new(rx.map(|r| r.unwrap_or(0)));
        let (wa, a_waker) = counting();
        assert!(poll(&mut a, &a_waker).is_pending());
        drop(a.clone());
        assert_eq!(wakes(&wa), 0);
        tx.send(1).expect("the receiver waits");
        assert_eq!(wakes(&wa), 1);
        assert_eq!(poll(&mut a, &a_waker), Poll::Ready(1));
    }
}
