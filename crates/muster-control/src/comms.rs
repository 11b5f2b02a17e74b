//! Customer communications: a correction notice rendered from the incident's facts, and its
//! approval by the named roles, timed against the claim. Approvals arrive after the drill is
//! sealed (`muster approve`, later the console), so they are stored as the drill's addenda.

use std::collections::BTreeMap;

use muster_drill::{DrillPlan, ScenarioResult, Status, Verdict};
use muster_evidence::EventDraft;
use muster_model::agent::CommsApprovalControl;
use muster_model::common::Mode;
use muster_model::template::{Vars, render_str};
use muster_store::{EvidenceStore, StoreError, StoredEvent};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::record::{Recorder, now_ns};
use crate::report::ControlResult;

pub const STREAM: &str = "control/comms-approval";
const NOTICE_EVENT: &str = "comms.notice";
const APPROVAL_EVENT: &str = "comms.approval";

const BUILT_IN_TEMPLATE: &str = "Dear {{customer.name}},\n\nOn {{incident.date}} our online assistant gave you information that was wrong. {{incident.summary}}\n\nWhat you were told: \"{{incident.wrong_advice}}\"\n\nThe correct position: {{incident.correct_position}}\n\nWhat we are doing about it: {{incident.remedy}}\n\nWe are sorry. If you acted on what the assistant said, or have any questions, please contact us: {{contact}}. Your reference: {{customer.ref}}.\n\n{{company}}";

/// A rendered correction notice awaiting approval.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Notice {
    pub text: String,
    /// SHA-256 of the text: what every approval names.
    pub digest: String,
    pub rendered_at: String,
    pub rendered_at_ns: i64,
    pub approvers: Vec<String>,
    pub claimed_within: String,
    pub facts: BTreeMap<String, String>,
}

/// The incident's facts for the notice, from the drill's most severe failing conversation.
pub fn facts(plan: &DrillPlan, results: &[ScenarioResult]) -> BTreeMap<String, String> {
    let mut f = BTreeMap::new();
    // "Larkspur Mobile's web-chat support agent…" names the company before its possessive.
    let company = plan
        .manifest
        .description
        .as_deref()
        .and_then(|d| d.split_once("'s ").map(|(name, _)| name.trim().to_owned()))
        .filter(|name| !name.is_empty() && name.len() <= 60)
        .unwrap_or_else(|| plan.manifest.name.clone());
    f.insert("company".into(), company);
    f.insert("agent.name".into(), plan.manifest.name.clone());
    f.insert(
        "contact".into(),
        plan.manifest
            .owner
            .email
            .clone()
            .unwrap_or_else(|| "our customer relations team".to_owned()),
    );
    f.insert(
        "incident.date".into(),
        jiff::Timestamp::now().strftime("%-d %B %Y").to_string(),
    );
    // Wrong advice is what a correction notice corrects; other failures only without one.
    let failing = results
        .iter()
        .filter(|r| r.verdict == Verdict::Fail)
        .max_by_key(|r| (r.failed_modes.contains(&Mode::Advice), r.severity));
    match failing {
        Some(r) => {
            let customer = plan
                .scenarios
                .iter()
                .find(|p| p.scenario.id == r.id)
                .map(|p| p.scenario.customer.clone());
            let failed = r.expectations.iter().find(|e| e.status == Status::Fail);
            f.insert(
                "customer.name".into(),
                customer
                    .as_ref()
                    .and_then(|c| c.name.clone())
                    .unwrap_or_else(|| "customer".to_owned()),
            );
            f.insert(
                "customer.ref".into(),
                customer.map(|c| c.reference).unwrap_or_default(),
            );
            f.insert("incident.summary".into(), format!("{}.", r.title));
            f.insert(
                "incident.wrong_advice".into(),
                failed
                    .and_then(|e| e.excerpt.as_ref())
                    .map(|x| x.text.clone())
                    .unwrap_or_else(|| r.reason.clone()),
            );
            f.insert(
                "incident.correct_position".into(),
                failed.and_then(|e| e.why.clone()).unwrap_or_else(|| {
                    "our published policy applies, not what the assistant said.".to_owned()
                }),
            );
        }
        None => {
            f.insert("customer.name".into(), "customer".into());
            f.insert("customer.ref".into(), "REHEARSAL".into());
            f.insert(
                "incident.summary".into(),
                "This is a rehearsal notice: no customer was given a wrong answer in this drill."
                    .into(),
            );
            f.insert(
                "incident.wrong_advice".into(),
                "(none in this drill)".into(),
            );
            f.insert(
                "incident.correct_position".into(),
                "(none in this drill)".into(),
            );
        }
    }
    f.insert(
        "incident.remedy".into(),
        plan.manifest
            .governance
            .customer_correction
            .as_ref()
            .map(|c| c.description.clone())
            .unwrap_or_else(|| {
                "a member of our team will contact you to put this right.".to_owned()
            }),
    );
    f
}

fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Render the notice, record it in the drill, and return the pending row.
pub async fn render(
    rec: &Recorder,
    c: &CommsApprovalControl,
    facts: BTreeMap<String, String>,
) -> Result<(Notice, ControlResult), StoreError> {
    let mut vars = Vars::new();
    for (k, v) in &facts {
        vars.insert(k.clone(), json!(v));
    }
    let template = c.template.as_deref().unwrap_or(BUILT_IN_TEMPLATE);
    let text = render_str(template, &vars).unwrap_or_else(|_| template.to_owned());
    let at = now_ns();
    let notice = Notice {
        digest: digest(&text),
        text,
        rendered_at: crate::rfc3339(at),
        rendered_at_ns: at,
        approvers: c.approvers.clone(),
        claimed_within: c.claimed_within.to_string(),
        facts,
    };
    rec.one(
        EventDraft::new(NOTICE_EVENT, at)
            .field("text", notice.text.clone())
            .field("digest", notice.digest.clone())
            .field("approvers", notice.approvers.clone())
            .field("claimed_within", notice.claimed_within.clone())
            .field("claimed_within_ms", c.claimed_within.0.as_millis() as u64)
            .field("facts", json!(notice.facts)),
    )
    .await?;
    let row = status(&notice, c.claimed_within.0.as_millis() as u64, &[]);
    Ok((notice, row))
}

/// One recorded approval (or rejection).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Approval {
    pub role: String,
    pub approver: String,
    pub approved: bool,
    pub note: Option<String>,
    pub at_ns: i64,
    pub notice_digest: String,
}

fn approval_of(e: &StoredEvent) -> Option<Approval> {
    if e.event.kind != APPROVAL_EVENT {
        return None;
    }
    let s = |k: &str| e.event.value(k).and_then(Value::as_str).map(str::to_owned);
    Some(Approval {
        role: s("role")?,
        approver: s("approver")?,
        approved: e.event.value("approved").and_then(Value::as_bool)?,
        note: s("note"),
        at_ns: e.event.time_ns,
        notice_digest: s("notice_digest")?,
    })
}

/// The comms-approval row given the approvals so far.
pub fn status(notice: &Notice, claimed_ms: u64, approvals: &[Approval]) -> ControlResult {
    let row = ControlResult {
        control: "comms-approval".into(),
        title: "Customer correction notice approved".into(),
        claimed: Some(notice.claimed_within.clone()),
        claimed_ms: Some(claimed_ms),
        measured_ms: None,
        verdict: Verdict::Inconclusive,
        reason: String::new(),
        evidence: STREAM.into(),
        rollback_errors: Vec::new(),
    };
    let relevant: Vec<&Approval> = approvals
        .iter()
        .filter(|a| a.notice_digest == notice.digest)
        .collect();
    if let Some(rejected) = relevant.iter().find(|a| !a.approved) {
        return row.verdict(
            Verdict::Fail,
            format!(
                "rejected by {} ({}){}",
                rejected.approver,
                rejected.role,
                rejected
                    .note
                    .as_ref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default()
            ),
        );
    }
    let required: Vec<&str> = if notice.approvers.is_empty() {
        vec!["comms-lead"]
    } else {
        notice.approvers.iter().map(String::as_str).collect()
    };
    let pending: Vec<&str> = required
        .iter()
        .copied()
        .filter(|role| !relevant.iter().any(|a| a.role == *role))
        .collect();
    if !pending.is_empty() {
        return row.verdict(
            Verdict::Inconclusive,
            format!(
                "awaiting approval by {}: `muster approve <drill> --role {} --name \"…\"`",
                pending.join(", "),
                pending[0]
            ),
        );
    }
    let last = relevant
        .iter()
        .filter(|a| required.contains(&a.role.as_str()))
        .map(|a| a.at_ns)
        .max()
        .unwrap_or(notice.rendered_at_ns);
    let ms = (last - notice.rendered_at_ns).max(0) as f64 / 1e6;
    let who: Vec<String> = relevant
        .iter()
        .map(|a| format!("{} ({})", a.approver, a.role))
        .collect();
    row.against_claim(ms, &format!("approved by {}", who.join(", ")))
}

/// The notice recorded in a drill's evidence, if any.
pub fn notice_in(events: &[StoredEvent]) -> Option<(Notice, u64)> {
    let e = events
        .iter()
        .find(|e| e.event.stream == STREAM && e.event.kind == NOTICE_EVENT)?;
    let s = |k: &str| e.event.value(k).and_then(Value::as_str).map(str::to_owned);
    let notice = Notice {
        text: s("text")?,
        digest: s("digest")?,
        rendered_at: crate::rfc3339(e.event.time_ns),
        rendered_at_ns: e.event.time_ns,
        approvers: e
            .event
            .value("approvers")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        claimed_within: s("claimed_within")?,
        facts: e
            .event
            .value("facts")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default(),
    };
    let claimed_ms = e
        .event
        .value("claimed_within_ms")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    Some((notice, claimed_ms))
}

#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "drill {0} has no customer notice to approve; run the drill with the comms-approval control declared"
    )]
    NoNotice(String),
    #[error("`{role}` is not one of the notice's approvers ({approvers})")]
    NotAnApprover { role: String, approvers: String },
}

/// Record an approval or rejection of a drill's notice; returns the updated row.
pub async fn approve(
    store: &dyn EvidenceStore,
    drill: &str,
    role: &str,
    approver: &str,
    approved: bool,
    note: Option<&str>,
) -> Result<(Notice, ControlResult), ApprovalError> {
    let record = store.drill(drill).await?;
    let id = record.header.id.clone();
    let events = store.events(&id).await?;
    let (notice, claimed_ms) =
        notice_in(&events).ok_or_else(|| ApprovalError::NoNotice(id.clone()))?;
    if !notice.approvers.is_empty() && !notice.approvers.iter().any(|a| a == role) {
        return Err(ApprovalError::NotAnApprover {
            role: role.to_owned(),
            approvers: notice.approvers.join(", "),
        });
    }
    store
        .append_addenda(
            &id,
            vec![
                EventDraft::new(APPROVAL_EVENT, now_ns())
                    .field("role", role)
                    .field("approver", approver)
                    .field("approved", approved)
                    .field("note", note.map_or(Value::Null, |n| json!(n)))
                    .field("notice_digest", notice.digest.clone()),
            ],
        )
        .await?;
    let row = current(store, &id, &notice, claimed_ms).await?;
    Ok((notice, row))
}

/// The comms row of a drill as it stands now.
pub async fn current(
    store: &dyn EvidenceStore,
    drill_id: &str,
    notice: &Notice,
    claimed_ms: u64,
) -> Result<ControlResult, StoreError> {
    let approvals: Vec<Approval> = store
        .addenda(drill_id)
        .await?
        .iter()
        .filter_map(approval_of)
        .collect();
    Ok(status(notice, claimed_ms, &approvals))
}
