//! Prints what the OTLP reader makes of a body: `cargo run -p muster-ingest --example dump -- FILE`.
use muster_ingest::{BodyFormat, otlp};

fn main() {
    for path in std::env::args().skip(1) {
        if path.ends_with(".jsonl") {
            let Ok(file) = std::fs::File::open(&path) else {
                eprintln!("cannot open {path}");
                continue;
            };
            let mut reader =
                muster_ingest::JsonLinesReader::new(std::io::BufReader::new(file), &path);
            for item in reader.by_ref() {
                print(item);
            }
            eprintln!("{:?}", reader.finish());
            continue;
        }
        let Ok(bytes) = std::fs::read(&path) else {
            eprintln!("cannot read {path}");
            continue;
        };
        let format = match (path.ends_with(".pb"), path.contains("logs")) {
            (true, true) => BodyFormat::ProtobufLogs,
            (true, false) => BodyFormat::ProtobufTraces,
            _ => BodyFormat::Json,
        };
        let (items, stats) = otlp::read_body(&path, &bytes, format);
        for item in items {
            print(item);
        }
        eprintln!("{stats:?}");
    }
}

fn print(item: muster_ingest::Item) {
    match item.into_result() {
        Ok(e) => println!("{}", serde_json::to_string(&e).unwrap_or_default()),
        Err(q) => println!("QUARANTINED {q}"),
    }
}
