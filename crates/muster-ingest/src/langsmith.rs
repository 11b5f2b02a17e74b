//! LangSmith runs: the `POST /runs/multipart` body the current SDK sends (one part per field
//! group: `post.<id>`, `post.<id>.inputs`, `.outputs`, `.events`, `.extra`, `.serialized`, and
//! `patch.<id>…` for updates), and the JSON shapes of older clients and of exports: `POST
//! /runs/batch` (`{post: […], patch: […]}`), a `/runs/query` page (`{runs: […]}`), a list of
//! runs or one run.
//!
//! A run is one record. The conversation is `extra.metadata.thread_id`, `conversation_id` or
//! `session_id` — never the run's top-level `session_id`, which is the *project*. Times are the
//! run's `start_time`/`end_time`; a run without `start_time` is timed by the last segment of its
//! `dotted_order` (`YYYYMMDDTHHMMSSffffffZ<run id>`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::chat::{content_text, exchange_events, messages};
use crate::common::{
    Doc, Ev, Out, Rec, attr_key, document, excerpt_of, maybe_json, parse_body, rest, str_at, text,
    time_at,
};
use crate::event::{ActorRole, Correlation, EventKind, EvidenceEvent, ToolCallPhase};
use crate::otlp::BodyLocation;
use crate::quarantine::{Item, ReadStats};
use crate::time;

const SYSTEM: &str = "langsmith";
const MULTIPART: &str = "langsmith-runs-multipart";
const JSON: &str = "langsmith-runs-json";

/// Metadata keys LangSmith groups runs into threads by, in the order they are preferred.
const THREAD_KEYS: [&str; 3] = ["thread_id", "conversation_id", "session_id"];
const CUSTOMER_KEYS: [&str; 4] = ["customer_id", "user_id", "customer", "user"];

/// Read a `multipart/form-data` body of `POST /runs/multipart`. `boundary` is the one from the
/// request's `Content-Type`; without it the body's first delimiter line is used.
pub fn read_multipart(origin: &str, body: &[u8], boundary: Option<&str>) -> (Vec<Item>, ReadStats) {
    let doc = Doc {
        origin,
        system: SYSTEM,
        format: MULTIPART,
        at: BodyLocation::default(),
    };
    let mut out = Out::default();
    out.stats.bodies = 1;
    let parts = match split_multipart(body, boundary) {
        Ok(p) => p,
        Err(reason) => {
            out.body_failed(&doc, reason, body);
            return out.finish();
        }
    };
    // Group the parts by run, in the order runs first appear; a part that is not JSON is
    // quarantined on its own and its run read without it.
    let mut runs: Vec<(String, Map<String, Value>)> = Vec::new();
    for part in parts {
        let Some((op, id, field)) = split_name(&part.name) else {
            out.record_failed(
                &doc,
                &part.name,
                format!("part name `{}` is not `<op>.<run id>[.<field>]`", part.name),
                &String::from_utf8_lossy(part.body),
            );
            continue;
        };
        if op == "attachment" || op == "feedback" {
            // Attachments are binary payloads of a run and feedback is a separate record
            // type; both are counted and kept as raw pointers, not mapped into run events.
            out.record_mapped(Vec::new());
            continue;
        }
        let value: Value = match parse_body(part.body) {
            Ok(v) => v,
            Err(reason) => {
                out.record_failed(
                    &doc,
                    &part.name,
                    reason,
                    &String::from_utf8_lossy(part.body),
                );
                continue;
            }
        };
        let key = format!("{op}.{id}");
        let at = match runs.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                runs.push((key, Map::new()));
                runs.len() - 1
            }
        };
        let run = &mut runs[at].1;
        match (field, value) {
            (None, Value::Object(base)) => {
                for (k, v) in base {
                    run.entry(k).or_insert(v);
                }
            }
            (None, other) => {
                out.record_failed(
                    &doc,
                    &part.name,
                    "a run part is not a JSON object".to_owned(),
                    &excerpt_of(&other),
                );
            }
            (Some(field), v) => {
                run.insert(field.to_owned(), v);
            }
        }
    }
    for (key, run) in runs {
        let id_from_name = key.split_once('.').map(|(_, id)| id.to_owned());
        let mut run = run;
        if !run.contains_key("id")
            && let Some(id) = id_from_name
        {
            run.insert("id".to_owned(), Value::String(id));
        }
        let result = map_run(&doc, &key, &run);
        out.record(&doc, &key, &Value::Object(run), result);
    }
    out.finish()
}

/// Read runs as JSON: a batch, a query page, a list, or one run.
pub fn read_json(origin: &str, body: &[u8]) -> (Vec<Item>, ReadStats) {
    let doc = Doc {
        origin,
        system: SYSTEM,
        format: JSON,
        at: BodyLocation::default(),
    };
    let mut out = Out::default();
    out.stats.bodies = 1;
    let value = match parse_body(body) {
        Ok(v) => v,
        Err(reason) => {
            out.body_failed(&doc, reason, body);
            return out.finish();
        }
    };
    let lists: Vec<(&str, &Vec<Value>)> = match &value {
        Value::Array(a) => vec![("", a)],
        Value::Object(o) => {
            let lists: Vec<_> = ["post", "patch", "runs"]
                .into_iter()
                .filter_map(|k| o.get(k).and_then(Value::as_array).map(|a| (k, a)))
                .collect();
            if lists.is_empty() {
                if o.contains_key("id") && (o.contains_key("run_type") || o.contains_key("name")) {
                    let result = map_run(&doc, "", o);
                    out.record(&doc, "", &value, result);
                } else {
                    out.body_failed(
                        &doc,
                        "not LangSmith runs: no `post`, `patch` or `runs` list and not a run"
                            .to_owned(),
                        body,
                    );
                }
                return out.finish();
            }
            lists
        }
        _ => {
            out.body_failed(
                &doc,
                "not LangSmith runs: not an object or a list".to_owned(),
                body,
            );
            return out.finish();
        }
    };
    for (key, list) in lists {
        for (i, run) in list.iter().enumerate() {
            let record = if key.is_empty() {
                format!("/{i}")
            } else {
                format!("/{key}/{i}")
            };
            let result = match run.as_object() {
                Some(o) => map_run(&doc, &record, o),
                None => Err("a run is not a JSON object".to_owned()),
            };
            out.record(&doc, &record, run, result);
        }
    }
    out.finish()
}

struct Part<'a> {
    name: String,
    body: &'a [u8],
}

/// Split a multipart body into its parts (RFC 7578). Bodies are found by the next delimiter,
/// so a wrong `Content-Length` cannot shift the parts that follow.
fn split_multipart<'a>(body: &'a [u8], boundary: Option<&str>) -> Result<Vec<Part<'a>>, String> {
    let boundary = match boundary {
        Some(b) => b.trim_matches('"').to_owned(),
        None => {
            let first = body.split(|&b| b == b'\n').next().unwrap_or_default();
            let first = first.strip_suffix(b"\r").unwrap_or(first);
            let b = first
                .strip_prefix(b"--")
                .filter(|b| !b.is_empty())
                .ok_or("not a multipart body: it does not start with a `--boundary` line")?;
            String::from_utf8_lossy(b).into_owned()
        }
    };
    let delim = format!("--{boundary}");
    let finder = memchr::memmem::Finder::new(delim.as_bytes());
    let mut at = finder
        .find(body)
        .ok_or_else(|| format!("no `{delim}` delimiter in the body"))?;
    let mut parts = Vec::new();
    loop {
        let after = &body[at + delim.len()..];
        if after.starts_with(b"--") {
            break;
        }
        let Some(next) = finder.find(after) else {
            return Err(format!(
                "the body ends without its closing `{delim}--` after {} parts",
                parts.len()
            ));
        };
        let chunk = &after[..next];
        let chunk = chunk
            .strip_prefix(b"\r\n")
            .or_else(|| chunk.strip_prefix(b"\n"))
            .unwrap_or(chunk);
        // The CRLF before the next delimiter belongs to the delimiter.
        let chunk = chunk
            .strip_suffix(b"\r\n")
            .or_else(|| chunk.strip_suffix(b"\n"))
            .unwrap_or(chunk);
        let (head, content) = match memchr::memmem::find(chunk, b"\r\n\r\n") {
            Some(i) => (&chunk[..i], &chunk[i + 4..]),
            None => match memchr::memmem::find(chunk, b"\n\n") {
                Some(i) => (&chunk[..i], &chunk[i + 2..]),
                None => (chunk, &chunk[chunk.len()..]),
            },
        };
        let head = String::from_utf8_lossy(head);
        let name = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))
            .and_then(|l| l.split("name=\"").nth(1))
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_default()
            .to_owned();
        parts.push(Part {
            name,
            body: content,
        });
        at += delim.len() + next;
    }
    Ok(parts)
}

/// `post.<id>.inputs` → (`post`, `<id>`, `Some("inputs")`). Run ids are UUIDs, without dots.
fn split_name(name: &str) -> Option<(&str, &str, Option<&str>)> {
    let mut it = name.splitn(3, '.');
    let op = it.next().filter(|s| !s.is_empty())?;
    let id = it.next().filter(|s| !s.is_empty())?;
    Some((op, id, it.next()))
}

/// The time in the last segment of a `dotted_order`.
fn dotted_time(dotted: &str) -> Option<i64> {
    let last = dotted.rsplit('.').next()?;
    let stamp = last.get(..last.find('Z')? + 1)?;
    time::parse(stamp).ok()
}

fn map_run(
    doc: &Doc<'_>,
    record: &str,
    run: &Map<String, Value>,
) -> Result<Vec<EvidenceEvent>, String> {
    let start = time_at(run, "start_time")?;
    let end = time_at(run, "end_time")?;
    let dotted = str_at(run, "dotted_order").and_then(dotted_time);
    let (start, basis_observed) = match (start, dotted, end) {
        (Some(s), _, _) => (s, false),
        (None, Some(d), _) => (d, false),
        // A patch carries only the end: the run's start is in an earlier post.
        (None, None, Some(e)) => (e, true),
        (None, None, None) => {
            return Err("a run with no `start_time`, `dotted_order` or `end_time`".to_owned());
        }
    };
    let extra = run.get("extra").and_then(Value::as_object);
    let metadata = extra
        .and_then(|e| e.get("metadata"))
        .and_then(Value::as_object);
    let mut corr = Correlation {
        trace_id: text(run.get("trace_id")),
        span_id: text(run.get("id")),
        parent_span_id: text(run.get("parent_run_id")),
        ..Correlation::default()
    };
    if let Some(m) = metadata {
        if let Some((v, k)) = THREAD_KEYS
            .iter()
            .find_map(|k| text(m.get(*k)).map(|v| (v, *k)))
        {
            corr.conversation_id = Some(v);
            corr.conversation_from = attr_key(&format!("extra.metadata.{k}"));
        }
        if let Some((v, k)) = CUSTOMER_KEYS
            .iter()
            .find_map(|k| text(m.get(*k)).map(|v| (v, *k)))
        {
            corr.customer_ref = Some(v);
            corr.customer_from = attr_key(&format!("extra.metadata.{k}"));
        }
    }
    let name = text(run.get("name"));
    let run_type = str_at(run, "run_type").unwrap_or("unknown");
    let error = text(run.get("error"));
    let inputs = run.get("inputs").filter(|v| !v.is_null());
    let outputs = run.get("outputs").filter(|v| !v.is_null());
    let mut attributes = rest(
        run,
        &[
            "id",
            "name",
            "run_type",
            "start_time",
            "end_time",
            "trace_id",
            "parent_run_id",
            "error",
            "inputs",
            "outputs",
            "extra",
        ],
    );
    if let Some(e) = extra {
        attributes.extend(
            e.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (format!("extra.{k}"), v.clone())),
        );
    }
    let mut rec = Rec::new(
        doc,
        record.to_owned(),
        doc.source(None),
        corr,
        end.unwrap_or(start),
    );
    let base = |k: EventKind| {
        let ev = Ev::new(start, k).ending(end);
        if basis_observed {
            ev.observed_basis()
        } else {
            ev
        }
    };
    match run_type {
        "llm" => {
            let usage = usage(run, outputs);
            let meta_text = |k: &str| metadata.and_then(|m| text(m.get(k)));
            rec.push(
                base(EventKind::ModelCall {
                    operation: Some("chat".to_owned()),
                    provider: meta_text("ls_provider"),
                    request_model: meta_text("ls_model_name"),
                    response_model: outputs
                        .and_then(|o| o.get("model"))
                        .and_then(|m| text(Some(m))),
                    response_id: outputs
                        .and_then(|o| o.get("id"))
                        .and_then(|m| text(Some(m))),
                    parameters: BTreeMap::new(),
                    usage,
                    finish_reasons: Vec::new(),
                    error,
                })
                .by(ActorRole::Model, meta_text("ls_model_name"))
                .attributes(attributes),
            );
            let input = inputs
                .and_then(|i| i.get("messages"))
                // LangChain chat models log a batch: `[[…messages…]]`.
                .map(|m| match m {
                    Value::Array(a) if a.first().is_some_and(Value::is_array) => a[0].clone(),
                    other => other.clone(),
                });
            let output = outputs
                .and_then(|o| o.get("choices"))
                .and_then(Value::as_array)
                .map(|choices| {
                    Value::Array(
                        choices
                            .iter()
                            .filter_map(|c| {
                                let mut m = c.get("message")?.clone();
                                if let (Value::Object(mo), Some(f)) =
                                    (&mut m, c.get("finish_reason"))
                                {
                                    mo.insert("finish_reason".to_owned(), f.clone());
                                }
                                Some(m)
                            })
                            .collect(),
                    )
                });
            exchange_events(
                &mut rec,
                start,
                end,
                None,
                messages(input.as_ref()),
                messages(output.as_ref()),
            );
        }
        "retriever" => {
            let query = inputs.and_then(|i| match i {
                Value::String(s) => Some(s.clone()),
                Value::Object(o) => ["query", "q", "question", "input"]
                    .iter()
                    .find_map(|k| text(o.get(*k))),
                _ => None,
            });
            let docs = outputs
                .and_then(|o| o.get("output").or_else(|| o.get("documents")))
                .and_then(Value::as_array)
                .map(|list| list.iter().filter_map(document).collect())
                .unwrap_or_default();
            rec.push(
                base(EventKind::Retrieval {
                    data_source: name.clone(),
                    query,
                    documents: docs,
                })
                .attributes(attributes),
            );
        }
        "tool" => {
            // A tool's outputs are often `{"output": …}`: the result is what is inside.
            let result = outputs.map(|o| match o.as_object() {
                Some(m) if m.len() == 1 && m.contains_key("output") => maybe_json(&m["output"]),
                _ => o.clone(),
            });
            let call_id = inputs
                .and_then(|i| i.get("tool_call_id"))
                .and_then(|v| text(Some(v)));
            rec.push(
                base(EventKind::ToolCall {
                    phase: ToolCallPhase::Executed,
                    name: name.clone(),
                    arguments: inputs.cloned(),
                    result,
                    error,
                })
                .by(ActorRole::Tool, name)
                .call_id(call_id)
                .attributes(attributes),
            );
        }
        other => {
            let root = run.get("parent_run_id").is_none_or(Value::is_null);
            let kind = if root && other == "chain" {
                // The root chain is the application's run for one turn.
                EventKind::AgentInvocation {
                    agent_name: name.clone(),
                    agent_id: None,
                }
            } else {
                EventKind::Other {
                    name: name.clone().unwrap_or_else(|| other.to_owned()),
                    operation: Some(other.to_owned()),
                }
            };
            rec.push(
                base(kind)
                    .content(outputs.and_then(output_text))
                    .attr("inputs", inputs.cloned())
                    .attr("outputs", outputs.cloned())
                    .attr("error", error.map(Value::String))
                    .attributes(attributes),
            );
        }
    }
    Ok(rec.finish())
}

/// Token counts: `outputs.usage_metadata`, else the run's own `prompt_tokens`…
fn usage(run: &Map<String, Value>, outputs: Option<&Value>) -> BTreeMap<String, Value> {
    if let Some(Value::Object(u)) = outputs.and_then(|o| o.get("usage_metadata")) {
        return u
            .iter()
            .filter(|(_, v)| v.is_number())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
    }
    ["prompt_tokens", "completion_tokens", "total_tokens"]
        .iter()
        .filter_map(|k| {
            run.get(*k)
                .filter(|v| v.is_number())
                .map(|v| ((*k).to_owned(), v.clone()))
        })
        .collect()
}

/// The text a chain returned, when it is plainly text (a string, `output`, or a chat choice).
fn output_text(outputs: &Value) -> Option<String> {
    match outputs {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => text(o.get("output")).or_else(|| {
            o.get("choices")
                .and_then(Value::as_array)
                .and_then(|c| c.first())
                .and_then(|c| c.get("message"))
                .and_then(|m| content_text(m.get("content")))
        }),
        _ => None,
    }
}

/// A file of JSON runs or batches, one per line, read one line at a time.
pub fn read_json_lines<R: std::io::BufRead>(
    input: R,
    origin: impl Into<String>,
) -> crate::lines::LineReader<R> {
    crate::lines::LineReader::new(input, origin, JSON, |origin, line, at| {
        let (items, stats) = read_json(origin, line);
        // `read_json` reads a whole body; pointers get the line's place.
        (crate::lines::at_line(items, at), stats)
    })
}
