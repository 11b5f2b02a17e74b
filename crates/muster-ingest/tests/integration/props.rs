//! Nothing a sender can put in a body panics a reader, and every record stays accounted for.

use muster_ingest::{BodyFormat, JsonLinesReader};
use proptest::prelude::*;

use crate::{check_accounting, data, read_bytes};

const FORMATS: [BodyFormat; 3] = [
    BodyFormat::ProtobufTraces,
    BodyFormat::ProtobufLogs,
    BodyFormat::Json,
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        for format in FORMATS {
            read_bytes(&bytes, format);
        }
    }

    /// Mutations of real bodies reach deep into the decoders, where random bytes rarely get.
    #[test]
    fn mutated_fixtures_never_panic(
        which in 0usize..6,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let (name, format) = [
            ("recv_004_v1_traces.pb", BodyFormat::ProtobufTraces),
            ("recv_006_v1_logs.pb", BodyFormat::ProtobufLogs),
            ("recv_029_v1_traces.json", BodyFormat::Json),
            ("recv_031_v1_logs.json", BodyFormat::Json),
            ("azure-foundry/agents-thread-run-stream.json", BodyFormat::Json),
            ("azure-foundry/inference-chat-tool-call.json", BodyFormat::Json),
        ][which];
        let mut bytes = data(name);
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let (items, stats) = read_bytes(&bytes, format);
        prop_assert!(stats.records_mapped + stats.records_quarantined == stats.records);
        let end = cut.index(bytes.len() + 1);
        read_bytes(&bytes[..end], format);
        prop_assert!(items.len() as u64 >= stats.records_quarantined);
    }

    #[test]
    fn arbitrary_json_lines_never_panic(lines in proptest::collection::vec("[ -~]{0,80}", 0..8)) {
        let text = lines.join("\n");
        let mut reader = JsonLinesReader::new(text.as_bytes(), "prop");
        let items: Vec<_> = reader.by_ref().collect();
        check_accounting(&items, &reader.stats());
    }
}

/// Every native reader, on a body: bytes in, accounted items out.
fn native_readers(bytes: &[u8]) {
    use muster_ingest::helpdesk::{self, HelpdeskOptions};
    use muster_ingest::{bedrock, langfuse, langsmith, model_logs, monitoring, openai_agents};
    let opts = HelpdeskOptions {
        conversation_field: Some("cf_x".to_owned()),
    };
    let results = [
        openai_agents::read_body("p", bytes),
        langsmith::read_multipart("p", bytes, None),
        langsmith::read_multipart("p", bytes, Some("b")),
        langsmith::read_json("p", bytes),
        langfuse::read_body("p", bytes),
        helpdesk::read_zendesk("p", bytes, &opts),
        helpdesk::read_intercom("p", bytes, &opts),
        helpdesk::read_freshdesk("p", bytes, &opts),
        helpdesk::read_salesforce("p", bytes, &opts),
        model_logs::read_body("p", bytes, Default::default()),
        bedrock::read_body("p", bytes, Default::default()),
        monitoring::read_hec("p", bytes, Default::default()),
        monitoring::read_datadog("p", bytes, Default::default()),
    ];
    for (items, stats) in results {
        check_accounting(&items, &stats);
    }
}

const NATIVE_SAMPLES: [&str; 15] = [
    "bedrock/model-invocation-logs.jsonl",
    "langfuse/trace-full-details.json",
    "langfuse/observations-v2-sample.json",
    "openai-agents/traces-ingest-chat-handoff.json",
    "langsmith/runs-multipart.body",
    "intercom/conversation.example.json",
    "zendesk/list-audits.json",
    "zendesk/incremental-ticket-events.json",
    "zendesk/incremental-tickets-sample.json",
    "freshdesk/view-ticket.json",
    "freshdesk/list-conversations.json",
    "salesforce/query-case-history.json",
    "model-logs/pairs.jsonl",
    "splunk/hec-events.json",
    "datadog/list-logs-page2.json",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn native_readers_never_panic_on_arbitrary_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..1024),
    ) {
        native_readers(&bytes);
    }

    /// Mutated and truncated samples reach the per-record mapping, where random bytes do not.
    #[test]
    fn native_readers_never_panic_on_mutated_samples(
        which in 0usize..NATIVE_SAMPLES.len(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = data(NATIVE_SAMPLES[which]);
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        native_readers(&bytes);
        let end = cut.index(bytes.len() + 1);
        native_readers(&bytes[..end]);
    }

    /// Structure-preserving damage: JSON values swapped for other types, so records parse as
    /// JSON but not as the vendor's shape.
    #[test]
    fn native_readers_never_panic_on_retyped_fields(
        which in 0usize..NATIVE_SAMPLES.len(),
        seed in any::<u64>(),
    ) {
        let bytes = data(NATIVE_SAMPLES[which]);
        if let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
            retype(&mut v, seed, 0);
            native_readers(v.to_string().as_bytes());
        }
    }
}

fn retype(v: &mut serde_json::Value, seed: u64, depth: u32) {
    use serde_json::Value;
    let pick = seed.rotate_left(depth * 7) % 11;
    match v {
        Value::Object(o) => {
            for (i, (_, x)) in o.iter_mut().enumerate() {
                retype(x, seed.wrapping_mul(31).wrapping_add(i as u64), depth + 1);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter_mut().enumerate() {
                retype(x, seed.wrapping_mul(17).wrapping_add(i as u64), depth + 1);
            }
        }
        _ => {}
    }
    *v = match pick {
        0 => Value::Null,
        1 => Value::from(-1),
        2 => Value::from("x"),
        3 => Value::from(1e300),
        _ => return,
    };
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The line-oriented readers, including the mapped CSV and JSON Lines readers.
    #[test]
    fn line_readers_never_panic(lines in proptest::collection::vec("[ -~\"',{}:]{0,60}", 0..8)) {
        use muster_ingest::generic::{self, Mapping};
        use muster_ingest::{langfuse, model_logs, monitoring};
        let text = lines.join("\n");
        let mapping = Mapping {
            system: "p".to_owned(),
            time: "a".to_owned(),
            kind_field: Some("b".to_owned()),
            content: Some("c".to_owned()),
            conversation_id: Some("d.e".to_owned()),
            ..Mapping::default()
        };
        let mut r = generic::read_csv(text.as_bytes(), "p", mapping.clone());
        let items: Vec<_> = r.by_ref().collect();
        check_accounting(&items, &r.stats());
        let mut r = generic::read_jsonl(text.as_bytes(), "p", mapping);
        let items: Vec<_> = r.by_ref().collect();
        check_accounting(&items, &r.stats());
        let mut r = model_logs::read_lines(text.as_bytes(), "p");
        let items: Vec<_> = r.by_ref().collect();
        check_accounting(&items, &r.stats());
        let mut r = monitoring::read_hec_lines(text.as_bytes(), "p");
        let items: Vec<_> = r.by_ref().collect();
        check_accounting(&items, &r.stats());
        let mut r = langfuse::read_lines(text.as_bytes(), "p");
        let items: Vec<_> = r.by_ref().collect();
        check_accounting(&items, &r.stats());
    }
}
