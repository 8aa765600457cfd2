//! Free lists by size class in front of an allocator: a freed small block waits in its
//! class's list and the next allocation of that class takes it back, with no search. A run
//! allocates and frees a few hundred small blocks of a few sizes (answers, items, trees,
//! futures), so nearly every one is served by a list, and the block it gets is the one freed
//! last, still warm in the processor's caches.
//!
//! Blocks up to [`LARGEST`] bytes, aligned to at most [`GRAIN`], are rounded up to a multiple
//! of [`GRAIN`]; anything else goes to the inner allocator as asked. Each list holds at most
//! [`BYTES_PER_CLASS`] bytes; a block freed past that goes back to the inner allocator, so the
//! lists never hold more than 32 × 16 KB.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::ptr;

/// The class step and the alignment of every block in a list.
pub(crate) const GRAIN: usize = 16;
/// The largest block the lists serve.
pub(crate) const LARGEST: usize = 512;
const CLASSES: usize = LARGEST / GRAIN;
/// The most a list holds, in bytes.
pub(crate) const BYTES_PER_CLASS: usize = 16 * 1024;

/// One list: its first block (each free block holds the next one's address) and its length.
struct FreeList {
    head: Cell<*mut u8>,
    len: Cell<usize>,
}

/// Free lists by size class over `A`. Not for threads: its lists are plain cells.
pub(crate) struct SizeClasses<A> {
    inner: A,
    lists: [FreeList; CLASSES],
}

impl<A> SizeClasses<A> {
    pub(crate) const fn new(inner: A) -> Self {
        SizeClasses {
            inner,
            lists: [const {
                FreeList {
                    head: Cell::new(ptr::null_mut()),
                    len: Cell::new(0),
                }
            }; CLASSES],
        }
    }

    /// The class of a block of `size` bytes aligned to `align`, or `None` for the inner
    /// allocator. A layout's class is the same at allocation and at release, since both get
    /// the same layout.
    fn class_of(size: usize, align: usize) -> Option<usize> {
        if size > LARGEST || align > GRAIN {
            return None;
        }
        Some(size.max(1).div_ceil(GRAIN) - 1)
    }

    fn block_layout(class: usize) -> Layout {
        // A multiple of GRAIN no larger than LARGEST, aligned to GRAIN: always valid.
        unsafe { Layout::from_size_align_unchecked((class + 1) * GRAIN, GRAIN) }
    }
}

// The module runs on one thread (wasm32 without the atomics feature), so the lists' cells
// are never touched from two at once.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
unsafe impl<A: Sync> Sync for SizeClasses<A> {}

// Never inlined: inlined at every allocation, the fast path and the inner allocator's code
// made the module 12% larger and each hop after idle time slower.
unsafe impl<A: GlobalAlloc> GlobalAlloc for SizeClasses<A> {
    #[inline(never)]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(class) = Self::class_of(layout.size(), layout.align()) else {
            return unsafe { self.inner.alloc(layout) };
        };
        let list = &self.lists[class];
        let block = list.head.get();
        if block.is_null() {
            return unsafe { self.inner.alloc(Self::block_layout(class)) };
        }
        // A free block's first word holds the next free block's address.
        list.head.set(unsafe { block.cast::<*mut u8>().read() });
        list.len.set(list.len.get() - 1);
        block
    }

    #[inline(never)]
    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        let Some(class) = Self::class_of(layout.size(), layout.align()) else {
            return unsafe { self.inner.dealloc(block, layout) };
        };
        let list = &self.lists[class];
        if (list.len.get() + 1) * (class + 1) * GRAIN > BYTES_PER_CLASS {
            return unsafe { self.inner.dealloc(block, Self::block_layout(class)) };
        }
        unsafe { block.cast::<*mut u8>().write(list.head.get()) };
        list.head.set(block);
        list.len.set(list.len.get() + 1);
    }

    #[inline(never)]
    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old_class = Self::class_of(layout.size(), layout.align());
        let new_class = Self::class_of(new_size, layout.align());
        match (old_class, new_class) {
            // The block already has room.
            (Some(old), Some(new)) if old == new => block,
            // Both in the inner allocator, which may grow the block where it is.
            (None, None) => unsafe { self.inner.realloc(block, layout, new_size) },
            _ => {
                let new_layout =
                    unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
                let moved = unsafe { self.alloc(new_layout) };
                if !moved.is_null() {
                    unsafe {
                        ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size));
                        self.dealloc(block, layout);
                    }
                }
                moved
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::System;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).expect("a valid layout")
    }

    #[test]
    fn a_freed_block_is_the_next_one_of_its_class() {
        let heap = SizeClasses::new(System);
        unsafe {
            let a = heap.alloc(layout(24, 8));
            heap.dealloc(a, layout(24, 8));
            // 17..=32 bytes are one class: the block freed last comes back.
            assert_eq!(heap.alloc(layout(32, 4)), a);
            let b = heap.alloc(layout(20, 8));
            assert_ne!(a, b);
            heap.dealloc(a, layout(32, 4));
            heap.dealloc(b, layout(20, 8));
            assert_eq!(heap.alloc(layout(17, 1)), b);
            assert_eq!(heap.alloc(layout(30, 2)), a);
            // Another class does not take them.
            let c = heap.alloc(layout(40, 8));
            assert!(c != a && c != b);
            for (p, l) in [(a, layout(30, 2)), (b, layout(17, 1)), (c, layout(40, 8))] {
                heap.dealloc(p, l);
            }
        }
    }

    #[test]
    fn blocks_are_aligned_and_hold_their_bytes_across_realloc() {
        let heap = SizeClasses::new(System);
        unsafe {
            let mut size = 1;
            let mut block = heap.alloc(layout(size, 1));
            block.write(7);
            // Grow through every class, past the largest and back down.
            for new_size in [5, 16, 17, 100, 512, 513, 4000, 300, 3] {
                if size <= LARGEST {
                    assert_eq!(block as usize % GRAIN, 0, "size {size}");
                }
                block = heap.realloc(block, layout(size, 1), new_size);
                assert_eq!(block.read(), 7, "{size} -> {new_size}");
                size = new_size;
            }
            heap.dealloc(block, layout(size, 1));
            // Alignment past the grain goes to the inner allocator.
            let wide = heap.alloc(layout(64, 64));
            assert_eq!(wide as usize % 64, 0);
            heap.dealloc(wide, layout(64, 64));
        }
    }

    #[test]
    fn a_list_holds_at_most_its_bytes() {
        let heap = SizeClasses::new(System);
        let l = layout(LARGEST, 8);
        unsafe {
            let blocks: Vec<*mut u8> = (0..100).map(|_| heap.alloc(l)).collect();
            for &b in &blocks {
                heap.dealloc(b, l);
            }
            let class = SizeClasses::<System>::class_of(LARGEST, 8).expect("the largest class");
            assert_eq!(heap.lists[class].len.get(), BYTES_PER_CLASS / LARGEST);
            // Draining the list gives back exactly the blocks it kept, then fresh ones.
            let kept: Vec<*mut u8> = (0..BYTES_PER_CLASS / LARGEST)
                .map(|_| heap.alloc(l))
                .collect();
            assert!(kept.iter().all(|k| blocks.contains(k)));
            assert_eq!(heap.lists[class].len.get(), 0);
            for b in kept {
                heap.dealloc(b, l);
            }
        }
    }
}
