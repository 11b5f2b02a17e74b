//! `evidence.jsonl`: the drill's sealed events, one JSON object a line, in storage order. A field
//! holding personal data is withheld (its value removed, its digest kept, a masked copy shown for
//! readers), so the chain still verifies through the field digests.

use std::collections::BTreeMap;
use std::io::Write;

use muster_evidence::{Digest, Field, SealedEvent, StreamHead, VerifyReport, verify_drill};
use serde_json::{Map, Value, json};

use crate::error::PackError;
use crate::redact::Redactor;

/// Writes `events` to `out`; returns how many field values were withheld.
pub fn write_evidence(
    events: &[SealedEvent],
    include_raw: bool,
    out: &mut impl Write,
) -> Result<u64, PackError> {
    let mut withheld = 0u64;
    for e in events {
        let fields: Vec<Value> = e
            .fields
            .iter()
            .map(|f| {
                let mut field = Map::new();
                field.insert("name".into(), Value::String(f.name.clone()));
                field.insert("digest".into(), Value::String(f.digest.to_hex()));
                match &f.value {
                    Some(v) if include_raw || !Redactor::holds_personal_data(v) => {
                        field.insert("value".into(), v.clone());
                    }
                    Some(v) => {
                        withheld += 1;
                        field.insert("withheld".into(), Value::String("personal-data".into()));
                        field.insert("masked".into(), Redactor::masked(v));
                    }
                    None => {
                        field.insert("withheld".into(), Value::String("redacted-in-store".into()));
                    }
                }
                Value::Object(field)
            })
            .collect();
        let line = json!({
            "drill_id": e.drill_id,
            "stream": e.stream,
            "seq": e.seq,
            "time_ns": e.time_ns,
            "kind": e.kind,
            "prev": e.prev.to_hex(),
            "digest": e.digest.to_hex(),
            "fields": fields,
        });
        serde_json::to_writer(&mut *out, &line).map_err(|e| PackError::Encode(e.to_string()))?;
        out.write_all(b"\n")
            .map_err(|e| PackError::Io(format!("cannot write evidence: {e}")))?;
    }
    Ok(withheld)
}

/// Reads `evidence.jsonl` back into sealed events (withheld fields have no value).
pub fn read_evidence(text: &str) -> Result<Vec<SealedEvent>, String> {
    text.lines()
        .enumerate()
        .map(|(i, line)| parse_line(line).map_err(|why| format!("line {}: {why}", i + 1)))
        .collect()
}

fn parse_line(line: &str) -> Result<SealedEvent, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON ({e})"))?;
    let s = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("`{k}` is missing or not a string"))
    };
    let digest = |k: &str| -> Result<Digest, String> {
        s(k)?
            .parse()
            .map_err(|e: muster_evidence::DigestParseError| e.to_string())
    };
    let fields = v
        .get("fields")
        .and_then(Value::as_array)
        .ok_or("`fields` is missing")?
        .iter()
        .map(|f| {
            let name = f
                .get("name")
                .and_then(Value::as_str)
                .ok_or("a field has no `name`")?
                .to_owned();
            let digest: Digest = f
                .get("digest")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("field `{name}` has no `digest`"))?
                .parse()
                .map_err(|e: muster_evidence::DigestParseError| e.to_string())?;
            Ok(Field {
                value: f.get("value").cloned(),
                name,
                digest,
            })
        })
        .collect::<Result<Vec<Field>, String>>()?;
    Ok(SealedEvent {
        drill_id: s("drill_id")?,
        stream: s("stream")?,
        seq: v
            .get("seq")
            .and_then(Value::as_u64)
            .ok_or("`seq` is missing")?,
        time_ns: v
            .get("time_ns")
            .and_then(Value::as_i64)
            .ok_or("`time_ns` is missing")?,
        kind: s("kind")?,
        fields,
        prev: digest("prev")?,
        digest: digest("digest")?,
    })
}

/// The stream the drill's addenda (approvals and other records made after the seal) are chained
/// under, starting from the drill's root digest.
pub const ADDENDA_STREAM: &str = "addenda";

/// Checks the drill events' chains and that their heads give `root` (the root the pack states),
/// then the addenda's chain, which starts from that root.
pub fn verify_evidence(drill_id: &str, events: &[SealedEvent], root: Digest) -> VerifyReport {
    let (addenda, drill): (Vec<SealedEvent>, Vec<SealedEvent>) = events
        .iter()
        .cloned()
        .partition(|e| e.stream == ADDENDA_STREAM);
    let mut heads: BTreeMap<&str, (u64, Digest)> = BTreeMap::new();
    for e in &drill {
        let entry = heads.entry(e.stream.as_str()).or_insert((0, e.digest));
        entry.0 += 1;
        entry.1 = e.digest;
    }
    let heads: Vec<StreamHead> = heads
        .into_iter()
        .map(|(stream, (length, head))| StreamHead {
            stream: stream.to_owned(),
            length,
            head,
        })
        .collect();
    let mut report = verify_drill(drill_id, &drill, Some((&heads, root)));
    report.problems.extend(muster_evidence::verify_chain_from(
        drill_id,
        ADDENDA_STREAM,
        &addenda,
        root,
    ));
    report.events_checked += addenda.len() as u64;
    if !addenda.is_empty() {
        report.streams_checked += 1;
    }
    report
}
