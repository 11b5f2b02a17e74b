use muster_model::agent::AgentManifest;

/// A tier-1 agent: answers from public, versioned help articles, with every governance control
/// declared. Variants change one thing at a time.
pub const BASE: &str = r#"
version: 1
kind: agent
name: help-centre
owner: { name: Sam Okafor }
environment: pre-production
hosts: [127.0.0.1]
model: { provider: openai, name: gpt-test, version: "2026-10-01" }
markets: [GB]
journeys: [billing]
policies:
  - { id: faq, title: FAQ, version: "1" }
target:
  adapter: openai-chat
  base_url: http://127.0.0.1:9000
  openai_chat: { model: gpt-test }
tools: []
data_sources:
  - { id: help-articles, kind: knowledge-base, public: true, versioned: true }
escalation:
  queue: { kind: zendesk, name: web-help, monitored: true, hours: "Mon-Fri 08:00-20:00" }
shutdown_criteria:
  - id: any-wrong-advice
    description: Two wrong answers on fees in an hour
    when: { mode: advice, count: 2, within: 1h }
    approved_by: Head of Service
logs:
  - { id: traces, system: otlp, holds: [prompt, model-response], retention: 90d, access: [dpo] }
governance:
  prohibited_actions: [Quoting prices not on the public tariff]
  dlp_rules: [Never echo card numbers]
  customer_correction: { description: Corrections by email within 2 days, owner: Service Lead }
  human_review_route: { description: Supervisors review escalations, owner: Service Lead }
  log_access_roles: [dpo]
  red_team_scenarios: [scenarios/]
"#;

pub fn base() -> AgentManifest {
    let loaded = muster_model::load_agent(BASE);
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    loaded
        .value
        .unwrap_or_else(|| panic!("base manifest loads"))
}

pub fn from_yaml(yaml: &str) -> AgentManifest {
    let loaded = muster_model::load_agent(yaml);
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    loaded.value.unwrap_or_else(|| panic!("manifest loads"))
}

pub fn reference() -> AgentManifest {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../library/reference/agent.yaml"
    ))
    .unwrap_or_else(|e| panic!("reference manifest: {e}"));
    from_yaml(&text)
}
