//! Prints what a reader makes of a file:
//! `cargo run -p muster-ingest --example dump -- [--format F] FILE…`, where F is `otlp` (the
//! default: JSON, protobuf `.pb`, or `.jsonl`), `openai-agents`, `langsmith-multipart`,
//! `langsmith-json`, `zendesk`, `intercom`, `freshdesk`, `salesforce`, `model-logs`, `bedrock`,
//! `splunk-hec` or `datadog`.
use muster_ingest::helpdesk::{self, HelpdeskOptions};
use muster_ingest::{
    BodyFormat, Item, ReadStats, bedrock, langsmith, model_logs, monitoring, openai_agents, otlp,
};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut format = "otlp".to_owned();
    if args.first().map(String::as_str) == Some("--format") && args.len() > 1 {
        format = args.remove(1);
        args.remove(0);
    }
    for path in args {
        let Ok(bytes) = std::fs::read(&path) else {
            eprintln!("cannot read {path}");
            continue;
        };
        let opts = HelpdeskOptions::default();
        let at = Default::default();
        let (items, stats): (Vec<Item>, ReadStats) = match format.as_str() {
            "openai-agents" => openai_agents::read_body(&path, &bytes),
            "langsmith-multipart" => langsmith::read_multipart(&path, &bytes, None),
            "langsmith-json" => langsmith::read_json(&path, &bytes),
            "zendesk" => helpdesk::read_zendesk(&path, &bytes, &opts),
            "intercom" => helpdesk::read_intercom(&path, &bytes, &opts),
            "freshdesk" => helpdesk::read_freshdesk(&path, &bytes, &opts),
            "salesforce" => helpdesk::read_salesforce(&path, &bytes, &opts),
            "model-logs" => lines(model_logs::read_lines(bytes.as_slice(), &path)),
            "bedrock" => lines(bedrock::read_lines(bytes.as_slice(), &path)),
            "splunk-hec" => monitoring::read_hec(&path, &bytes, at),
            "datadog" => monitoring::read_datadog(&path, &bytes, at),
            _ if path.ends_with(".jsonl") => {
                let mut reader = muster_ingest::JsonLinesReader::new(bytes.as_slice(), &path);
                let items: Vec<Item> = reader.by_ref().collect();
                (items, reader.stats())
            }
            _ => {
                let format = match (path.ends_with(".pb"), path.contains("logs")) {
                    (true, true) => BodyFormat::ProtobufLogs,
                    (true, false) => BodyFormat::ProtobufTraces,
                    _ => BodyFormat::Json,
                };
                otlp::read_body(&path, &bytes, format)
            }
        };
        for item in items {
            print(item);
        }
        eprintln!("{stats:?}");
    }
}

fn lines<R: std::io::BufRead>(
    mut reader: muster_ingest::lines::LineReader<R>,
) -> (Vec<Item>, ReadStats) {
    let items: Vec<Item> = reader.by_ref().collect();
    (items, reader.stats())
}

fn print(item: Item) {
    match item.into_result() {
        Ok(e) => println!("{}", serde_json::to_string(&e).unwrap_or_default()),
        Err(q) => println!("QUARANTINED {q}"),
    }
}
