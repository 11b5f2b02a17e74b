//! Any JSON Lines or CSV export, read through a declared [`Mapping`]: which field is the time,
//! the text, each correlation key, and what kind of event a row is. For the systems muster has no
//! reader for (a home-grown chat log, a CRM's CSV export). Read one line at a time; in CSV a row is
//! one line (a quoted field holding a line break is not supported: the broken row is quarantined).
//!
//! Fields are named by dotted path (`user.id`, `attributes.conversation_id`) in JSON and by column
//! header in CSV. A row without a readable time is quarantined.

use serde_json::{Map, Value};

use crate::common::{Doc, Ev, Out, Rec, attr_key, parse_body, text};
use crate::event::{ActorRole, Correlation, EventKind};
use crate::lines::LineReader;
use crate::otlp::BodyLocation;
use crate::time::{self, EpochUnit};

/// How rows of an export become events: `muster.toml`'s `[ingest.mappings.NAME]`, declared
/// (and schema-checked) in `muster-model`, so the file and the reader cannot disagree. Fields are
/// described there and in `docs/cli.md`.
pub use muster_model::config::{
    FieldMapping as Mapping, MappedActorRole, MappedKind, MappedTimeUnit as TimeUnit,
};

/// A Salesforce CaseHistory CSV export in the Data Loader / Bulk API layout, whose headers are
/// the upper-case API names: each row a field change of a Case, made by staff.
pub fn salesforce_case_history_csv() -> Mapping {
    Mapping {
        system: "salesforce".to_owned(),
        time: "CREATEDDATE".to_owned(),
        kind: Some(MappedKind::AccountChange),
        case_id: Some("CASEID".to_owned()),
        field: Some("FIELD".to_owned()),
        before: Some("OLDVALUE".to_owned()),
        after: Some("NEWVALUE".to_owned()),
        actor: Some("CREATEDBYID".to_owned()),
        actor_role: Some(MappedActorRole::Staff),
        ..Mapping::default()
    }
}

fn role(r: MappedActorRole) -> ActorRole {
    match r {
        MappedActorRole::Customer => ActorRole::Customer,
        MappedActorRole::Agent => ActorRole::Agent,
        MappedActorRole::Model => ActorRole::Model,
        MappedActorRole::Tool => ActorRole::Tool,
        MappedActorRole::Staff => ActorRole::Staff,
        MappedActorRole::System => ActorRole::System,
    }
}

impl From<TimeUnit> for EpochUnit {
    fn from(u: TimeUnit) -> Self {
        match u {
            TimeUnit::Seconds => EpochUnit::Seconds,
            TimeUnit::Millis => EpochUnit::Millis,
            TimeUnit::Micros => EpochUnit::Micros,
            TimeUnit::Nanos => EpochUnit::Nanos,
        }
    }
}

const JSONL: &str = "mapped-jsonl";
const CSV: &str = "mapped-csv";

/// A JSON Lines export, one object per line.
pub fn read_jsonl<R: std::io::BufRead>(
    input: R,
    origin: impl Into<String>,
    mapping: Mapping,
) -> LineReader<R> {
    LineReader::new(input, origin, JSONL, move |origin, line, at| {
        let mut out = Out::default();
        out.stats.bodies = 1;
        let d = doc(origin, JSONL, at);
        match parse_body(line) {
            Ok(Value::Object(o)) => {
                let result = map_row(&d, &mapping, &o);
                out.record(&d, "", &Value::Object(o), result);
            }
            Ok(other) => out.record(&d, "", &other, Err("a row is not a JSON object".to_owned())),
            Err(reason) => out.record_failed(&d, "", reason, &String::from_utf8_lossy(line)),
        }
        out.finish()
    })
}

/// A CSV export with a header row.
pub fn read_csv<R: std::io::BufRead>(
    input: R,
    origin: impl Into<String>,
    mapping: Mapping,
) -> LineReader<R> {
    let mut header: Option<Vec<String>> = None;
    LineReader::new(input, origin, CSV, move |origin, line, at| {
        let mut out = Out::default();
        out.stats.bodies = 1;
        let d = doc(origin, CSV, at);
        let text = String::from_utf8_lossy(line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line));
        let cells = match split_csv(&text) {
            Ok(c) => c,
            Err(reason) => {
                out.record_failed(&d, "", reason, &text);
                return out.finish();
            }
        };
        let Some(names) = &header else {
            // The header is not a record: it names the columns.
            header = Some(cells);
            return out.finish();
        };
        if cells.len() != names.len() {
            out.record_failed(
                &d,
                "",
                format!("{} cells where the header has {}", cells.len(), names.len()),
                &text,
            );
            return out.finish();
        }
        let row: Map<String, Value> = names
            .iter()
            .cloned()
            .zip(cells.into_iter().map(Value::String))
            .collect();
        let result = map_row(&d, &mapping, &row);
        out.record(&d, "", &Value::Object(row), result);
        out.finish()
    })
}

fn doc<'a>(origin: &'a str, format: &'static str, at: BodyLocation) -> Doc<'a> {
    Doc {
        origin,
        system: "mapped",
        format,
        at,
    }
}

/// RFC 4180 cells of one line: commas, quoted cells with `""` for a quote.
fn split_csv(line: &str) -> Result<Vec<String>, String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') if cell.is_empty() && !was_quoted => {
                quoted = true;
                was_quoted = true;
            }
            (false, ',') => {
                cells.push(std::mem::take(&mut cell));
                was_quoted = false;
            }
            (false, '\r') if chars.peek().is_none() => {}
            (false, c) => cell.push(c),
        }
    }
    if quoted {
        return Err("a quoted cell is not closed on its line".to_owned());
    }
    cells.push(cell);
    Ok(cells)
}

fn get<'v>(row: &'v Map<String, Value>, path: &str) -> Option<&'v Value> {
    if let Some(v) = row.get(path) {
        return Some(v);
    }
    let (head, rest) = path.split_once('.')?;
    get(row.get(head)?.as_object()?, rest)
}

fn field(row: &Map<String, Value>, path: Option<&String>) -> Option<String> {
    text(get(row, path?))
}

fn map_row(
    d: &Doc<'_>,
    m: &Mapping,
    row: &Map<String, Value>,
) -> Result<Vec<crate::EvidenceEvent>, String> {
    let raw_time = get(row, &m.time)
        .filter(|v| !v.is_null() && v.as_str() != Some(""))
        .ok_or_else(|| format!("no time: `{}` is missing or empty", m.time))?;
    let t = match (m.time_unit, raw_time) {
        (Some(u), Value::Number(n)) => time::from_epoch_str(&n.to_string(), u.into()),
        (Some(u), Value::String(s))
            if s.trim()
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-') =>
        {
            time::from_epoch_str(s.trim(), u.into())
        }
        (_, v) => time::parse_json(v),
    }
    .map_err(|e| format!("`{}`: {e}", m.time))?;
    let kind = m
        .kind_field
        .as_ref()
        .and_then(|f| field(row, Some(f)))
        .and_then(|v| m.kinds.get(&v).copied())
        .or(m.kind)
        .unwrap_or(MappedKind::Other);
    let value = |p: &Option<String>| {
        p.as_ref()
            .and_then(|p| get(row, p))
            .filter(|v| !v.is_null())
            .cloned()
    };
    let kind = match kind {
        MappedKind::CustomerMessage => EventKind::CustomerMessage { channel: None },
        MappedKind::AgentMessage => EventKind::AgentMessage {
            finish_reason: None,
        },
        MappedKind::TicketEvent => EventKind::TicketEvent {
            action: field(row, m.action.as_ref()),
            field: field(row, m.field.as_ref()),
            before: value(&m.before),
            after: value(&m.after),
        },
        MappedKind::AccountChange => EventKind::AccountChange {
            entity: None,
            record_id: field(row, m.case_id.as_ref())
                .or_else(|| field(row, m.customer_ref.as_ref())),
            field: field(row, m.field.as_ref()),
            before: value(&m.before),
            after: value(&m.after),
        },
        MappedKind::Alert => EventKind::Alert {
            name: field(row, m.action.as_ref()),
            status: field(row, m.after.as_ref()),
            severity: None,
        },
        MappedKind::EscalationDecision => EventKind::EscalationDecision {
            decision: field(row, m.action.as_ref()),
            from: field(row, m.before.as_ref()),
            to: field(row, m.after.as_ref()),
            reason: None,
        },
        MappedKind::Other => EventKind::Other {
            name: m.system.clone(),
            operation: None,
        },
    };
    let mut corr = Correlation::default();
    if let Some(v) = field(row, m.conversation_id.as_ref()) {
        corr.conversation_id = Some(v);
        corr.conversation_from = m.conversation_id.as_deref().and_then(attr_key);
    }
    if let Some(v) = field(row, m.customer_ref.as_ref()) {
        corr.customer_ref = Some(v);
        corr.customer_from = m.customer_ref.as_deref().and_then(attr_key);
    }
    corr.trace_id = field(row, m.trace_id.as_ref());
    corr.span_id = field(row, m.span_id.as_ref());
    corr.ticket_id = field(row, m.ticket_id.as_ref());
    corr.case_id = field(row, m.case_id.as_ref());
    let source = crate::event::Source {
        system: m.system.clone(),
        format: d.format.to_owned(),
        conventions: Vec::new(),
        service: None,
        scope: None,
    };
    let mut rec = Rec::new(d, String::new(), source, corr, t);
    let mut ev = Ev::new(t, kind)
        .content(field(row, m.content.as_ref()))
        .attributes(row.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
    if let Some(r) = m.actor_role {
        ev = ev.by(role(r), field(row, m.actor.as_ref()));
    }
    rec.push(ev);
    Ok(rec.finish())
}
