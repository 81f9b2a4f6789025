//! The simulator panel's binding: each press becomes a command to a simulator.

use std::rc::Rc;

use device_sim::printer::Paper;
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};
use ui::{Fl, Sim, SimPanel};

use super::{Demo, Who};
use crate::app::i18n::{tr, tr_args};

/// The panel window and what it drives.
pub struct Panel {
    pub window: SimPanel,
}

impl Panel {
    pub fn new(demo: Rc<Demo>, sync: Option<crate::sync::SyncHandle>) -> anyhow::Result<Panel> {
        let window = SimPanel::new()?;
        let fl = window.global::<Fl>();
        fl.on_t(|lang, key| tr(&lang, &key).into());
        fl.on_t1(|lang, key, n1, v1| tr_args(&lang, &key, &[(&n1, &v1)]).into());
        fl.on_t2(|lang, key, n1, v1, n2, v2| {
            tr_args(&lang, &key, &[(&n1, &v1), (&n2, &v2)]).into()
        });
        let sim = window.global::<Sim>();
        let ids: Vec<String> = demo.deck.ids().iter().map(|s| s.to_string()).collect();
        let labels: Vec<SharedString> = ids
            .iter()
            .map(|id| {
                let name = demo
                    .deck
                    .get(id)
                    .map(|c| c.spec.name.clone())
                    .unwrap_or_default();
                format!("{name} · {id}").into()
            })
            .collect();
        sim.set_cards(ModelRc::new(VecModel::from(
            ids.iter().map(SharedString::from).collect::<Vec<_>>(),
        )));
        sim.set_card_labels(ModelRc::new(VecModel::from(labels)));
        sim.set_receipts_dir(demo.receipts_dir.display().to_string().into());
        sim.set_camera(0);

        let weak = window.as_weak();
        let d = demo.clone();
        sim.on_put_card(move |id| {
            // Lift the card first, as a citizen would, so the reader sees a new card; put
            // the new one a moment later (a timer: the UI thread never sleeps).
            d.reader.remove();
            let (d, weak) = (d.clone(), weak.clone());
            slint::Timer::single_shot(std::time::Duration::from_millis(300), move || {
                match d.reader.put(&id) {
                    Ok(()) => {
                        if let Some(w) = weak.upgrade() {
                            w.global::<Sim>().set_card_on_reader(id);
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "demo: card not put"),
                }
            });
        });
        let weak = window.as_weak();
        let d = demo.clone();
        sim.on_remove_card(move || {
            d.reader.remove();
            if let Some(w) = weak.upgrade() {
                w.global::<Sim>().set_card_on_reader(SharedString::new());
            }
        });
        let weak = window.as_weak();
        let d = demo.clone();
        sim.on_camera_sees(move |i| {
            match i {
                0 => d.scene.set_who(Who::Holder),
                1 => d.scene.set_who(Who::Someone),
                3 => {
                    if let Err(e) = d.hold_up_last_receipt() {
                        tracing::warn!(error = %e, "demo: no receipt to hold up");
                        return;
                    }
                }
                _ => d.scene.set_who(Who::Nobody),
            }
            if let Some(w) = weak.upgrade() {
                w.global::<Sim>().set_camera(i);
            }
        });
        let weak = window.as_weak();
        let d = demo.clone();
        sim.on_network(move |up| {
            d.cable.set_up(up);
            if let Some(s) = &sync {
                s.network_changed();
            }
            if let Some(w) = weak.upgrade() {
                w.global::<Sim>().set_network_up(up);
            }
        });
        let weak = window.as_weak();
        let d = demo;
        sim.on_paper_loaded(move |loaded| {
            d.printer
                .set_paper(if loaded { Paper::Ok } else { Paper::Out });
            if let Some(w) = weak.upgrade() {
                w.global::<Sim>().set_paper(loaded);
            }
        });
        Ok(Panel { window })
    }
}
