//! The store when the disk fills up or the database turns read-only, through the real submit
//! path (`session::submit` -> `outbox::enqueue_all` -> a real SQLite file in WAL mode):
//! the submission is refused with a specific [`SubmitError`] whose message key exists in
//! every locale, the citizen stays at Review with everything entered, nothing already queued
//! is lost (every earlier entry is counted and decrypted), and the same visit is submitted
//! once space or write access returns, without reopening anything.
//!
//! How the faults are made, and why:
//! - Disk full, everywhere: `PRAGMA max_page_count` caps the real file at its current size,
//!   so SQLite's pager returns SQLITE_FULL exactly as on a full disk; raising the cap is the
//!   space coming back. No privileges, deterministic, runs on every machine.
//! - Disk full, for real: a 1 MiB tmpfs in a private mount namespace of the test thread,
//!   filled until write(2) fails with ENOSPC, then grown with `remount,size=`. It needs
//!   CAP_SYS_ADMIN (CI runs as root); without it the test says so and stops early.
//! - Read-only: `PRAGMA query_only`, which makes SQLite refuse writes with SQLITE_READONLY,
//!   the code a read-only database file gives. A real read-only remount is not possible while
//!   the kiosk holds the file open for writing (the kernel answers EBUSY), and a file mode
//!   does not stop root, so the connection-level switch is the robust way to get the code.

use std::time::Instant;

use kiosk::catalog::{sample, Audience, Catalog, IdentityLevel, MatterKind};
use kiosk::crypto::DataKey;
use kiosk::outbox::{Enqueued, SealedPayload};
use kiosk::session::{self, CardHolder, FaceOutcome, Session, Step, SubmitError, Timeouts};
use kiosk::store::Store;

const ID_NUMBER: &str = "11010519491231002X";

fn holder() -> CardHolder {
    CardHolder {
        id_type: "resident".into(),
        name: "张三丰".into(),
        id_number: ID_NUMBER.into(),
        gender: "男".into(),
        nation: "汉".into(),
        birth_date: "1949-12-31".into(),
        address: "上海市徐汇区漕溪北路336号".into(),
    }
}

/// A session at Review for a card + face application, every field filled.
fn at_review(c: &Catalog) -> Session {
    let t = Instant::now();
    let code = c
        .matters
        .iter()
        .find(|m| {
            m.identity == IdentityLevel::CardFace
                && m.kind == MatterKind::Apply
                && m.audience == Audience::Person
        })
        .map(|m| m.code.clone())
        .unwrap();
    let mut s = Session::new(Timeouts::default(), t);
    s.choose(c, &code, t).unwrap();
    s.choose_situation("01", t).unwrap();
    s.card_read(holder(), t).unwrap();
    s.face_decided(FaceOutcome::Pass, t).unwrap();
    let v = s.visit().unwrap();
    let todo: Vec<(String, String)> = v
        .form
        .fields
        .iter()
        .filter(|f| !v.locked.contains(&f.id))
        .map(|f| (f.id.clone(), f.example.clone()))
        .collect();
    for (id, value) in todo {
        s.edit(&id, &value, t).unwrap();
    }
    s.review(t).unwrap();
    s
}

fn submit(
    s: &mut Session,
    store: &mut Store,
    key: &DataKey,
    c: &Catalog,
) -> Result<Vec<Enqueued>, SubmitError> {
    session::submit(s, store, key, c.version, Instant::now())
}

/// Queues `n` visits normally and returns what was queued.
fn queue(store: &mut Store, key: &DataKey, c: &Catalog, n: usize) -> Vec<Enqueued> {
    (0..n)
        .flat_map(|_| submit(&mut at_review(c), store, key, c).unwrap())
        .collect()
}

/// Every queued entry is still there, pending, in seq order 1..=n, and its payload opens
/// with the data key and names the applicant.
fn assert_nothing_lost(store: &Store, key: &DataKey, queued: &[Enqueued]) {
    let mut stmt = store
        .conn()
        .prepare(
            "SELECT s.id, s.seq, s.payload, o.state FROM submissions s
             JOIN outbox o ON o.submission_id = s.id ORDER BY s.seq",
        )
        .unwrap();
    let rows: Vec<(String, i64, Vec<u8>, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        rows.len(),
        queued.len(),
        "every queued entry is still there"
    );
    for ((id, seq, sealed, state), q) in rows.iter().zip(queued) {
        assert_eq!((id, *seq as u64), (&q.id, q.seq));
        assert_eq!(state, "pending");
        let plain = key.open(id.as_bytes(), sealed).unwrap();
        let payload: SealedPayload = serde_json::from_slice(&plain).unwrap();
        assert_eq!(payload.applicant.id_number, ID_NUMBER);
        assert!(!payload.form.is_empty());
    }
    let seqs: Vec<u64> = queued.iter().map(|q| q.seq).collect();
    assert_eq!(seqs, (1..=queued.len() as u64).collect::<Vec<_>>());
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

/// The refusal the citizen sees: the right variant and key, still at Review, input kept.
fn assert_refused(s: &Session, err: &SubmitError, code: &str, key: &str) {
    assert_eq!(err.code(), code, "{err}");
    assert_eq!(err.message_key(), key);
    assert!(err.needs_staff());
    assert_eq!(s.step(), Step::Review, "back at Review");
    let v = s.visit().unwrap();
    assert_eq!(
        v.values.get("id_number").map(String::as_str),
        Some(ID_NUMBER)
    );
    assert!(v.values.len() > 2, "everything entered is kept");
    assert!(
        !err.to_string().contains(ID_NUMBER),
        "no personal data in the error"
    );
}

/// Submits fresh visits until one is refused (the database is full); returns the refused
/// session, its error and what was queued on the way.
fn fill_up(
    store: &mut Store,
    key: &DataKey,
    c: &Catalog,
    queued: &mut Vec<Enqueued>,
) -> (Session, SubmitError) {
    for _ in 0..2000 {
        let mut s = at_review(c);
        match submit(&mut s, store, key, c) {
            Ok(q) => queued.extend(q),
            Err(e) => return (s, e),
        }
    }
    panic!("the store never filled up");
}

#[test]
fn disk_full_refuses_keeps_the_queue_and_recovers_when_space_returns() {
    let c = sample::generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_path(&dir.path().join("kiosk.db")).unwrap();
    let key = DataKey::from_bytes([9; 32]);
    let mut queued = queue(&mut store, &key, &c, 5);

    // The disk is full: the file may not grow by a page.
    let pages: i64 = store
        .conn()
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    store
        .conn()
        .pragma_update(None, "max_page_count", pages)
        .unwrap();
    let (mut s, err) = fill_up(&mut store, &key, &c, &mut queued);
    assert_refused(&s, &err, "storage_full", "submit-failed-full");
    assert!(
        matches!(err, SubmitError::StorageFull(_)),
        "{err:?} for SQLITE_FULL"
    );
    // Still full: asking again is refused again, and changes nothing.
    let again = submit(&mut s, &mut store, &key, &c).unwrap_err();
    assert_refused(&s, &again, "storage_full", "submit-failed-full");
    assert_nothing_lost(&store, &key, &queued);

    // Space returns: the same visit goes through on the same connection, next seq.
    store
        .conn()
        .pragma_update(None, "max_page_count", 1_000_000)
        .unwrap();
    let done = submit(&mut s, &mut store, &key, &c).unwrap();
    assert_eq!(s.step(), Step::Receipt);
    assert_eq!(
        done[0].seq,
        queued.len() as u64 + 1,
        "no seq lost or reused"
    );
    queued.extend(done);
    queued.extend(queue(&mut store, &key, &c, 2));
    assert_nothing_lost(&store, &key, &queued);
}

#[test]
fn read_only_refuses_keeps_the_queue_and_recovers_when_writable_again() {
    let c = sample::generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_path(&dir.path().join("kiosk.db")).unwrap();
    let key = DataKey::from_bytes([4; 32]);
    let mut queued = queue(&mut store, &key, &c, 4);

    store
        .conn()
        .pragma_update(None, "query_only", true)
        .unwrap();
    let mut s = at_review(&c);
    let err = submit(&mut s, &mut store, &key, &c).unwrap_err();
    assert_refused(&s, &err, "storage_read_only", "submit-failed-read-only");
    assert!(matches!(err, SubmitError::StorageReadOnly(_)), "{err:?}");
    let again = submit(&mut s, &mut store, &key, &c).unwrap_err();
    assert_refused(&s, &again, "storage_read_only", "submit-failed-read-only");
    assert_nothing_lost(&store, &key, &queued);

    store
        .conn()
        .pragma_update(None, "query_only", false)
        .unwrap();
    let done = submit(&mut s, &mut store, &key, &c).unwrap();
    assert_eq!(s.step(), Step::Receipt);
    assert_eq!(done[0].seq, queued.len() as u64 + 1);
    queued.extend(done);
    assert_nothing_lost(&store, &key, &queued);
}

/// Every message key a refusal can carry is translated in every locale the kiosk offers.
#[test]
fn every_refusal_has_a_message_in_every_locale() {
    let ui = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/i18n");
    let refusals = [
        SubmitError::StorageFull(String::new()),
        SubmitError::StorageReadOnly(String::new()),
        SubmitError::StorageBusy(String::new()),
        SubmitError::Storage(String::new()),
        SubmitError::Flow(session::FlowError::AlreadyRated),
    ];
    for locale in ["zh-CN", "en-US", "zh-HK"] {
        let text = std::fs::read_to_string(ui.join(locale).join("main.ftl")).unwrap();
        let has = |k: &str| text.lines().any(|l| l.starts_with(&format!("{k} = ")));
        for key in refusals
            .iter()
            .map(SubmitError::message_key)
            .chain(["submit-failed-title", "submit-failed-retry"])
        {
            assert!(has(key), "{locale} lacks {key}");
        }
    }
    let keys: std::collections::BTreeSet<&str> =
        refusals.iter().map(SubmitError::message_key).collect();
    assert_eq!(keys.len(), refusals.len(), "one message per cause");
}

/// Real ENOSPC from the kernel: the kiosk's database on a 1 MiB tmpfs (in a mount namespace
/// private to this test's thread, so nothing leaks to the machine), filled until a write
/// fails, then the filesystem grown.
#[test]
fn a_real_full_filesystem_is_storage_full_and_recovers_when_it_grows() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("small-disk");
    std::fs::create_dir(&mnt).unwrap();
    let Some(fs) = tmpfs::Mounted::new(&mnt, "size=1m") else {
        eprintln!(
            "SKIPPED: mounting a tmpfs needs CAP_SYS_ADMIN (CI runs as root); \
             the max_page_count test covers SQLITE_FULL on this machine"
        );
        return;
    };
    let c = sample::generate().unwrap();
    let key = DataKey::from_bytes([5; 32]);
    let mut store = Store::open_path(&mnt.join("kiosk.db")).unwrap();
    let mut queued = queue(&mut store, &key, &c, 3);
    // Take most of the space with another file, so the WAL hits ENOSPC soon.
    let filler = vec![0x5au8; 700 * 1024];
    let _ = std::fs::write(mnt.join("filler"), &filler);
    let (mut s, err) = fill_up(&mut store, &key, &c, &mut queued);
    assert_refused(&s, &err, "storage_full", "submit-failed-full");
    assert_nothing_lost(&store, &key, &queued);

    fs.remount("size=16m");
    let done = submit(&mut s, &mut store, &key, &c).unwrap();
    assert_eq!(done[0].seq, queued.len() as u64 + 1);
    queued.extend(done);
    assert_nothing_lost(&store, &key, &queued);
    drop(store);
    drop(fs);
}

/// A tmpfs mounted in a fresh, private mount namespace of the calling thread.
mod tmpfs {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::path::{Path, PathBuf};

    pub struct Mounted {
        at: PathBuf,
    }

    fn c(p: &Path) -> CString {
        CString::new(p.as_os_str().as_bytes()).unwrap()
    }

    impl Mounted {
        /// `None` when this process may not create mount namespaces or mount (no
        /// CAP_SYS_ADMIN); any other failure fails the test.
        pub fn new(at: &Path, options: &str) -> Option<Mounted> {
            // SAFETY: plain system calls with valid NUL-terminated strings.
            unsafe {
                if libc::unshare(libc::CLONE_NEWNS) != 0 {
                    let e = std::io::Error::last_os_error();
                    assert_eq!(e.raw_os_error(), Some(libc::EPERM), "unshare: {e}");
                    return None;
                }
                // Private: nothing mounted here propagates back to the machine's namespace.
                let root = CString::new("/").unwrap();
                let none = CString::new("none").unwrap();
                let rc = libc::mount(
                    none.as_ptr(),
                    root.as_ptr(),
                    std::ptr::null(),
                    libc::MS_REC | libc::MS_PRIVATE,
                    std::ptr::null(),
                );
                assert_eq!(rc, 0, "make / private: {}", std::io::Error::last_os_error());
                let fstype = CString::new("tmpfs").unwrap();
                let opts = CString::new(options).unwrap();
                let rc = libc::mount(
                    fstype.as_ptr(),
                    c(at).as_ptr(),
                    fstype.as_ptr(),
                    0,
                    opts.as_ptr().cast(),
                );
                if rc != 0 {
                    let e = std::io::Error::last_os_error();
                    assert_eq!(e.raw_os_error(), Some(libc::EPERM), "mount tmpfs: {e}");
                    return None;
                }
            }
            Some(Mounted {
                at: at.to_path_buf(),
            })
        }

        /// Changes the size (or other options) with the files still open.
        pub fn remount(&self, options: &str) {
            let fstype = CString::new("tmpfs").unwrap();
            let opts = CString::new(options).unwrap();
            // SAFETY: as above.
            let rc = unsafe {
                libc::mount(
                    fstype.as_ptr(),
                    c(&self.at).as_ptr(),
                    fstype.as_ptr(),
                    libc::MS_REMOUNT,
                    opts.as_ptr().cast(),
                )
            };
            assert_eq!(rc, 0, "remount: {}", std::io::Error::last_os_error());
        }
    }

    impl Drop for Mounted {
        fn drop(&mut self) {
            // SAFETY: as above. Failure only leaves the mount to die with the namespace.
            unsafe {
                libc::umount2(c(&self.at).as_ptr(), libc::MNT_DETACH);
            }
        }
    }
}
