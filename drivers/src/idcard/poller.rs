//! The poll loop: checks for a card every `poll_interval`, reads it once when it arrives,
//! reports it removed when it goes, and survives the port vanishing and coming back (closes
//! it, reopens with exponential backoff) without the kiosk restarting.
//!
//! The decisions live in [`Watcher`] (no port, no clock of its own: it is told what the
//! reader answered and what time it is), so they are tested without a device. [`Poller`] is
//! the thread that drives a real [`IdCardReader`] through it.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::card::IdCard;
use super::reader::{IdCardReader, ReaderError};
use crate::device::Device;

/// What the kiosk hears from the reader.
#[derive(Debug)]
pub enum CardEvent {
    /// The reader answers: at start, or again after it was lost.
    ReaderReady,
    /// The reader's port went away or it stopped answering; reopening is under way.
    ReaderLost { reason: String },
    /// A card was put on the reader and read.
    Inserted(Box<IdCard>),
    /// A card is on the reader but could not be read (moved, removed mid-read, corrupt line).
    ReadFailed { cause: &'static str, reason: String },
    /// The card was taken off (also sent before `ReaderLost` when a card was on).
    Removed,
}

/// The link to the reader as the watcher sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Port closed; try to open at `next_try`.
    Down {
        next_try: Instant,
        backoff: Duration,
    },
    /// Port open, no answer yet.
    Opened,
    /// The reader answers.
    Up,
}

/// Card presence as the watcher sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Absent,
    /// On the reader; `read` once read successfully, `attempts` failed reads so far.
    Present {
        read: bool,
        attempts: u32,
    },
}

/// What the driver should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Open the port (and claim, enable).
    Open,
    /// Send find card.
    Find,
    /// Select and read the card the last find saw.
    Read,
    /// Nothing until the given time.
    Wait(Instant),
}

/// Backoff and retry policy of the watcher.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub poll_interval: Duration,
    pub reopen_initial: Duration,
    pub reopen_max: Duration,
    pub timeouts_before_reopen: u32,
    pub max_read_attempts: u32,
}

/// The poll loop's state machine.
#[derive(Debug)]
pub struct Watcher {
    pub link: Link,
    pub presence: Presence,
    policy: Policy,
    next_poll: Instant,
    pending_read: bool,
}

impl Watcher {
    /// Starts with the port closed (`port_open` false) or open and not yet answering.
    pub fn new(policy: Policy, port_open: bool, now: Instant) -> Watcher {
        Watcher {
            link: if port_open {
                Link::Opened
            } else {
                Link::Down {
                    next_try: now,
                    backoff: policy.reopen_initial,
                }
            },
            presence: Presence::Absent,
            policy,
            next_poll: now,
            pending_read: false,
        }
    }

    pub fn next_action(&self, now: Instant) -> Action {
        match self.link {
            Link::Down { next_try, .. } if now < next_try => Action::Wait(next_try),
            Link::Down { .. } => Action::Open,
            _ if self.pending_read => Action::Read,
            _ if now < self.next_poll => Action::Wait(self.next_poll),
            _ => Action::Find,
        }
    }

    fn go_down(
        &mut self,
        now: Instant,
        reason: String,
        backoff: Duration,
        out: &mut Vec<CardEvent>,
    ) {
        if self.link == Link::Up {
            if matches!(self.presence, Presence::Present { .. }) {
                out.push(CardEvent::Removed);
            }
            out.push(CardEvent::ReaderLost { reason });
        }
        self.presence = Presence::Absent;
        self.pending_read = false;
        self.link = Link::Down {
            next_try: now + backoff,
            backoff,
        };
    }

    /// The port opened (`Ok`) or did not.
    pub fn on_open(&mut self, now: Instant, result: Result<(), String>) -> Vec<CardEvent> {
        let mut out = Vec::new();
        match result {
            Ok(()) => {
                self.link = Link::Opened;
                self.next_poll = now;
            }
            Err(reason) => {
                let backoff = match self.link {
                    Link::Down { backoff, .. } => (backoff * 2).min(self.policy.reopen_max),
                    _ => self.policy.reopen_initial,
                };
                // Scheduled after `backoff`; the next failure doubles it.
                self.go_down(now, reason, backoff, &mut out);
            }
        }
        out
    }

    fn answered(&mut self, out: &mut Vec<CardEvent>) {
        if self.link != Link::Up {
            self.link = Link::Up;
            out.push(CardEvent::ReaderReady);
        }
    }

    /// Handles an error that is not about the card: port gone, or too many timeouts.
    /// Returns true when the port must be closed.
    fn on_link_error(
        &mut self,
        now: Instant,
        e: &ReaderError,
        timeouts: u32,
        out: &mut Vec<CardEvent>,
    ) -> bool {
        let lost = e.is_port_gone()
            || (matches!(e, ReaderError::Timeout { .. })
                && timeouts >= self.policy.timeouts_before_reopen);
        if lost {
            self.go_down(now, e.to_string(), self.policy.reopen_initial, out);
        }
        lost
    }

    /// The answer to find card. `timeouts` is the reader's count of timeouts in a row.
    /// Returns the events and whether the port must be closed.
    pub fn on_find(
        &mut self,
        now: Instant,
        result: Result<bool, &ReaderError>,
        timeouts: u32,
    ) -> (Vec<CardEvent>, bool) {
        let mut out = Vec::new();
        self.next_poll = now + self.policy.poll_interval;
        match result {
            Ok(present) => {
                self.answered(&mut out);
                match (self.presence, present) {
                    (Presence::Absent, true) => {
                        self.presence = Presence::Present {
                            read: false,
                            attempts: 0,
                        };
                        self.pending_read = true;
                    }
                    (
                        Presence::Present {
                            read: false,
                            attempts,
                        },
                        true,
                    ) => {
                        self.pending_read = attempts < self.policy.max_read_attempts;
                    }
                    (Presence::Present { .. }, false) => {
                        self.presence = Presence::Absent;
                        out.push(CardEvent::Removed);
                    }
                    _ => {}
                }
                (out, false)
            }
            Err(e) => {
                let close = self.on_link_error(now, e, timeouts, &mut out);
                (out, close)
            }
        }
    }

    /// The result of select + read. Returns the events and whether the port must be closed.
    pub fn on_read(
        &mut self,
        now: Instant,
        result: Result<IdCard, ReaderError>,
        timeouts: u32,
    ) -> (Vec<CardEvent>, bool) {
        let mut out = Vec::new();
        self.pending_read = false;
        self.next_poll = now + self.policy.poll_interval;
        let attempts = match self.presence {
            Presence::Present { attempts, .. } => attempts,
            Presence::Absent => 0,
        };
        match result {
            Ok(card) => {
                self.answered(&mut out);
                self.presence = Presence::Present {
                    read: true,
                    attempts,
                };
                out.push(CardEvent::Inserted(Box::new(card)));
                (out, false)
            }
            Err(e) if e.is_port_gone() || matches!(e, ReaderError::Timeout { .. }) => {
                let close = self.on_link_error(now, &e, timeouts, &mut out);
                if !close {
                    self.presence = Presence::Present {
                        read: false,
                        attempts: attempts + 1,
                    };
                    out.push(CardEvent::ReadFailed {
                        cause: e.cause(),
                        reason: e.to_string(),
                    });
                }
                (out, close)
            }
            Err(e) => {
                // The reader answered, just not with a card.
                self.answered(&mut out);
                self.presence = Presence::Present {
                    read: false,
                    attempts: attempts + 1,
                };
                out.push(CardEvent::ReadFailed {
                    cause: e.cause(),
                    reason: e.to_string(),
                });
                (out, false)
            }
        }
    }
}

/// The poll thread around a reader. Dropping it stops the thread.
pub struct Poller {
    events: Receiver<CardEvent>,
    reader: Arc<Mutex<IdCardReader>>,
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Poller {
    /// Starts polling. The reader may be closed (the poller opens, claims and enables it) or
    /// already open.
    pub fn spawn(reader: IdCardReader) -> Poller {
        let cfg = reader.config().clone();
        let policy = Policy {
            poll_interval: cfg.poll_interval,
            reopen_initial: cfg.reopen_initial,
            reopen_max: cfg.reopen_max,
            timeouts_before_reopen: cfg.timeouts_before_reopen.max(1),
            max_read_attempts: cfg.max_read_attempts.max(1),
        };
        let open = reader.is_port_open();
        let reader = Arc::new(Mutex::new(reader));
        let (tx, events) = mpsc::channel();
        let (stop, stop_rx) = mpsc::channel();
        let shared = Arc::clone(&reader);
        let thread = std::thread::Builder::new()
            .name("id-reader-poll".into())
            .spawn(move || {
                run(
                    shared,
                    Watcher::new(policy, open, Instant::now()),
                    tx,
                    stop_rx,
                )
            })
            .ok();
        Poller {
            events,
            reader,
            stop: Some(stop),
            thread,
        }
    }

    pub fn events(&self) -> &Receiver<CardEvent> {
        &self.events
    }

    /// The reader, for health checks between polls.
    pub fn reader(&self) -> Arc<Mutex<IdCardReader>> {
        Arc::clone(&self.reader)
    }

    /// Stops the thread and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn ensure_enabled(reader: &mut IdCardReader) -> anyhow::Result<()> {
    if !reader.is_port_open() {
        reader.reopen()?;
    }
    if !reader.core().is_claimed() {
        reader.claim()?;
    }
    if !reader.core().is_enabled() {
        reader.enable()?;
    }
    Ok(())
}

fn run(
    reader: Arc<Mutex<IdCardReader>>,
    mut w: Watcher,
    tx: Sender<CardEvent>,
    stop: Receiver<()>,
) {
    loop {
        let now = Instant::now();
        let action = w.next_action(now);
        if let Action::Wait(until) = action {
            match stop.recv_timeout(until.saturating_duration_since(now)) {
                Err(RecvTimeoutError::Timeout) => continue,
                // A message or a dropped sender: stop.
                _ => return,
            }
        }
        if matches!(
            stop.try_recv(),
            Ok(()) | Err(mpsc::TryRecvError::Disconnected)
        ) {
            return;
        }
        let mut r = reader.lock().unwrap_or_else(|p| p.into_inner());
        let (events, close) = match action {
            Action::Open => {
                let result = ensure_enabled(&mut r).map_err(|e| e.to_string());
                (w.on_open(Instant::now(), result), false)
            }
            Action::Find => {
                let result = r.find_card();
                let timeouts = r.consecutive_timeouts();
                w.on_find(Instant::now(), result.as_ref().map(|b| *b), timeouts)
            }
            Action::Read => {
                let result = r.read_found_card();
                let timeouts = r.consecutive_timeouts();
                w.on_read(Instant::now(), result, timeouts)
            }
            Action::Wait(_) => (Vec::new(), false),
        };
        if close {
            let reason = events
                .iter()
                .find_map(|e| match e {
                    CardEvent::ReaderLost { reason } => Some(reason.as_str()),
                    _ => None,
                })
                .unwrap_or("reader not answering");
            r.mark_lost(reason);
        }
        for e in &events {
            match e {
                CardEvent::Inserted(_) => r.core().notify("card inserted"),
                CardEvent::Removed => r.core().notify("card removed"),
                _ => {}
            }
        }
        drop(r);
        for e in events {
            tracing::debug!(event = event_name(&e), "id reader");
            if tx.send(e).is_err() {
                return;
            }
        }
    }
}

fn event_name(e: &CardEvent) -> &'static str {
    match e {
        CardEvent::ReaderReady => "reader_ready",
        CardEvent::ReaderLost { .. } => "reader_lost",
        CardEvent::Inserted(_) => "inserted",
        CardEvent::ReadFailed { .. } => "read_failed",
        CardEvent::Removed => "removed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            poll_interval: Duration::from_millis(300),
            reopen_initial: Duration::from_millis(200),
            reopen_max: Duration::from_millis(1000),
            timeouts_before_reopen: 3,
            max_read_attempts: 2,
        }
    }

    fn names(events: &[CardEvent]) -> Vec<&'static str> {
        events.iter().map(event_name).collect()
    }

    fn timeout() -> ReaderError {
        ReaderError::Timeout {
            command: "find card",
            ms: 800,
        }
    }

    #[test]
    fn opens_then_polls_then_reads_once_and_sees_removal() {
        let t0 = Instant::now();
        let mut w = Watcher::new(policy(), false, t0);
        assert_eq!(w.next_action(t0), Action::Open);
        assert!(w.on_open(t0, Ok(())).is_empty());
        assert_eq!(w.next_action(t0), Action::Find);
        let (ev, close) = w.on_find(t0, Ok(false), 0);
        assert_eq!((names(&ev), close), (vec!["reader_ready"], false));
        assert_eq!(
            w.next_action(t0),
            Action::Wait(t0 + Duration::from_millis(300))
        );
        let t1 = t0 + Duration::from_millis(300);
        let (ev, _) = w.on_find(t1, Ok(true), 0);
        assert!(ev.is_empty());
        assert_eq!(w.next_action(t1), Action::Read, "read right after the find");
        let (ev, _) = w.on_read(t1, Err(ReaderError::NoCard), 0);
        assert_eq!(names(&ev), vec!["read_failed"]);
        let t2 = t1 + Duration::from_millis(300);
        w.on_find(t2, Ok(true), 0);
        assert_eq!(w.next_action(t2), Action::Read, "second attempt");
        let (ev, _) = w.on_read(t2, Err(ReaderError::NoCard), 0);
        assert_eq!(names(&ev), vec!["read_failed"]);
        let t3 = t2 + Duration::from_millis(300);
        w.on_find(t3, Ok(true), 0);
        assert_eq!(
            w.next_action(t3),
            Action::Wait(t3 + Duration::from_millis(300)),
            "attempts used up"
        );
        let (ev, _) = w.on_find(t3, Ok(false), 0);
        assert_eq!(names(&ev), vec!["removed"]);
        assert_eq!(w.presence, Presence::Absent);
    }

    #[test]
    fn port_gone_reports_removed_and_lost_then_backs_off() {
        let t0 = Instant::now();
        let mut w = Watcher::new(policy(), true, t0);
        w.on_find(t0, Ok(true), 0);
        assert_eq!(
            w.presence,
            Presence::Present {
                read: false,
                attempts: 0
            }
        );
        let gone = ReaderError::PortGone("Broken pipe".into());
        let (ev, close) = w.on_find(t0, Err(&gone), 0);
        assert_eq!((names(&ev), close), (vec!["removed", "reader_lost"], true));
        assert_eq!(
            w.next_action(t0),
            Action::Wait(t0 + Duration::from_millis(200))
        );
        let t1 = t0 + Duration::from_millis(200);
        assert_eq!(w.next_action(t1), Action::Open);
        // Failed opens double the pause up to the cap, with no repeated lost events.
        let mut t = t1;
        let mut pauses = Vec::new();
        for _ in 0..5 {
            assert!(w.on_open(t, Err("No such file".into())).is_empty());
            let Action::Wait(next) = w.next_action(t) else {
                panic!("must wait")
            };
            pauses.push((next - t).as_millis());
            t = next;
        }
        assert_eq!(pauses, vec![400, 800, 1000, 1000, 1000]);
        w.on_open(t, Ok(()));
        let (ev, _) = w.on_find(t, Ok(false), 0);
        assert_eq!(names(&ev), vec!["reader_ready"]);
        // Backoff starts again from the beginning next time.
        let (_, close) = w.on_find(t, Err(&gone), 0);
        assert!(close);
        assert_eq!(
            w.next_action(t),
            Action::Wait(t + Duration::from_millis(200))
        );
    }

    #[test]
    fn timeouts_close_the_port_only_after_the_limit() {
        let t0 = Instant::now();
        let mut w = Watcher::new(policy(), true, t0);
        w.on_find(t0, Ok(false), 0);
        for n in 1..3 {
            let (ev, close) = w.on_find(t0, Err(&timeout()), n);
            assert!(ev.is_empty() && !close, "timeout {n}");
        }
        let (ev, close) = w.on_find(t0, Err(&timeout()), 3);
        assert_eq!((names(&ev), close), (vec!["reader_lost"], true));
    }

    #[test]
    fn other_answers_do_not_drop_the_link() {
        let t0 = Instant::now();
        let mut w = Watcher::new(policy(), true, t0);
        let corrupt = ReaderError::Corrupt {
            command: "find card",
            error: super::super::codec::FrameError::BadChecksum {
                computed: 1,
                found: 2,
            },
        };
        let (ev, close) = w.on_find(t0, Err(&corrupt), 0);
        assert!(ev.is_empty() && !close);
        assert_eq!(w.link, Link::Opened, "not yet answering sensibly");
    }
}
