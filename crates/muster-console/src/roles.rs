//! Roles and the permission matrix: the one place that says who may do what.
//!
//! A person's roles in an exercise are their account's role plus every seat they hold in that
//! exercise right now (a seat handed over stops granting). Every route names one [`Permission`];
//! the router enforces it, the OpenAPI document publishes it, and the permission test walks every
//! served route for every role.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Facilitator,
    IncidentLead,
    ContactCentreLead,
    ProductOwner,
    Legal,
    Dpo,
    SecurityLead,
    CommsLead,
    Observer,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 10] = [
        Role::Facilitator,
        Role::IncidentLead,
        Role::ContactCentreLead,
        Role::ProductOwner,
        Role::Legal,
        Role::Dpo,
        Role::SecurityLead,
        Role::CommsLead,
        Role::Observer,
        Role::Auditor,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Role::Facilitator => "facilitator",
            Role::IncidentLead => "incident-lead",
            Role::ContactCentreLead => "contact-centre-lead",
            Role::ProductOwner => "product-owner",
            Role::Legal => "legal",
            Role::Dpo => "dpo",
            Role::SecurityLead => "security-lead",
            Role::CommsLead => "comms-lead",
            Role::Observer => "observer",
            Role::Auditor => "auditor",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Facilitator => "Facilitator",
            Role::IncidentLead => "Incident lead",
            Role::ContactCentreLead => "Contact-centre lead",
            Role::ProductOwner => "Product owner",
            Role::Legal => "Legal",
            Role::Dpo => "Data protection officer",
            Role::SecurityLead => "Security lead",
            Role::CommsLead => "Comms lead",
            Role::Observer => "Observer",
            Role::Auditor => "Auditor",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.key() == text)
    }
}

/// What a route needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Permission {
    /// Anyone, signed in or not (log-in page, OpenAPI document).
    Public,
    /// Any signed-in account.
    SignedIn,
    /// See exercises, their timeline and redacted evidence.
    ViewExercise,
    /// Create exercises, run the clock, release injects, assign seats, edit the severity model.
    ManageExercise,
    ManageAccounts,
    LogDecision,
    AnswerQuestion,
    SetSeverity,
    /// Record when the organisation became aware (starts the regulatory clocks).
    DeclareAwareness,
    DraftComms,
    ReviewComms,
    ApproveComms,
    /// Read conversation content unredacted (each view is audited with a reason).
    ViewRawEvidence,
    ReadAccessAudit,
    RunDrill,
    RecordHotWash,
    /// Read the whole exercise record as JSON (the pack's input).
    ExportRecord,
}

impl Permission {
    pub const ALL: [Permission; 17] = [
        Permission::Public,
        Permission::SignedIn,
        Permission::ViewExercise,
        Permission::ManageExercise,
        Permission::ManageAccounts,
        Permission::LogDecision,
        Permission::AnswerQuestion,
        Permission::SetSeverity,
        Permission::DeclareAwareness,
        Permission::DraftComms,
        Permission::ReviewComms,
        Permission::ApproveComms,
        Permission::ViewRawEvidence,
        Permission::ReadAccessAudit,
        Permission::RunDrill,
        Permission::RecordHotWash,
        Permission::ExportRecord,
    ];

    pub fn parse(key: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.key() == key)
    }

    pub fn key(self) -> &'static str {
        match self {
            Permission::Public => "public",
            Permission::SignedIn => "signed-in",
            Permission::ViewExercise => "view-exercise",
            Permission::ManageExercise => "manage-exercise",
            Permission::ManageAccounts => "manage-accounts",
            Permission::LogDecision => "log-decision",
            Permission::AnswerQuestion => "answer-question",
            Permission::SetSeverity => "set-severity",
            Permission::DeclareAwareness => "declare-awareness",
            Permission::DraftComms => "draft-comms",
            Permission::ReviewComms => "review-comms",
            Permission::ApproveComms => "approve-comms",
            Permission::ViewRawEvidence => "view-raw-evidence",
            Permission::ReadAccessAudit => "read-access-audit",
            Permission::RunDrill => "run-drill",
            Permission::RecordHotWash => "record-hot-wash",
            Permission::ExportRecord => "export-record",
        }
    }
}

/// The permission matrix. Observers and auditors watch; auditors also read the access audit and
/// the record. Raw content goes to the DPO and the security lead only.
pub fn grants(role: Role, permission: Permission) -> bool {
    use Permission as P;
    use Role as R;
    match permission {
        P::Public | P::SignedIn | P::ViewExercise => true,
        P::ManageExercise | P::ManageAccounts | P::RecordHotWash => role == R::Facilitator,
        P::LogDecision | P::AnswerQuestion => !matches!(role, R::Observer | R::Auditor),
        P::SetSeverity => matches!(role, R::IncidentLead | R::Facilitator),
        P::DeclareAwareness => matches!(role, R::IncidentLead | R::Dpo | R::Legal),
        P::DraftComms => matches!(role, R::CommsLead | R::IncidentLead),
        P::ReviewComms => matches!(role, R::Legal | R::Dpo | R::CommsLead | R::IncidentLead),
        P::ApproveComms => matches!(role, R::IncidentLead | R::Legal),
        P::ViewRawEvidence => matches!(role, R::Dpo | R::SecurityLead),
        P::ReadAccessAudit => matches!(role, R::Auditor | R::Dpo),
        P::RunDrill => matches!(role, R::Facilitator | R::SecurityLead | R::IncidentLead),
        P::ExportRecord => matches!(role, R::Facilitator | R::Auditor),
    }
}

/// Whether any of `roles` grants `permission`.
pub fn any_grants(roles: &[Role], permission: Permission) -> bool {
    roles.iter().any(|r| grants(*r, permission))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_content_is_for_the_dpo_and_security_lead_only() {
        let granted: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| grants(*r, Permission::ViewRawEvidence))
            .collect();
        assert_eq!(granted, vec![Role::Dpo, Role::SecurityLead]);
    }

    #[test]
    fn observers_cannot_change_anything() {
        for p in [
            Permission::ManageExercise,
            Permission::LogDecision,
            Permission::SetSeverity,
            Permission::DraftComms,
            Permission::ApproveComms,
            Permission::RunDrill,
            Permission::ViewRawEvidence,
        ] {
            assert!(!grants(Role::Observer, p), "{p:?}");
        }
    }

    #[test]
    fn role_keys_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.key()), Some(r));
        }
        assert_eq!(Role::parse("admin"), None);
    }
}
