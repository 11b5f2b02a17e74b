//! What a reconstructed timeline should hold and does not.

use muster_ingest::{EventKind, ToolCallPhase};
use muster_model::agent::{AgentManifest, ToolEffect};
use serde::Serialize;

use crate::LinkedEvent;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GapKind {
    /// A tool that changes records or moves money ran, and no system recorded the change.
    ToolCallWithoutAccountChange,
    /// The agent handed over (or decided to), and no ticket shows a person picking it up.
    HandoverWithoutTicket,
    /// Tool calls could not be checked: no manifest says which tools change things.
    ToolEffectsUnknown,
}

/// One gap, with the event it is about.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Gap {
    pub kind: GapKind,
    pub time_ns: Option<i64>,
    /// `source#seq` of the event the gap is about.
    pub event: Option<String>,
    pub message: String,
}

/// How long after a tool call or handover its record may appear.
pub const FOLLOW_UP_NS: i64 = 10 * 60 * 1_000_000_000;

fn is_handover_decision(kind: &EventKind) -> bool {
    match kind {
        EventKind::EscalationDecision { decision, .. } => decision
            .as_deref()
            .is_none_or(|d| !matches!(d.to_lowercase().as_str(), "declined" | "none" | "no")),
        _ => false,
    }
}

fn executed_tool(kind: &EventKind) -> Option<&str> {
    match kind {
        EventKind::ToolCall {
            phase: ToolCallPhase::Executed,
            name: Some(name),
            error: None,
            ..
        } => Some(name),
        _ => None,
    }
}

/// The gaps in `events` (a timeline in time order). `manifest` says which tools change records;
/// without it tool calls cannot be checked, and that is reported as a gap of its own.
pub fn gaps(events: &[LinkedEvent], manifest: Option<&AgentManifest>) -> Vec<Gap> {
    let mut out = Vec::new();
    let reference = |e: &LinkedEvent| format!("{}#{}", e.event.source, e.event.seq);
    let after = |i: usize, t: i64, pred: &dyn Fn(&EventKind) -> bool| {
        events[i + 1..].iter().chain(events[..i].iter()).any(|e| {
            let dt = e.event.event.time_ns - t;
            (0..=FOLLOW_UP_NS).contains(&dt) && pred(&e.event.event.kind)
        })
    };
    let mut unknown_tools = false;
    for (i, e) in events.iter().enumerate() {
        let t = e.event.event.time_ns;
        if let Some(name) = executed_tool(&e.event.event.kind) {
            let effect = manifest.and_then(|m| {
                m.tools
                    .iter()
                    .find(|tool| tool.name == name)
                    .map(|tool| tool.effect)
            });
            match effect {
                Some(ToolEffect::Write | ToolEffect::Money | ToolEffect::Close) => {
                    if !after(i, t, &|k| matches!(k, EventKind::AccountChange { .. })) {
                        out.push(Gap {
                            kind: GapKind::ToolCallWithoutAccountChange,
                            time_ns: Some(t),
                            event: Some(reference(e)),
                            message: format!(
                                "`{name}` ran, and no system of record shows the change within 10 minutes: ingest the CRM's history, or the change was never made"
                            ),
                        });
                    }
                }
                Some(ToolEffect::Handover) => {
                    if !after(i, t, &|k| matches!(k, EventKind::TicketEvent { .. })) {
                        out.push(handover_gap(t, reference(e), &format!("`{name}` ran")));
                    }
                }
                Some(ToolEffect::Read) => {}
                None => unknown_tools |= manifest.is_none(),
            }
        }
        if is_handover_decision(&e.event.event.kind)
            && !after(i, t, &|k| matches!(k, EventKind::TicketEvent { .. }))
        {
            out.push(handover_gap(
                t,
                reference(e),
                "the agent decided to hand over",
            ));
        }
    }
    if unknown_tools {
        out.push(Gap {
            kind: GapKind::ToolEffectsUnknown,
            time_ns: None,
            event: None,
            message: "tool calls were not checked against account changes: pass the agent manifest (--agent) so muster knows which tools change records".into(),
        });
    }
    out
}

fn handover_gap(t: i64, event: String, what: &str) -> Gap {
    Gap {
        kind: GapKind::HandoverWithoutTicket,
        time_ns: Some(t),
        event: Some(event),
        message: format!(
            "{what}, and no ticket event follows within 10 minutes: the customer may have been left waiting, or the helpdesk is not ingested"
        ),
    }
}
