//! The addon's memory allocator: mimalloc, for the Rust side of the addon only (Node and other
//! addons keep their own).
//!
//! Why: a query's path allocates about 20 small blocks in Rust (the job's future, the
//! protocol's channels, the response buffer); under callgrind glibc's malloc and free cost
//! 4.8k of the 38k instructions of a W1 query, and the job's future (1.9 KB, above glibc's
//! per-thread cache) takes its slow path. With mimalloc W1 counts 35.7k and W2 28.4k (38.2k
//! and 30.9k with glibc), the same build otherwise.
//!
//! Its defaults trade memory for speed: freed memory is returned to the system 10 ms later and
//! arenas are committed eagerly, which put W3's peak RSS 35 MB above glibc's. Returning freed
//! memory at once and committing on demand brings it back to glibc's (W3 243-252 MB against
//! 255, W6 71-72 against 70) for about 0.3k instructions on W2, and without a burst of madvise
//! calls (182 over W2's 100,000 queries). Commit on demand is a compile-time default
//! (`.cargo/config.toml`): set here, it came after the first arena (W6 76-84 MB).
//!
//! Which mimalloc: the v2 line (2.3.2). The v3 line (3.3.2, the sys crate's default) crashed
//! the process in `mi_thread_init` when only worker threads loaded the addon and one loaded it
//! after the first had ended (`transport.test.js`); v2 counts the same per query (W1 29.6k, W2
//! 22.0k) at the same W3 peak RSS.

#[global_allocator]
static ALLOCATOR: Allocator = Allocator;

/// mimalloc, asked for alignment only when a layout needs more than every block has.
///
/// Why not `mimalloc::MiMalloc`: it passes every layout to `mi_malloc_aligned`, whose fast path
/// covers only blocks of up to 1 KiB; a larger one (the job's future, ~1.9 KB, once per query)
/// took the generic aligned path (~130 instructions a call under callgrind).
struct Allocator;

/// Every mimalloc block is aligned to a machine word (blocks are whole words in word-aligned
/// pages); a layout that asks for no more is served by the plain calls.
const WORD: usize = std::mem::size_of::<usize>();

// SAFETY: each method forwards to the mimalloc call made for the same purpose (mi_malloc,
// mi_zalloc, mi_realloc and their `_aligned` forms, mi_free), which return blocks of at least
// the requested size aligned as asked (the plain forms: to a word, which is all the layout
// asks for when they are used) or null; mi_free releases blocks of either form.
unsafe impl std::alloc::GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        use libmimalloc_sys as mi;
        // SAFETY: as the impl's.
        unsafe {
            if layout.align() <= WORD {
                mi::mi_malloc(layout.size()).cast()
            } else {
                mi::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        use libmimalloc_sys as mi;
        // SAFETY: as the impl's.
        unsafe {
            if layout.align() <= WORD {
                mi::mi_zalloc(layout.size()).cast()
            } else {
                mi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: std::alloc::Layout) {
        // SAFETY: `ptr` came from this allocator (the trait's contract).
        unsafe { libmimalloc_sys::mi_free(ptr.cast()) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        use libmimalloc_sys as mi;
        // SAFETY: `ptr` came from this allocator with `layout` (the trait's contract).
        unsafe {
            if layout.align() <= WORD {
                mi::mi_realloc(ptr.cast(), new_size).cast()
            } else {
                mi::mi_realloc_aligned(ptr.cast(), new_size, layout.align()).cast()
            }
        }
    }
}

// The position in `mi_option_t` of the mimalloc v2 that libmimalloc-sys 0.1.49 bundles (its
// c_src/mimalloc/v2/include/mimalloc.h; the same in its v3), which the sys crate does not name:
// the version is pinned exactly.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Sets the allocator's options; called once, as the module loads.
pub fn configure() {
    // SAFETY: mi_option_set takes two integers and only stores the value (the purge delay is
    // read each time memory is freed, so setting it late is fine). No pointer crosses.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) }
}
