//! Amazon Bedrock model-invocation logs (CloudWatch Logs or S3 delivery, one JSON record per
//! line): `{"schemaType": "ModelInvocationLog", "timestamp", "requestId", "operation",
//! "modelId", "identity": {"arn"}, "input": {"inputBodyJson", "inputTokenCount"}, "output":
//! {"outputBodyJson", "outputTokenCount"}, "requestMetadata"?}`.
//!
//! The bodies are the operation's own: Converse (`messages` with `text`, `toolUse`, `toolResult`
//! blocks; `output.message`, `stopReason`, `usage`) or InvokeModel with a model-native body
//! (Anthropic Messages for Claude; others are kept whole as the prompt's input). Guardrail
//! assessments (`trace.guardrail` of a Converse response, `amazon-bedrock-trace.guardrail` of
//! InvokeModel) become one `confidence_signal` per filter, topic, word or entity that matched,
//! and an intervention (`stopReason: guardrail_intervened`, `amazon-bedrock-guardrailAction:
//! INTERVENED`) a `control_action`.

use serde_json::{Map, Value};

use crate::chat::exchange_events;
use crate::common::{Doc, Ev, Out, Rec, attr_key, parse_body, str_at, text, time_at};
use crate::event::{ActorRole, Correlation, EventKind, EvidenceEvent, Message, ToolCallRequest};
use crate::lines::LineReader;
use crate::model_logs::{anthropic_input, anthropic_output};
use crate::otlp::BodyLocation;
use crate::quarantine::{Item, ReadStats};

const FORMAT: &str = "bedrock-model-invocation-log";

pub fn read_lines<R: std::io::BufRead>(input: R, origin: impl Into<String>) -> LineReader<R> {
    LineReader::new(input, origin, FORMAT, read_body)
}

/// One invocation record.
pub fn read_body(origin: &str, body: &[u8], at: BodyLocation) -> (Vec<Item>, ReadStats) {
    let d = Doc {
        origin,
        system: "aws.bedrock",
        format: FORMAT,
        at,
    };
    let mut out = Out::default();
    out.stats.bodies = 1;
    match parse_body(body) {
        Err(reason) => out.body_failed(&d, reason, body),
        Ok(Value::Object(o)) => {
            let result = map_record(&d, &o);
            out.record(&d, "", &Value::Object(o), result);
        }
        Ok(_) => out.body_failed(
            &d,
            "an invocation log is not a JSON object".to_owned(),
            body,
        ),
    }
    out.finish()
}

fn map_record(d: &Doc<'_>, o: &Map<String, Value>) -> Result<Vec<EvidenceEvent>, String> {
    if o.get("schemaType")
        .is_some_and(|s| s != "ModelInvocationLog")
    {
        return Err(format!(
            "`schemaType` is {}, not ModelInvocationLog",
            o["schemaType"]
        ));
    }
    let t = time_at(o, "timestamp")?.ok_or("no `timestamp`")?;
    let model = text(o.get("modelId"));
    let empty = Map::new();
    let input = o.get("input").and_then(Value::as_object).unwrap_or(&empty);
    let output = o.get("output").and_then(Value::as_object).unwrap_or(&empty);
    let req = input
        .get("inputBodyJson")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let res = output
        .get("outputBodyJson")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let operation = text(o.get("operation"));
    let converse = operation
        .as_deref()
        .is_some_and(|op| op.starts_with("Converse"))
        || res.contains_key("output") && res.get("output").and_then(|x| x.get("message")).is_some();

    let mut corr = Correlation::default();
    if let Some(m) = o.get("requestMetadata").and_then(Value::as_object) {
        if let Some((v, k)) = ["conversation_id", "session_id", "thread_id", "sessionId"]
            .iter()
            .find_map(|k| text(m.get(*k)).map(|v| (v, *k)))
        {
            corr.conversation_id = Some(v);
            corr.conversation_from = attr_key(&format!("requestMetadata.{k}"));
        }
        if let Some((v, k)) = ["customer_id", "user_id", "userId", "customer"]
            .iter()
            .find_map(|k| text(m.get(*k)).map(|v| (v, *k)))
        {
            corr.customer_ref = Some(v);
            corr.customer_from = attr_key(&format!("requestMetadata.{k}"));
        }
    }
    let (prompt, reply, stop) = if converse {
        (
            converse_input(req),
            converse_output(res),
            text(res.get("stopReason")),
        )
    } else if req.contains_key("messages") {
        (
            anthropic_input(req),
            anthropic_output(res),
            text(res.get("stop_reason")),
        )
    } else {
        (Vec::new(), Vec::new(), None)
    };
    let mut usage = std::collections::BTreeMap::new();
    for (k, key) in [
        ("inputTokenCount", "input_tokens"),
        ("outputTokenCount", "output_tokens"),
    ] {
        if let Some(v) = input
            .get(k)
            .or_else(|| output.get(k))
            .filter(|v| v.is_number())
        {
            usage.insert(key.to_owned(), v.clone());
        }
    }
    let mut rec = Rec::new(d, String::new(), d.source(None), corr, t);
    rec.push(
        Ev::new(
            t,
            EventKind::ModelCall {
                operation: operation.clone(),
                provider: Some("aws.bedrock".to_owned()),
                request_model: model.clone(),
                response_model: None,
                response_id: text(o.get("requestId")),
                parameters: req
                    .get("inferenceConfig")
                    .and_then(Value::as_object)
                    .map(|c| c.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default(),
                usage,
                finish_reasons: stop.clone().into_iter().collect(),
                error: text(o.get("errorCode")),
            },
        )
        .by(ActorRole::Model, model)
        .attr("identity", o.get("identity").cloned())
        .attr("region", o.get("region").cloned())
        .attr("requestMetadata", o.get("requestMetadata").cloned()),
    );
    if prompt.is_empty() && !req.is_empty() && !converse && !req.contains_key("messages") {
        // A model-native body muster does not parse: kept whole, unread.
        rec.push(Ev::new(
            t,
            EventKind::Prompt {
                messages: Vec::new(),
                input: Some(Value::Object(req.clone())),
            },
        ));
    }
    exchange_events(&mut rec, t, None, None, prompt, reply);
    guardrails(&mut rec, t, res, stop.as_deref());
    Ok(rec.finish())
}

fn blocks(role: &str, content: Option<&Value>) -> Vec<Message> {
    let mut main = Message {
        role: role.to_owned(),
        ..Message::default()
    };
    let mut texts = Vec::new();
    let mut out = Vec::new();
    let results_first = content
        .and_then(Value::as_array)
        .and_then(|b| b.first())
        .is_some_and(|b| b.get("toolResult").is_some());
    for b in content.and_then(Value::as_array).into_iter().flatten() {
        if let Some(t) = text(b.get("text")) {
            texts.push(t);
        } else if let Some(u) = b.get("toolUse") {
            main.tool_calls.push(ToolCallRequest {
                id: text(u.get("toolUseId")),
                name: text(u.get("name")).unwrap_or_default(),
                arguments: u.get("input").cloned(),
            });
        } else if let Some(r) = b.get("toolResult") {
            let result: Vec<String> = r
                .get("content")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|c| text(c.get("text")).or_else(|| c.get("json").map(Value::to_string)))
                .collect();
            out.push(Message {
                role: "tool".to_owned(),
                text: (!result.is_empty()).then(|| result.join("\n")),
                tool_call_id: text(r.get("toolUseId")),
                ..Message::default()
            });
        }
    }
    if !texts.is_empty() {
        main.text = Some(texts.join("\n"));
    }
    if main.text.is_some() || !main.tool_calls.is_empty() {
        // Keep the turn's order: results handed back first (as the APIs require) stay first.
        if results_first {
            out.push(main);
        } else {
            out.insert(0, main);
        }
    }
    out
}

fn converse_input(req: &Map<String, Value>) -> Vec<Message> {
    let mut out = Vec::new();
    let system: Vec<String> = req
        .get("system")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|b| text(b.get("text")))
        .collect();
    if !system.is_empty() {
        out.push(Message {
            role: "system".to_owned(),
            text: Some(system.join("\n")),
            ..Message::default()
        });
    }
    for m in req
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("user");
        out.extend(blocks(role, m.get("content")));
    }
    out
}

fn converse_output(res: &Map<String, Value>) -> Vec<Message> {
    let msg = res.get("output").and_then(|o| o.get("message"));
    let mut out = blocks("assistant", msg.and_then(|m| m.get("content")));
    if let Some(first) = out.first_mut() {
        first.finish_reason = text(res.get("stopReason"));
    }
    out
}

/// Policies of a guardrail assessment and the list each keeps its matches in.
const POLICIES: [(&str, &[&str]); 5] = [
    ("topicPolicy", &["topics"]),
    ("contentPolicy", &["filters"]),
    ("wordPolicy", &["customWords", "managedWordLists"]),
    ("sensitiveInformationPolicy", &["piiEntities", "regexes"]),
    ("contextualGroundingPolicy", &["filters"]),
];

fn guardrails(rec: &mut Rec<'_>, t: i64, res: &Map<String, Value>, stop: Option<&str>) {
    let trace = res
        .get("trace")
        .or_else(|| res.get("amazon-bedrock-trace"))
        .and_then(|x| x.get("guardrail"));
    let mut assessments: Vec<(&str, &Value)> = Vec::new();
    if let Some(g) = trace {
        // `inputAssessment` (and `modelOutput`…) map guardrail id → assessment;
        // `outputAssessments` map guardrail id → a list of them.
        for (side, key) in [
            ("input", "inputAssessment"),
            ("output", "outputAssessments"),
        ] {
            for (_, a) in g.get(key).and_then(Value::as_object).into_iter().flatten() {
                match a {
                    Value::Array(list) => assessments.extend(list.iter().map(|x| (side, x))),
                    other => assessments.push((side, other)),
                }
            }
        }
    }
    for (side, a) in assessments {
        for (policy, lists) in POLICIES {
            let Some(p) = a.get(policy) else { continue };
            for list in lists {
                for m in p.get(*list).and_then(Value::as_array).into_iter().flatten() {
                    let kind = text(m.get("type"))
                        .or_else(|| text(m.get("name")))
                        .unwrap_or_default();
                    rec.push(
                        Ev::new(
                            t,
                            EventKind::ConfidenceSignal {
                                name: Some(format!("bedrock.guardrail.{policy}.{kind}")),
                                score: m.get("score").and_then(Value::as_f64),
                                label: text(m.get("action")),
                                explanation: text(m.get("confidence"))
                                    .map(|c| format!("confidence {c}"))
                                    .or_else(|| {
                                        text(m.get("match")).map(|x| format!("matched {x}"))
                                    }),
                            },
                        )
                        .by(ActorRole::System, Some("bedrock-guardrail".to_owned()))
                        .attr("assessment", Some(Value::String(side.to_owned())))
                        .attr("match", Some(m.clone())),
                    );
                }
            }
        }
    }
    let intervened = stop == Some("guardrail_intervened")
        || str_at(res, "amazon-bedrock-guardrailAction") == Some("INTERVENED");
    if intervened {
        rec.push(
            Ev::new(
                t,
                EventKind::ControlAction {
                    control: Some("bedrock-guardrail".to_owned()),
                    action: Some("intervened".to_owned()),
                    outcome: Some("blocked".to_owned()),
                },
            )
            .by(ActorRole::System, Some("bedrock-guardrail".to_owned())),
        );
    }
}
