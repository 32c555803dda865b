//! NDPROXY may delete a VC the moment its close completes: from inside the
//! CloseCallComplete indication, or on another processor while the entry that delivered it
//! still holds the VC's pump (WDK: "Closing a call": after NdisCmCloseCallComplete the client
//! deletes its VC with NdisCoDeleteVc). The delete must succeed then, not fail with
//! NDIS_STATUS_INVALID_STATE, and the slot be free at once: with every VC in use, the next
//! create must get it.
#![forbid(unsafe_code)]

mod common;

use common::*;
use rswan_engine::batch::{Egress, Event};
use rswan_engine::ids::VcId;
use rswan_engine::status::{PENDING, SUCCESS};

/// Completes deactivation inline, and from inside the CloseCallComplete deletes the VC and
/// creates a new one.
struct DeleteOnClose<'a> {
    engine: &'a TestEngine,
    log: Log,
    deleted: Option<u32>,
    recreated: Option<VcId>,
}

impl Egress<P> for DeleteOnClose<'_> {
    fn deliver(&mut self, event: Event<P>) {
        match self.log.record(event) {
            Ev::DeactivateVc(vc) => {
                let engine = self.engine;
                engine.deactivate_vc_complete(vc, self);
            }
            Ev::CloseCallComplete(vc, _) => {
                self.deleted = Some(self.engine.delete_vc(vc));
                self.recreated = self.engine.create_vc().ok();
            }
            _ => {}
        }
    }
}

#[test]
fn a_vc_deleted_from_inside_its_close_completion_is_deleted_and_its_slot_reused() {
    let engine = engine(small_config());
    let mut log = Log::default();
    let vc: VcId = connect(&engine, 0, 1, 4, &mut log);
    // Every other VC in use: only the deleted slot can serve the create inside the completion.
    let others: Vec<VcId> = (1..small_config().max_vcs)
        .map(|_| engine.create_vc().expect("a free VC"))
        .collect();
    let mut sink = DeleteOnClose {
        engine: &engine,
        log: Log::default(),
        deleted: None,
        recreated: None,
    };
    let closed = engine.close_call(vc, &mut sink);
    assert!(closed == SUCCESS || closed == PENDING, "{closed:#x}");
    assert!(
        sink.log
            .events
            .contains(&Ev::CloseCallComplete(vc, SUCCESS))
    );
    assert_eq!(
        sink.deleted,
        Some(SUCCESS),
        "delete from the close completion"
    );
    assert_eq!(engine.vc_phase(vc), None, "the VC is gone");
    assert_eq!(sink.recreated.map(|v| v.index()), Some(vc.index()));
    assert_eq!(engine.adapter_stats().vcs_in_use, small_config().max_vcs);
    // The new VC in the slot works: it carries a call of its own.
    let fresh = sink.recreated.unwrap();
    for other in others {
        assert_eq!(engine.delete_vc(other), SUCCESS);
    }
    assert_eq!(
        engine.make_call(fresh, rswan_engine::ids::LineId(1), &mut log),
        PENDING
    );
}
