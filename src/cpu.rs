//! Threads of their own for the CPU work (processing a file version), fed from one queue.
//!
//! A task is queued the moment it is submitted, so a thread that finishes one goes straight to
//! the next without waiting for an async task to be scheduled; on a machine whose cores are all
//! busy that wait was a large share of the time (tokio's `spawn_blocking` per file, with a
//! semaphore or a count bounding them). Callers keep a few more tasks in flight than there are
//! threads, so the queue is rarely empty while work is waiting.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

type Task = Box<dyn FnOnce() + Send>;

/// A fixed number of named threads running submitted closures in submission order.
pub struct CpuPool {
    queue: mpsc::Sender<Task>,
    threads: Vec<JoinHandle<()>>,
}

impl CpuPool {
    /// Starts `threads` threads (at least one) named `{name}-{i}`.
    pub fn start(name: &str, threads: usize) -> std::io::Result<CpuPool> {
        let (queue, tasks) = mpsc::channel::<Task>();
        let tasks = Arc::new(Mutex::new(tasks));
        let threads = (0..threads.max(1))
            .map(|i| {
                let tasks = tasks.clone();
                std::thread::Builder::new()
                    .name(format!("{name}-{i}"))
                    .spawn(move || loop {
                        // The lock is held while waiting, so one idle thread waits on the queue
                        // and the others on the lock; a task goes to whichever holds it.
                        let next = match tasks.lock() {
                            Ok(tasks) => tasks.recv(),
                            Err(_) => return,
                        };
                        match next {
                            Ok(task) => task(),
                            Err(_) => return,
                        }
                    })
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok(CpuPool { queue, threads })
    }

    /// How many threads run the tasks.
    pub fn threads(&self) -> usize {
        self.threads.len()
    }

    /// Queues `f` now; the future resolves to its result, or to the panic's message if it
    /// panicked (the thread goes on with the next task).
    pub fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = Result<T, String>> + Send + 'static {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task: Task = Box::new(move || {
            let result = catch_unwind(AssertUnwindSafe(f)).map_err(|e| {
                e.downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| e.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic".into())
            });
            let _ = tx.send(result);
        });
        let queued = self.queue.send(task).is_ok();
        async move {
            if !queued {
                return Err("the processing threads are gone".into());
            }
            rx.await
                .unwrap_or_else(|_| Err("the processing thread stopped".into()))
        }
    }

    /// Lets the threads finish the queued tasks, then waits for them to end.
    pub fn join(self) {
        drop(self.queue);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tasks_give_their_results_and_a_panic_its_message_without_losing_a_thread() {
        let pool = CpuPool::start("test-cpu", 1).expect("start");
        let panicked = pool.run(|| -> u32 { panic!("bad input") });
        let after = pool.run(|| 6 * 7);
        assert_eq!(panicked.await, Err("bad input".to_string()));
        // The one thread survived the panic and ran the next task.
        assert_eq!(after.await, Ok(42));
        let names = pool.run(|| std::thread::current().name().map(String::from));
        assert_eq!(names.await, Ok(Some("test-cpu-0".into())));
        pool.join();
    }

    #[tokio::test]
    async fn queued_tasks_all_run_on_every_thread_before_join_returns() {
        let pool = CpuPool::start("test-cpu", 2).expect("start");
        let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let results: Vec<_> = (0..50)
            .map(|i| {
                let done = done.clone();
                pool.run(move || {
                    done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    i
                })
            })
            .collect();
        pool.join();
        assert_eq!(done.load(std::sync::atomic::Ordering::SeqCst), 50);
        for (i, r) in results.into_iter().enumerate() {
            assert_eq!(r.await, Ok(i));
        }
    }
}
