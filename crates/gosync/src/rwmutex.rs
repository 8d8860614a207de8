//! Go's `sync.RWMutex`, ported: many readers or one writer, and a waiting writer stops new readers.
//!
//! Interview question go-18 (「Go中的锁有哪些」). Go's `sync/rwmutex.go` builds it from a
//! [`GoMutex`] (writers queue on it), two semaphores and two counters:
//!
//! ```text
//!   reader_count   readers holding or waiting; a writer subtracts MAX_READERS (1 << 30) from it,
//!                  so it goes negative: "a writer is pending, new readers must wait"
//!   reader_wait    readers the pending writer still waits for (those that were inside when it came)
//!   writer_sem     the writer parks here until the last of those readers leaves
//!   reader_sem     readers that arrived after the writer park here until it unlocks
//!
//!   RLock:   reader_count += 1; negative? park on reader_sem
//!   RUnlock: reader_count -= 1; negative? (a writer waits) reader_wait -= 1; 0? wake the writer
//!   Lock:    w.lock(); r = (reader_count -= MAX_READERS) + MAX_READERS  (readers inside)
//!            r != 0 and (reader_wait += r) != 0? park on writer_sem
//!   Unlock:  r = (reader_count += MAX_READERS)  (readers that queued meanwhile); wake r readers;
//!            w.unlock()
//! ```
//!
//! The invariant: while a writer is pending or holding, `reader_count < 0`, and `reader_count +
//! MAX_READERS` is the number of readers inside plus those queued behind the writer. That is writer
//! preference: a steady stream of readers cannot starve a writer, because from the moment the
//! writer subtracts `MAX_READERS`, every new reader queues.
//!
//! ## How the real system differs
//! Go calls `fatal` on `RUnlock`/`Unlock` of an unlocked RWMutex; here only guards unlock, so that
//! cannot happen. Go's readers and writers park as goroutines; ours park as OS threads.

use std::sync::atomic::{AtomicI32, Ordering};

use crate::mutex::{GoMutex, GoMutexGuard};
use crate::sema::Sema;

/// Go's `rwmutexMaxReaders`: more concurrent readers than this is unsupported.
pub const MAX_READERS: i32 = 1 << 30;

/// Go's `sync.RWMutex`: a reader-writer lock without data.
#[derive(Debug, Default)]
pub struct GoRwMutex {
    /// Serialises writers: a second writer waits here, not on `writer_sem`.
    w: GoMutex,
    writer_sem: Sema,
    reader_sem: Sema,
    /// Readers inside or waiting, minus `MAX_READERS` while a writer is pending or holding.
    reader_count: AtomicI32,
    /// Readers that must still leave before the pending writer may enter.
    reader_wait: AtomicI32,
}

/// A read lock; dropping it is `RUnlock`.
#[derive(Debug)]
#[must_use = "the read lock is released as soon as the guard is dropped"]
pub struct GoReadGuard<'a> {
    rw: &'a GoRwMutex,
}

/// The write lock; dropping it is `Unlock`.
#[derive(Debug)]
#[must_use = "the write lock is released as soon as the guard is dropped"]
pub struct GoWriteGuard<'a> {
    rw: &'a GoRwMutex,
    /// Held for the guard's lifetime; released after the readers have been let go.
    w: Option<GoMutexGuard<'a>>,
}

impl Drop for GoReadGuard<'_> {
    fn drop(&mut self) {
        self.rw.runlock();
    }
}

impl Drop for GoWriteGuard<'_> {
    fn drop(&mut self) {
        self.rw.unlock_readers();
        drop(self.w.take());
    }
}

impl GoRwMutex {
    pub const fn new() -> Self {
        GoRwMutex {
            w: GoMutex::new(),
            writer_sem: Sema::new(),
            reader_sem: Sema::new(),
            reader_count: AtomicI32::new(0),
            reader_wait: AtomicI32::new(0),
        }
    }

    /// Go's `RLock`.
    pub fn rlock(&self) -> GoReadGuard<'_> {
        if self.reader_count.fetch_add(1, Ordering::Acquire) + 1 < 0 {
            // A writer is pending: wait until it unlocks and lets us in.
            self.reader_sem.acquire(false);
        }
        GoReadGuard { rw: self }
    }

    /// Go's `TryRLock`: fails while a writer is pending or holding.
    pub fn try_rlock(&self) -> Option<GoReadGuard<'_>> {
        let mut c = self.reader_count.load(Ordering::Relaxed);
        loop {
            if c < 0 {
                return None;
            }
            match self
                .reader_count
                .compare_exchange(c, c + 1, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return Some(GoReadGuard { rw: self }),
                Err(now) => c = now,
            }
        }
    }

    fn runlock(&self) {
        if self.reader_count.fetch_sub(1, Ordering::Release) - 1 < 0 {
            // A writer is pending; if we were the last reader it waits for, wake it.
            if self.reader_wait.fetch_sub(1, Ordering::AcqRel) - 1 == 0 {
                self.writer_sem.release(false);
            }
        }
    }

    /// Go's `Lock`: first win the writers' mutex, then announce the writer and wait for the
    /// readers already inside.
    pub fn lock(&self) -> GoWriteGuard<'_> {
        let w = self.w.lock();
        let inside = self.reader_count.fetch_sub(MAX_READERS, Ordering::Acquire);
        if inside != 0 && self.reader_wait.fetch_add(inside, Ordering::AcqRel) + inside != 0 {
            self.writer_sem.acquire(false);
        }
        GoWriteGuard {
            rw: self,
            w: Some(w),
        }
    }

    /// Go's `TryLock`: only when no writer holds the mutex and no reader is inside.
    pub fn try_lock(&self) -> Option<GoWriteGuard<'_>> {
        let w = self.w.try_lock()?;
        if self
            .reader_count
            .compare_exchange(0, -MAX_READERS, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return None; // dropping `w` unlocks the writers' mutex
        }
        Some(GoWriteGuard {
            rw: self,
            w: Some(w),
        })
    }

    /// Undo the writer's announcement and let in every reader that queued behind it.
    fn unlock_readers(&self) {
        let queued = self.reader_count.fetch_add(MAX_READERS, Ordering::Release) + MAX_READERS;
        for _ in 0..queued {
            self.reader_sem.release(false);
        }
    }

    /// True while a writer is pending or holding (the reader count is negative).
    pub fn writer_pending(&self) -> bool {
        self.reader_count.load(Ordering::Relaxed) < 0
    }

    /// Readers parked behind a pending writer right now.
    pub fn readers_parked(&self) -> usize {
        self.reader_sem.queued()
    }

    /// Writers parked waiting for the readers inside to leave (0 or 1).
    pub fn writer_parked(&self) -> usize {
        self.writer_sem.queued()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;
    use std::sync::atomic::AtomicUsize;
    use std::thread;
    use std::time::{Duration, Instant};

    fn until(what: &str, cond: impl Fn() -> bool) {
        let start = Instant::now();
        while !cond() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "timed out: {what}"
            );
            thread::yield_now();
        }
    }

    /// Shared reading: all readers are inside together. A barrier inside the read section is
    /// passed only if all four hold the read lock at once.
    #[test]
    fn many_readers_hold_the_read_lock_together() {
        let rw = GoRwMutex::new();
        let inside = Barrier::new(4);
        thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    let _r = rw.rlock();
                    inside.wait();
                });
            }
        });
        assert!(!rw.writer_pending());
        assert!(rw.try_lock().is_some());
    }

    /// Writer preference: once a writer waits for the current readers, a new reader queues behind
    /// it even though the lock is only read-held, and enters only after the writer is done.
    #[test]
    fn a_waiting_writer_blocks_new_readers() {
        let rw = GoRwMutex::new();
        let order = AtomicUsize::new(0);
        let (mut writer_at, mut reader_at) = (0, 0);
        thread::scope(|s| {
            let first = rw.rlock();
            let writer = s.spawn(|| {
                let _w = rw.lock();
                order.fetch_add(1, Ordering::SeqCst) + 1
            });
            until("the writer to park on the readers", || {
                rw.writer_parked() == 1
            });
            assert!(rw.writer_pending());
            assert!(
                rw.try_rlock().is_none(),
                "TryRLock must fail behind a writer"
            );
            let reader = s.spawn(|| {
                let _r = rw.rlock();
                order.fetch_add(1, Ordering::SeqCst) + 1
            });
            until("the new reader to park", || rw.readers_parked() == 1);
            assert_eq!(order.load(Ordering::SeqCst), 0, "nobody got in yet");
            drop(first);
            writer_at = writer.join().unwrap_or(0);
            reader_at = reader.join().unwrap_or(0);
        });
        assert_eq!(
            (writer_at, reader_at),
            (1, 2),
            "writer first, then the reader"
        );
        assert!(!rw.writer_pending());
    }

    #[test]
    fn writers_exclude_each_other_and_readers() {
        let rw = GoRwMutex::new();
        let counter = std::sync::atomic::AtomicU64::new(0);
        thread::scope(|s| {
            for t in 0..4 {
                let (rw, counter) = (&rw, &counter);
                s.spawn(move || {
                    for i in 0..5_000 {
                        if (i + t) % 3 == 0 {
                            let _r = rw.rlock();
                            let _ = counter.load(Ordering::Relaxed);
                        } else {
                            let _w = rw.lock();
                            let v = counter.load(Ordering::Relaxed);
                            counter.store(v + 1, Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        let writes: u64 = (0..4u64)
            .map(|t| (0..5_000u64).filter(|i| (i + t) % 3 != 0).count() as u64)
            .sum();
        assert_eq!(counter.load(Ordering::Relaxed), writes);
        assert_eq!(rw.reader_count.load(Ordering::Relaxed), 0);
    }
}
