//! Letters rendered ahead for `dispatch::dispatch`: while the dispatching thread composes,
//! records and sends one message, worker threads render the letters of the next few actions.
//! The store reads of a letter stay on the dispatching thread ([`LetterRenderer::prepare`]);
//! only the pure rendering ([`LetterJob::Render`]) moves to a worker. At most `window`
//! letters are waiting or being rendered at any time, so memory stays bounded however many
//! actions are due, and each letter is handed back for its own action.
//!
//! [`LetterRenderer::prepare`]: crate::dispatch::LetterRenderer::prepare

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use anyhow::anyhow;

use crate::dispatch::{Letter, LetterJob};

type Render = Box<dyn FnOnce() -> anyhow::Result<Letter> + Send>;

/// A rendering job and where its letter goes.
type Job = (Render, SyncSender<anyhow::Result<Letter>>);

enum Slot {
    Ready(anyhow::Result<Letter>),
    Rendering(Receiver<anyhow::Result<Letter>>),
}

/// The letters read ahead, by action index, and the worker threads that render them.
pub(crate) struct Ahead {
    workers: usize,
    window: usize,
    jobs: Option<SyncSender<Job>>,
    threads: Vec<JoinHandle<()>>,
    pending: BTreeMap<usize, Slot>,
}

impl Ahead {
    /// `workers` rendering threads (started with the first letter to render), at most
    /// `window` letters ahead.
    pub(crate) fn new(workers: usize, window: usize) -> Ahead {
        Ahead {
            workers: workers.max(1),
            window: window.max(1),
            jobs: None,
            threads: Vec::new(),
            pending: BTreeMap::new(),
        }
    }

    /// Whether another letter may be read ahead now.
    pub(crate) fn has_room(&self) -> bool {
        self.pending.len() < self.window
    }

    /// How far ahead of the action being sent letters may be read (in actions).
    pub(crate) fn window(&self) -> usize {
        self.window
    }

    /// Takes the letter job of action `index` and starts rendering it.
    pub(crate) fn push(&mut self, index: usize, job: LetterJob) {
        let slot = match job {
            LetterJob::Done(letter) => Slot::Ready(Ok(letter)),
            LetterJob::Render(render) => match self.sender() {
                Some(jobs) => {
                    let (done, receive) = sync_channel(1);
                    match jobs.send((render, done)) {
                        Ok(()) => Slot::Rendering(receive),
                        // The workers are gone (they stop only with this value): render here.
                        Err(e) => Slot::Ready((e.0.0)()),
                    }
                }
                None => Slot::Ready(render()),
            },
        };
        self.pending.insert(index, slot);
    }

    /// The letter of action `index` if it was read ahead, waiting for its rendering; the
    /// letters of earlier actions are dropped (their messages did not go).
    pub(crate) fn take(&mut self, index: usize) -> Option<anyhow::Result<Letter>> {
        self.skip_before(index);
        Some(match self.pending.remove(&index)? {
            Slot::Ready(letter) => letter,
            Slot::Rendering(receive) => receive
                .recv()
                .unwrap_or_else(|_| Err(anyhow!("the letter's rendering thread stopped"))),
        })
    }

    /// Drops the letters read ahead for actions before `index`.
    pub(crate) fn skip_before(&mut self, index: usize) {
        self.pending = self.pending.split_off(&index);
    }

    /// The job queue, starting the workers on first use; `None` when no thread can be started.
    fn sender(&mut self) -> Option<&SyncSender<Job>> {
        if self.jobs.is_none() {
            let (send, receive) = sync_channel::<Job>(self.window);
            let receive = Arc::new(Mutex::new(receive));
            for n in 0..self.workers {
                let receive = Arc::clone(&receive);
                match std::thread::Builder::new()
                    .name(format!("letters-{n}"))
                    .spawn(move || work(&receive))
                {
                    Ok(handle) => self.threads.push(handle),
                    Err(_) => break,
                }
            }
            if self.threads.is_empty() {
                return None;
            }
            self.jobs = Some(send);
        }
        self.jobs.as_ref()
    }
}

/// A worker: renders jobs until the queue closes. A panic while rendering becomes that
/// letter's error (the run stops before its message is sent), not a lost worker.
fn work(jobs: &Mutex<Receiver<Job>>) {
    loop {
        let next = match jobs.lock() {
            Ok(receive) => receive.recv(),
            Err(_) => return,
        };
        let Ok((render, done)) = next else {
            return;
        };
        let letter = std::panic::catch_unwind(AssertUnwindSafe(render))
            .unwrap_or_else(|_| Err(anyhow!("rendering the letter panicked")));
        // The dispatcher may have stopped waiting (a failed run): nothing to hand over then.
        let _ = done.send(letter);
    }
}

impl Drop for Ahead {
    fn drop(&mut self) {
        // Closing the queue ends the workers once their current letter is done.
        self.jobs = None;
        self.pending.clear();
        for handle in self.threads.drain(..) {
            let _ = handle.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use incasso_messaging::Attachment;

    use super::*;

    fn pdf(n: usize) -> Letter {
        Letter::Pdf(Attachment {
            filename: format!("{n}.pdf"),
            content_type: "application/pdf".into(),
            bytes: vec![u8::try_from(n % 256).unwrap_or(0)],
        })
    }

    fn render(n: usize, rendered: &Arc<AtomicUsize>) -> LetterJob {
        let rendered = Arc::clone(rendered);
        LetterJob::Render(Box::new(move || {
            // Later letters finish first: the order must come from the queue, not the clock.
            std::thread::sleep(std::time::Duration::from_millis(
                u64::try_from(10 - n % 10).unwrap_or(0),
            ));
            rendered.fetch_add(1, Ordering::SeqCst);
            Ok(pdf(n))
        }))
    }

    #[test]
    fn letters_come_back_for_their_own_action_whatever_finishes_first() {
        let rendered = Arc::new(AtomicUsize::new(0));
        let mut ahead = Ahead::new(3, 4);
        let mut next = 0;
        for index in 0..20 {
            while next < 20 && next < index + ahead.window() && ahead.has_room() {
                // Every third action has no letter to render.
                if next % 3 == 0 {
                    ahead.push(next, LetterJob::Done(Letter::None));
                } else {
                    ahead.push(next, render(next, &rendered));
                }
                next += 1;
            }
            assert!(ahead.pending.len() <= 4, "bounded");
            let letter = ahead.take(index).unwrap().unwrap();
            if index % 3 == 0 {
                assert_eq!(letter, Letter::None);
            } else {
                assert_eq!(letter, pdf(index));
            }
        }
        assert_eq!(rendered.load(Ordering::SeqCst), 13);
        assert_eq!(ahead.threads.len(), 3);
    }

    #[test]
    fn skipped_actions_lose_their_letters_and_a_panic_is_an_error() {
        let rendered = Arc::new(AtomicUsize::new(0));
        let mut ahead = Ahead::new(2, 8);
        ahead.push(1, render(1, &rendered));
        ahead.push(3, render(3, &rendered));
        ahead.push(
            4,
            LetterJob::Render(Box::new(|| panic!("a bug in a template engine"))),
        );
        assert!(ahead.take(0).is_none(), "action 0 was not read ahead");
        assert!(
            ahead.take(2).is_none(),
            "action 1 was skipped, 2 not read ahead"
        );
        assert_eq!(ahead.take(3).unwrap().unwrap(), pdf(3));
        let err = ahead.take(4).unwrap().unwrap_err();
        assert!(err.to_string().contains("panicked"), "{err}");
        // The workers still render after a panic.
        ahead.push(5, render(5, &rendered));
        assert_eq!(ahead.take(5).unwrap().unwrap(), pdf(5));
        assert!(ahead.take(6).is_none());
    }
}
