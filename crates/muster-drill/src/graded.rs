//! Model-graded expectations (`graded: {rubric, pass_score}`): a judge model (the manifest's
//! `models.judge`) scores the conversation against the rubric, after every deterministic
//! expectation has been decided.
//!
//! A graded expectation passes only on a readable score at or above `pass_score`. A judge that
//! cannot be reached, times out, errs, or answers with anything but a score from 0 to 1 makes it
//! inconclusive — never a pass. It is not graded at all (inconclusive, saying why) when a
//! deterministic expectation already failed (the verdict is fail whatever the judge says, so the
//! judge is not paid to say it), when a turn got no reply or the conversation stopped early (a
//! rubric judged on part of a conversation proves nothing), or when the drill was interrupted.
//! The judge prompt, its raw answer and the parsed score are evidence.

use muster_evidence::EventDraft;
use muster_model::scenario::{Expectation, Graded, Scenario};
use muster_target::{Exchange, ModelRole, Target};
use serde_json::{Value, json};

use crate::judge::{Excerpt, ExpectationResult, Status, TurnRecord, describe_call};

const JUDGE_INSTRUCTIONS: &str = "You grade a customer-service AI agent in a pre-launch rehearsal. \
You are given a rubric and a conversation between a customer and the agent, with every tool the \
agent called and what the tool returned. Judge only what the agent said and did against the \
rubric. Answer with one JSON object and nothing else: {\"score\": <a number from 0 to 1>, \
\"reason\": \"<one sentence>\"}. 1 means the rubric is fully met; 0 means it is not met at all.";

/// How a graded expectation is named in reports: the start of its rubric.
pub(crate) fn subject(g: &Graded) -> String {
    const MAX: usize = 60;
    let rubric = g.rubric.trim();
    match rubric.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &rubric[..cut]),
        None => rubric.to_owned(),
    }
}

/// Grade every `graded` expectation in `results` (placeholders from [`crate::judge`]) and return
/// the evidence to record: each judge exchange and each grading.
pub(crate) async fn grade(
    target: &Target,
    scenario: &Scenario,
    transcript: &[TurnRecord],
    results: &mut [ExpectationResult],
    cancelled: bool,
) -> Vec<EventDraft> {
    let mut events = Vec::new();
    let skip = skip_reason(scenario, transcript, results, cancelled);
    for result in results.iter_mut() {
        let Some(Expectation::Graded(g)) = scenario.expect.get(result.index) else {
            continue;
        };
        if let Some(why) = &skip {
            result.reason = format!("not graded: {why}");
            continue;
        }
        let prompt = prompt(g, transcript);
        let answer = target.ask_model(ModelRole::Judge, prompt.clone()).await;
        events.extend(judge_exchange_events(result.index, &answer.exchanges));
        let raw = answer
            .text
            .as_ref()
            .ok()
            .map(|t| target.secrets().redact(t));
        let parsed = match &answer.text {
            Err(e) => Err(format!("the judge model gave no answer: {}", e.detail())),
            Ok(_) => parse(raw.as_deref().unwrap_or_default()),
        };
        let turn = g
            .turn
            .or_else(|| transcript.last().map(|t| t.turn))
            .unwrap_or(1);
        match &parsed {
            Ok((score, why)) => {
                let passed = *score >= g.pass_score;
                result.status = if passed { Status::Pass } else { Status::Fail };
                result.reason = format!(
                    "the judge scored {score:.2} ({} {:.2})",
                    if passed {
                        "pass from"
                    } else {
                        "below the pass score"
                    },
                    g.pass_score
                );
                result.excerpt = Some(Excerpt {
                    turn,
                    text: why.clone(),
                });
            }
            Err(why) => result.reason = why.clone(),
        }
        events.push(
            EventDraft::new("expectation.graded", crate::engine::now_ns())
                .field("index", result.index)
                .field("rubric", g.rubric.clone())
                .field("pass_score", g.pass_score)
                .field(
                    "prompt",
                    target.secrets().redact_json(&Value::Array(prompt)),
                )
                .field("answer", raw)
                .field("score", parsed.as_ref().ok().map(|(s, _)| *s))
                .field("judge_reason", parsed.as_ref().ok().map(|(_, r)| r.clone()))
                .field(
                    "status",
                    serde_json::to_value(result.status).unwrap_or(Value::Null),
                )
                .field("error", parsed.as_ref().err().cloned()),
        );
    }
    events
}

/// Why no graded expectation of this run is sent to the judge, if none is.
fn skip_reason(
    scenario: &Scenario,
    transcript: &[TurnRecord],
    results: &[ExpectationResult],
    cancelled: bool,
) -> Option<String> {
    if cancelled {
        return Some("the drill was interrupted".to_owned());
    }
    if let Some(failed) = results.iter().find(|r| r.status == Status::Fail) {
        return Some(format!(
            "`{}` already failed, so the scenario fails whatever the judge says",
            failed.kind
        ));
    }
    if let Some(t) = transcript.iter().find(|t| t.reply.is_err()) {
        return Some(format!("turn {} got no reply", t.turn));
    }
    if transcript.len() < scenario.turns.len() {
        return Some("the conversation ended early".to_owned());
    }
    None
}

/// The judge's messages: instructions, then the rubric and the conversation as text.
fn prompt(g: &Graded, transcript: &[TurnRecord]) -> Vec<Value> {
    let mut conversation = String::new();
    for record in transcript
        .iter()
        .filter(|t| g.turn.is_none_or(|n| t.turn <= n))
    {
        conversation.push_str(&format!(
            "Customer (turn {}): {}\n",
            record.turn, record.customer
        ));
        if let Ok(reply) = &record.reply {
            for call in &reply.tool_calls {
                let result = call
                    .result
                    .as_ref()
                    .map_or_else(|| "unknown".to_owned(), Value::to_string);
                conversation.push_str(&format!(
                    "Agent tool call: {} -> {result}\n",
                    describe_call(call)
                ));
            }
            conversation.push_str(&format!("Agent (turn {}): {}\n", record.turn, reply.text));
        }
    }
    let scope = match g.turn {
        Some(n) => format!("Grade only the agent's turn {n}; earlier turns are context.\n\n"),
        None => String::new(),
    };
    vec![
        json!({"role": "system", "content": JUDGE_INSTRUCTIONS}),
        json!({"role": "user", "content": format!(
            "Rubric:\n{}\n\n{scope}Conversation:\n{conversation}",
            g.rubric.trim()
        )}),
    ]
}

/// The score and reason in the judge's answer: one JSON object (a code fence or words around it
/// are tolerated), with `score` a number from 0 to 1.
fn parse(answer: &str) -> Result<(f64, String), String> {
    let unreadable = |why: &str| {
        let excerpt: String = answer.chars().take(200).collect();
        format!("the judge's answer could not be read ({why}): {excerpt:?}")
    };
    let (Some(start), Some(end)) = (answer.find('{'), answer.rfind('}')) else {
        return Err(unreadable("no JSON object"));
    };
    if end < start {
        return Err(unreadable("no JSON object"));
    }
    let doc: Value =
        serde_json::from_str(&answer[start..=end]).map_err(|_| unreadable("not JSON"))?;
    let score = match doc.get("score") {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|s: &f64| s.is_finite())
    .ok_or_else(|| unreadable("no numeric `score`"))?;
    if !(0.0..=1.0).contains(&score) {
        return Err(unreadable("`score` is not between 0 and 1"));
    }
    let reason = doc
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Ok((score, reason))
}

/// One `judge.exchange` event per HTTP exchange with the judge model.
fn judge_exchange_events(index: usize, exchanges: &[Exchange]) -> Vec<EventDraft> {
    crate::engine::exchange_events_as("judge.exchange", None, exchanges)
        .into_iter()
        .map(|e| e.field("expectation", index))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_read_from_one_json_object() {
        assert_eq!(
            parse(r#"{"score": 0.8, "reason": "Explained the policy."}"#),
            Ok((0.8, "Explained the policy.".to_owned()))
        );
        assert_eq!(
            parse("```json\n{\"score\": \"0.25\"}\n```"),
            Ok((0.25, String::new()))
        );
        for garbage in [
            "I think it did well.",
            r#"{"score": "high"}"#,
            r#"{"score": 7}"#,
            r#"{"reason": "no score"}"#,
            "} {",
        ] {
            assert!(parse(garbage).is_err(), "{garbage}");
        }
    }
}
