//! Prompt-injection indicators in customer-supplied content: messages, return notes, emails,
//! ticket text and retrieved documents.

use crate::finding::Finding;

/// A kind of injection indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InjectionKind {
    /// "ignore previous instructions", "disregard any rules".
    InstructionOverride,
    /// Text posing as the system, developer or a tool.
    RoleImpersonation,
    /// Asks the agent to call a tool, raise a limit or take an action on its own authority.
    ToolRequest,
    /// "end every answer with…", "say this is legally binding".
    OutputSteering,
    /// HTML, script, markdown images or links that would render for a human agent.
    MarkupSmuggling,
    /// Base64, hex, Unicode tag characters, zero-width characters.
    EncodedPayload,
}

impl InjectionKind {
    pub const ALL: [InjectionKind; 6] = [
        InjectionKind::InstructionOverride,
        InjectionKind::RoleImpersonation,
        InjectionKind::ToolRequest,
        InjectionKind::OutputSteering,
        InjectionKind::MarkupSmuggling,
        InjectionKind::EncodedPayload,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InjectionKind::InstructionOverride => "instruction-override",
            InjectionKind::RoleImpersonation => "role-impersonation",
            InjectionKind::ToolRequest => "tool-request",
            InjectionKind::OutputSteering => "output-steering",
            InjectionKind::MarkupSmuggling => "markup-smuggling",
            InjectionKind::EncodedPayload => "encoded-payload",
        }
    }

    pub fn from_name(name: &str) -> Option<InjectionKind> {
        InjectionKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// Appends every injection indicator in `text` to `out`.
pub fn find(text: &str, out: &mut Vec<Finding>) {
    let _ = (text, out);
}
