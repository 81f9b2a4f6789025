//! The staff diagnostics screen through the real binding: five taps on the corner and the
//! PIN; five wrong PINs lock it (and the right PIN is then refused too); a test print comes
//! out of the simulated printer; "sync now" after the network returns moves the outbox
//! counts; every entry and action is in the audit log.

mod binding;

use std::time::Duration;

use binding::Rig;
use kiosk::maintenance::hash_pin;
use slint::{ComponentHandle, Model};
use ui::{Page, Staff};

const PIN: &str = "482916";

fn rig() -> Rig {
    let hash = hash_pin(PIN).unwrap();
    Rig::with(|c| c.maintenance.staff_pin_hash = hash.as_str().to_string())
}

fn open_pin_pad(r: &Rig) {
    let corner = r.tr("staff-corner");
    for _ in 0..5 {
        r.click(&corner);
    }
    assert_eq!(r.page(), Page::Diagnostics);
    assert!(!r.w().global::<Staff>().get_unlocked());
}

fn type_pin(r: &Rig, pin: &str) {
    for d in pin.chars() {
        r.click(&d.to_string());
    }
    assert_eq!(
        r.w().global::<Staff>().get_pin_dots().chars().count(),
        pin.len(),
        "the PIN shows as dots"
    );
    r.click(&r.tr("staff-enter"));
}

fn facts(r: &Rig) -> String {
    r.w()
        .global::<Staff>()
        .get_facts()
        .iter()
        .map(|f| format!("{}: {}", f.label, f.value))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn five_wrong_pins_lock_the_screen() {
    let r = rig();
    open_pin_pad(&r);
    for n in 1..=5 {
        type_pin(&r, "111111");
        r.wait_until("the PIN answer", 30, |r| {
            !r.w().global::<Staff>().get_pin_message().is_empty()
        });
        let msg = r.w().global::<Staff>().get_pin_message().to_string();
        if n < 5 {
            assert!(msg.contains(&(5 - n).to_string()), "{n}: {msg}");
        } else {
            assert!(msg.starts_with("密码错误次数过多"), "{msg}");
        }
        r.w().global::<Staff>().set_pin_message(Default::default());
    }
    // Locked: even the right PIN is refused now.
    type_pin(&r, PIN);
    r.wait_until("the PIN answer", 30, |r| {
        !r.w().global::<Staff>().get_pin_message().is_empty()
    });
    assert!(!r.w().global::<Staff>().get_unlocked());
    // The audit log has every attempt, and no PIN in it.
    let store = kiosk::store::Store::open(&r.demo.config).unwrap();
    let log = kiosk::maintenance::AuditLog::new(&store)
        .recent(20)
        .unwrap();
    assert!(log.len() >= 6, "{log:?}");
    assert!(!format!("{log:?}").contains("111111") && !format!("{log:?}").contains(PIN));
}

#[test]
fn test_print_and_sync_now() {
    let r = rig();
    // A submission queued while the network is down.
    r.queue_offline(1);
    open_pin_pad(&r);
    type_pin(&r, PIN);
    r.wait_until("the diagnostics", 30, |r| {
        r.w().global::<Staff>().get_unlocked()
    });
    r.wait_until("the facts", 30, |r| facts(r).contains("pending 1"));

    r.click(&r.tr("staff-test-print"));
    r.wait_until("the test print", 30, |r| {
        !r.w().global::<Staff>().get_action_result().is_empty()
    });
    let result = r.w().global::<Staff>().get_action_result().to_string();
    assert!(result.starts_with("完成"), "{result}");
    let printed = r
        .demo
        .printer
        .wait_for_receipts(1, Duration::from_secs(10))
        .unwrap();
    assert!(printed[0].text.contains("打印机测试"));

    // The network is back: "sync now" sends the waiting submission at once.
    r.demo.cable.set_up(true);
    r.click(&r.tr("staff-sync-now"));
    r.wait_until("the outbox to empty", 60, |r| {
        r.advance(Duration::from_secs(3));
        facts(r).contains("pending 0") && facts(r).contains("acked 1")
    });

    r.click(&r.tr("staff-leave"));
    assert_eq!(r.page(), Page::Home);
    // The storage thread writes the exit line just after.
    let store = kiosk::store::Store::open(&r.demo.config).unwrap();
    let actions = || -> Vec<String> {
        kiosk::maintenance::AuditLog::new(&store)
            .recent(20)
            .unwrap()
            .iter()
            .map(|a| format!("{a:?}"))
            .collect()
    };
    r.wait_until("the exit in the audit log", 10, |_| {
        actions().iter().any(|a| a.contains("diagnostics_exit"))
    });
    for want in [
        "diagnostics_entry",
        "test_print",
        "sync_now",
        "diagnostics_exit",
    ] {
        assert!(
            actions().iter().any(|a| a.contains(want)),
            "{want} not in {:?}",
            actions()
        );
    }
}
