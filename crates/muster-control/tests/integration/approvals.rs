//! The customer correction notice: rendered into the drill, approved afterwards as addenda, timed
//! against the claim; rejections and strangers are refused or fail.

use muster_control::{ApprovalError, ControlKind, approve};
use muster_drill::Verdict;
use muster_refagent::FlawSet;
use muster_store::EvidenceStore;

use crate::common::{agent, plan, run};

#[tokio::test]
async fn the_notice_waits_for_every_approver_then_passes_within_the_claim() {
    let agent = agent(FlawSet::none()).await;
    let ran = run(
        &plan(|_| {}),
        &agent.base_url(),
        &[ControlKind::CommsApproval],
        None,
    )
    .await;
    agent.shutdown().await;
    let pending = ran.row("comms-approval");
    assert_eq!(pending.verdict, Verdict::Inconclusive);
    assert!(
        pending.reason.contains("comms-lead, legal"),
        "{}",
        pending.reason
    );
    let Some(notice) = &ran.controls.notice else {
        panic!("no notice")
    };
    assert!(notice.text.contains("Larkspur Mobile"), "{}", notice.text);
    assert!(
        !notice.text.contains("{{"),
        "every placeholder filled: {}",
        notice.text
    );

    let id = ran.report.drill_id.clone();
    let store: &dyn EvidenceStore = ran.store.as_ref();
    let (_, row) = match approve(store, &id, "comms-lead", "Sam Okafor", true, None).await {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        row.verdict,
        Verdict::Inconclusive,
        "legal has not approved yet"
    );
    assert!(row.reason.contains("legal"));
    let (_, row) = match approve(store, &id[..8], "legal", "Ruth Grant", true, None).await {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(row.verdict, Verdict::Pass, "{row:#?}");
    assert!(
        row.reason.contains("Sam Okafor (comms-lead)") && row.reason.contains("Ruth Grant (legal)")
    );

    // Approvals are addenda: the sealed drill still verifies, and the addenda chain from its root.
    let addenda = match store.addenda(&id).await {
        Ok(a) => a,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(addenda.len(), 2);
    assert_eq!(addenda[0].event.prev.to_hex(), ran.report.root_digest);
    assert_eq!(addenda[1].event.prev, addenda[0].event.digest);
    for a in &addenda {
        assert_eq!(
            a.event.recompute(),
            a.event.digest,
            "digest over the stored content"
        );
    }
    let verified = match store.verify(&id).await {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    };
    assert!(verified.report.is_intact());
}

#[tokio::test]
async fn a_rejection_fails_and_a_stranger_is_refused() {
    let agent = agent(FlawSet::none()).await;
    let ran = run(
        &plan(|_| {}),
        &agent.base_url(),
        &[ControlKind::CommsApproval],
        None,
    )
    .await;
    agent.shutdown().await;
    let id = ran.report.drill_id.clone();
    let store: &dyn EvidenceStore = ran.store.as_ref();
    match approve(store, &id, "intern", "Pat", true, None).await {
        Err(ApprovalError::NotAnApprover { role, approvers }) => {
            assert_eq!(role, "intern");
            assert_eq!(approvers, "comms-lead, legal");
        }
        other => panic!("{other:?}"),
    }
    let (_, row) = match approve(
        store,
        &id,
        "legal",
        "Ruth Grant",
        false,
        Some("do not admit liability"),
    )
    .await
    {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(row.verdict, Verdict::Fail);
    assert!(
        row.reason.contains("do not admit liability"),
        "{}",
        row.reason
    );
    assert!(
        store.addenda(&id).await.is_ok_and(|a| a.len() == 1),
        "the stranger left no trace"
    );
}
