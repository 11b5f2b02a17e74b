//! The native-format readers (Agents SDK, LangSmith, Langfuse, helpdesks and CRM, model logs, Bedrock,
//! Splunk, Datadog, the mapped CSV/JSON Lines reader) over arbitrary bytes: never panic, and
//! every record is accounted for with counts matching the items.
#![no_main]

use libfuzzer_sys::fuzz_target;
use muster_ingest::helpdesk::{self, HelpdeskOptions};
use muster_ingest::{
    Item, ReadStats, bedrock, generic, langfuse, langsmith, model_logs, monitoring, openai_agents,
};

fn check(items: &[Item], stats: &ReadStats) {
    assert_eq!(
        stats.records,
        stats.records_mapped + stats.records_quarantined,
        "{stats:?}"
    );
    let events = items.iter().filter(|i| i.event().is_some()).count() as u64;
    let quarantined = items.len() as u64 - events;
    assert_eq!(
        (stats.events, stats.quarantined),
        (events, quarantined),
        "{stats:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let opts = HelpdeskOptions {
        conversation_field: Some("cf_conversation".to_owned()),
    };
    let at = Default::default();
    for (items, stats) in [
        openai_agents::read_body("fuzz", data),
        langsmith::read_multipart("fuzz", data, None),
        langsmith::read_json("fuzz", data),
        langfuse::read_body("fuzz", data),
        helpdesk::read_zendesk("fuzz", data, &opts),
        helpdesk::read_intercom("fuzz", data, &opts),
        helpdesk::read_freshdesk("fuzz", data, &opts),
        helpdesk::read_salesforce("fuzz", data, &opts),
        model_logs::read_body("fuzz", data, at),
        bedrock::read_body("fuzz", data, at),
        monitoring::read_hec("fuzz", data, at),
        monitoring::read_datadog("fuzz", data, at),
    ] {
        check(&items, &stats);
    }
    let mapping = generic::Mapping {
        system: "fuzz".to_owned(),
        time: "t".to_owned(),
        content: Some("c".to_owned()),
        ..generic::Mapping::default()
    };
    let mut reader = generic::read_csv(data, "fuzz", mapping.clone());
    let items: Vec<Item> = reader.by_ref().collect();
    check(&items, &reader.stats());
    let mut reader = generic::read_jsonl(data, "fuzz", mapping);
    let items: Vec<Item> = reader.by_ref().collect();
    check(&items, &reader.stats());
});
