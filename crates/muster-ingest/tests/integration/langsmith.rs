//! The LangSmith reader on the captured `/runs/multipart` body (langsmith 0.15.1) and on JSON
//! runs built from it.

use muster_ingest::{EventKind, ToolCallPhase, langsmith, time};
use serde_json::Value;

use crate::{check_accounting, data, events, kinds, quarantined};

const BODY: &str = "langsmith/runs-multipart.body";
const DECODED: &str = "langsmith/runs-multipart.decoded.json";
const ROOT: &str = "01a21944-2111-7e5f-af41-0cf6c48a3f9d";

#[test]
fn multipart_runs_map_by_run_type() {
    let (items, stats) = langsmith::read_multipart(BODY, &data(BODY), None);
    check_accounting(&items, &stats);
    assert_eq!(stats.quarantined, 0, "{:?}", quarantined(&items));
    // chain → retriever, tool, llm: four runs.
    assert_eq!(stats.records, 4);
    let k = kinds(&items);
    assert_eq!(
        k,
        [
            "agent.invocation",
            "retrieval",
            "tool.call:Executed",
            "model.call",
            "prompt",
            "customer.message",
            "agent.message"
        ]
    );
    let evs = events(&items);
    for e in &evs {
        // The thread id from extra.metadata, not the project (`session_name`).
        assert_eq!(
            e.correlation.conversation_id.as_deref(),
            Some("conv-7f3a9c")
        );
        assert_eq!(e.correlation.trace_id.as_deref(), Some(ROOT));
    }
    assert_eq!(evs[1].correlation.parent_span_id.as_deref(), Some(ROOT));
    assert_eq!(
        time::format_rfc3339(evs[0].time_ns),
        "2026-11-26T19:10:25.041479000Z"
    );
    let EventKind::Retrieval {
        query,
        documents,
        data_source,
    } = &evs[1].kind
    else {
        panic!()
    };
    assert_eq!(query.as_deref(), Some("Where is my order A-1001?"));
    assert_eq!(data_source.as_deref(), Some("kb_search"));
    assert_eq!(documents[0].id.as_deref(), Some("kb-12"));
    assert_eq!(
        documents[0].content.as_deref(),
        Some("Orders ship within 2 days.")
    );
    let EventKind::ToolCall {
        phase: ToolCallPhase::Executed,
        arguments,
        result,
        ..
    } = &evs[2].kind
    else {
        panic!()
    };
    assert_eq!(arguments.as_ref().unwrap()["order_id"], "A-1001");
    assert_eq!(result.as_ref().unwrap()["status"], "shipped");
    let EventKind::ModelCall {
        provider,
        request_model,
        usage,
        ..
    } = &evs[3].kind
    else {
        panic!()
    };
    assert_eq!(provider.as_deref(), Some("openai"));
    assert_eq!(request_model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(usage["total_tokens"], 54);
    assert_eq!(evs[6].content.as_deref(), Some("Your order shipped."));
}

/// The decoded copy of the same body, turned into a `/runs/batch` body, gives the same events.
#[test]
fn batch_json_matches_multipart() {
    let decoded: Vec<Value> = serde_json::from_slice(&data(DECODED)).unwrap();
    let mut runs: Vec<(String, serde_json::Map<String, Value>)> = Vec::new();
    for p in decoded {
        let name = p["part"].as_str().unwrap().to_owned();
        let mut it = name.splitn(3, '.');
        let (_, id, field) = (it.next(), it.next().unwrap().to_owned(), it.next());
        if !runs.iter().any(|(k, _)| *k == id) {
            runs.push((id.clone(), Default::default()));
        }
        let run = &mut runs.iter_mut().find(|(k, _)| *k == id).unwrap().1;
        match field {
            None => run.extend(p["value"].as_object().unwrap().clone()),
            Some(f) => {
                run.insert(f.to_owned(), p["value"].clone());
            }
        }
    }
    let batch = serde_json::json!({"post": runs.into_iter().map(|(_, r)| Value::Object(r)).collect::<Vec<_>>()});
    let (items, stats) = langsmith::read_json("batch", batch.to_string().as_bytes());
    check_accounting(&items, &stats);
    let (multi, _) = langsmith::read_multipart(BODY, &data(BODY), None);
    let strip = |items: &[muster_ingest::Item]| -> Vec<(EventKind, Option<String>)> {
        events(items)
            .iter()
            .map(|e| (e.kind.clone(), e.content.clone()))
            .collect()
    };
    assert_eq!(strip(&items), strip(&multi));
}

#[test]
fn malformed_runs_and_parts_are_quarantined() {
    let body = b"--b\r\nContent-Disposition: form-data; name=\"post.r1\"\r\n\r\n{\"id\":\"r1\",\"name\":\"x\",\"run_type\":\"tool\"}\r\n--b\r\nContent-Disposition: form-data; name=\"post.r2\"\r\n\r\n{not json\r\n--b\r\nContent-Disposition: form-data; name=\"post.r3\"\r\n\r\n{\"id\":\"r3\",\"run_type\":\"tool\",\"start_time\":\"2026-11-26T19:10:25Z\",\"inputs\":{}}\r\n--b\r\nContent-Disposition: form-data; name=\"weird\"\r\n\r\n{}\r\n--b--\r\n";
    let (items, stats) = langsmith::read_multipart("t", body, Some("b"));
    check_accounting(&items, &stats);
    let q = quarantined(&items);
    assert_eq!(q.len(), 3, "{q:?}");
    assert!(q[0].reason.contains("not JSON"));
    assert_eq!(q[0].pointer.record.as_deref(), Some("post.r2"));
    assert!(q[1].reason.contains("weird"));
    assert!(q[2].reason.contains("no `start_time`"));
    assert_eq!(events(&items).len(), 1);

    // Truncated: no closing delimiter.
    let (items, stats) = langsmith::read_multipart("t", &body[..60], Some("b"));
    check_accounting(&items, &stats);
    assert_eq!(stats.bodies_quarantined, 1);
    let (items, stats) = langsmith::read_json(
        "t",
        b"{\"post\":[1,{\"id\":\"x\",\"start_time\":\"soon\"}]}",
    );
    check_accounting(&items, &stats);
    assert_eq!(stats.records_quarantined, 2);
    assert_eq!(
        quarantined(&items)[1].pointer.record.as_deref(),
        Some("/post/1")
    );
}

#[test]
fn json_lines_of_runs() {
    let text = "{\"id\":\"r1\",\"name\":\"lookup_order\",\"run_type\":\"tool\",\"start_time\":\"2026-11-26T19:10:25.049123\",\"inputs\":{\"order_id\":\"A-1001\"},\"extra\":{\"metadata\":{\"conversation_id\":\"conv-2\"}}}\n{\"id\":\"r2\"}\n";
    let mut reader = langsmith::read_json_lines(text.as_bytes(), "runs.jsonl");
    let items: Vec<_> = reader.by_ref().collect();
    let stats = reader.finish().unwrap();
    check_accounting(&items, &stats);
    let e = events(&items)[0];
    // No offset: UTC, as LangSmith writes it.
    assert_eq!(
        time::format_rfc3339(e.time_ns),
        "2026-11-26T19:10:25.049123000Z"
    );
    assert_eq!(e.correlation.conversation_id.as_deref(), Some("conv-2"));
    assert_eq!(e.raw.line, Some(1));
    assert_eq!(quarantined(&items)[0].pointer.line, Some(2));
}
