//! Scheduling the processing stage: jobs run on the CPU pool as soon as a thread is free, results
//! go on as soon as they are ready, and the jobs of one path keep their order.

use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::mpsc;

use crate::commit::panicked;
use crate::cpu::CpuPool;
use crate::detect::Job;
use crate::process::{Committable, Processor};
use crate::shutdown::Shutdown;

/// Runs `process` on the pool's threads and passes each result on as soon as it is ready. Twice
/// as many jobs as threads are handed out, so each thread has its next job queued behind the one
/// it is on. Jobs of one path keep their order: a job whose path (or, for a move, either path)
/// has a job in flight waits for it, and holds back the jobs behind it meanwhile. Different files
/// do not wait for each other, so one slow file does not stall the rest. On a stop, the jobs in
/// flight finish and are passed on; the rest is re-derived at the next start.
pub async fn process_in_order(
    mut rx: mpsc::Receiver<Job>,
    tx: mpsc::Sender<Committable>,
    pool: CpuPool,
    mut shutdown: Shutdown,
    processor: Arc<Processor>,
) {
    let depth = 2 * pool.threads();
    let mut running = futures::stream::FuturesUnordered::new();
    let mut busy: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut waiting: Option<Job> = None;
    // Taking new jobs: until the channel closes or a stop is requested (on a stop, the jobs in
    // flight finish and are committed; the rest is re-derived at the next start).
    let mut open = true;
    loop {
        if open && shutdown.is_requested() {
            open = false;
            waiting = None;
        }
        if let Some(job) = waiting.take() {
            let paths: Vec<String> = job.paths().into_iter().map(String::from).collect();
            if paths.iter().any(|p| busy.contains_key(p)) {
                waiting = Some(job);
            } else {
                for p in &paths {
                    *busy.entry(p.clone()).or_default() += 1;
                }
                let path = job.path().to_string();
                let for_task = processor.clone();
                let result = pool.run(move || for_task.process(job));
                running.push(async move {
                    let c = match result.await {
                        Ok(c) => c,
                        Err(e) => panicked(path, None, None, &e),
                    };
                    (paths, c)
                });
            }
        }
        if running.is_empty() && !open {
            break;
        }
        tokio::select! {
            biased;
            _ = shutdown.requested(), if open => {
                open = false;
                waiting = None;
            }
            done = running.next(), if !running.is_empty() => {
                let Some((paths, c)) = done else { continue };
                for p in paths {
                    if let Some(n) = busy.get_mut(&p) {
                        *n -= 1;
                        if *n == 0 {
                            busy.remove(&p);
                        }
                    }
                }
                if tx.send(c).await.is_err() {
                    break;
                }
            }
            job = rx.recv(), if open && waiting.is_none() && running.len() < depth => {
                match job {
                    None => open = false,
                    Some(job) => waiting = Some(job),
                }
            }
        }
    }
    // After a failed committer, the jobs still queued (at most `depth`) are processed and
    // dropped; the threads then end.
    drop(running);
    let _ = tokio::task::spawn_blocking(move || pool.join()).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::FileVersion;
    use crate::store::StatIdentity;

    fn version(path: &str, text: &str) -> Job {
        Job::Version(FileVersion {
            path: path.into(),
            stat: StatIdentity::default(),
            sha256: format!("{path}:{}", text.len()),
            bytes: Some(text.as_bytes().to_vec()),
            previous_sha256: None,
            permit: None,
        })
    }

    /// Runs the processing stage with two workers over `jobs`; returns the versions (path and
    /// sha256) in the order their results came out.
    async fn processed(jobs: Vec<Job>) -> Vec<String> {
        let (job_tx, job_rx) = mpsc::channel(16);
        let (commit_tx, mut commit_rx) = mpsc::channel(16);
        let (_stop, stop_rx) = Shutdown::new();
        let processor = tokio::spawn(process_in_order(
            job_rx,
            commit_tx,
            CpuPool::start("test-worker", 2).expect("start the pool"),
            stop_rx,
            Arc::new(Processor::default()),
        ));
        for job in jobs {
            job_tx.send(job).await.expect("send job");
        }
        drop(job_tx);
        let mut out = Vec::new();
        while let Some(c) = commit_rx.recv().await {
            let doc = c.events.last().expect("events");
            out.push(doc.data["version"].as_str().unwrap_or("?").to_string());
        }
        processor.await.expect("processor");
        out
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_paths_versions_keep_their_order_while_other_paths_pass_a_slow_one() {
        let slow = "某市今年第一季度实现地区生产总值1234.5亿元，同比增长6.8%。\n\n".repeat(4000);
        let quick = "第二版。\n";
        let order = processed(vec![
            version("a.txt", &slow),
            version("b.txt", "另一个文件。\n"),
            version("a.txt", quick),
        ])
        .await;
        let at = |v: &str| order.iter().position(|o| o == v).expect(v);
        let (slow_a, quick_a) = (
            format!("a.txt:{}", slow.len()),
            format!("a.txt:{}", quick.len()),
        );
        assert_eq!(order.len(), 3, "{order:?}");
        // The quick second version of a.txt waited for the slow first one…
        assert!(at(&slow_a) < at(&quick_a), "{order:?}");
        // …while b.txt, on the other worker, did not.
        assert!(
            at(&format!("b.txt:{}", "另一个文件。\n".len())) < at(&slow_a),
            "{order:?}"
        );
    }
}
