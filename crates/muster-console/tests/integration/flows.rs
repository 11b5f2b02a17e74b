//! Exercise flows over the API, as the people in an exercise would drive them.

use std::time::{Duration, Instant};

use muster_console::roles::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{SECRET_EMAIL, start};

async fn state(client: &crate::common::Client, id: &str) -> Value {
    let (status, body) = client.get(&format!("/api/exercises/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_record_what_was_not_known_and_when_it_was_answered() {
    let console = start().await;
    let fay = console.user("fay", Role::Facilitator).await;
    let ivy = console.user("ivy", Role::IncidentLead).await;
    let leo = console.user("leo", Role::Legal).await;
    let obi = console.user("obi", Role::Observer).await;
    let id = fay
        .exercise(&console.drill_id, json!({"clock_speed": 60}))
        .await;
    fay.ok(
        &format!("/api/exercises/{id}/clock"),
        json!({"action": "start"}),
    )
    .await;

    let logged = ivy
        .ok(
            &format!("/api/exercises/{id}/decisions"),
            json!({"title": "Honour the refund?", "decision": "Hold: do not honour until legal confirms",
                   "owner": "incident-lead", "rationale": "Policy says no retroactive refunds",
                   "facts": ["The agent promised a backdated refund"],
                   "open_questions": ["Is the promise binding?", "How many others got it?"],
                   "assumptions": ["Only one customer affected"]}),
        )
        .await;
    let decision = logged["decision_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // An observer cannot answer.
    let (status, _) = obi
        .post(
            &format!("/api/exercises/{id}/decisions/{decision}/questions/q1/answer"),
            json!({"answer": "no"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    tokio::time::sleep(Duration::from_millis(200)).await;
    leo.ok(
        &format!("/api/exercises/{id}/decisions/{decision}/questions/q1/answer"),
        json!({"answer": "Yes: Moffatt v Air Canada says the company is bound"}),
    )
    .await;
    let (status, body) = leo
        .post(
            &format!("/api/exercises/{id}/decisions/{decision}/questions/q1/answer"),
            json!({"answer": "again"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    let s = state(&fay, &id).await;
    let d = &s["decisions"][0];
    assert_eq!(d["owner"], "incident-lead");
    assert_eq!(d["logged"]["by"], "ivy");
    assert_eq!(d["questions"][0]["answered"]["by"], "leo");
    assert!(
        d["questions"][0]["answered"]["exercise_ms"].as_i64() > d["logged"]["exercise_ms"].as_i64()
    );
    assert!(
        d["questions"][1]["answer"].is_null(),
        "the second question is still open"
    );
    assert_eq!(d["assumptions"][0], "Only one customer affected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comms_are_approved_by_someone_else_and_timed_against_the_target() {
    let console = start().await;
    let fay = console.user("fay", Role::Facilitator).await;
    let col = console.user("col", Role::CommsLead).await;
    let ivy = console.user("ivy", Role::IncidentLead).await;
    let dee = console.user("dee", Role::Dpo).await;
    let id = fay
        .exercise(&console.drill_id, json!({"clock_speed": 600, "personal_data_breach": true, "ai_act": "widespread-or-critical-infrastructure", "comms_target_minutes": 30}))
        .await;
    fay.ok(
        &format!("/api/exercises/{id}/clock"),
        json!({"action": "start"}),
    )
    .await;
    dee.ok(
        &format!("/api/exercises/{id}/awareness"),
        json!({"basis": "Complaint C-1182 escalated to the DPO"}),
    )
    .await;
    let s = state(&fay, &id).await;
    let clocks = s["regulatory_clocks"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(clocks.len(), 2, "{clocks:?}");
    assert_eq!(clocks[0]["regulation"], "UK GDPR");
    assert_eq!(clocks[0]["deadline_hours"], 72);
    assert_eq!(clocks[1]["article"], "Art. 73(3)");
    assert_eq!(clocks[1]["deadline_hours"], 48);
    assert_eq!(clocks[0]["status"], "running");

    let drafted = col
        .ok(&format!("/api/exercises/{id}/comms"), json!({"audience": "ICO", "channel": "regulator", "body": "We are notifying a personal data breach…"}))
        .await;
    let comms = drafted["comms_id"].as_str().unwrap_or_default().to_owned();
    // A comms lead drafts but does not approve; an author never approves their own draft.
    let (status, _) = col
        .post(
            &format!("/api/exercises/{id}/comms/{comms}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    ivy.ok(
        &format!("/api/exercises/{id}/comms/{comms}/review"),
        json!({"comment": "Add the number affected", "changes_requested": true}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    ivy.ok(
        &format!("/api/exercises/{id}/comms/{comms}/approve"),
        json!({}),
    )
    .await;
    let s = state(&fay, &id).await;
    let c = &s["comms"][0];
    assert_eq!(c["approved"]["by"], "ivy");
    assert_eq!(c["reviews"][0]["changes_requested"], true);
    let minutes = c["minutes_to_approve"].as_f64().unwrap_or(-1.0);
    assert!(minutes > 0.0, "time to approve {minutes}");
    assert_eq!(c["within_target"], json!(minutes <= 30.0));
    // The approved regulator notice meets both clocks.
    for clock in s["regulatory_clocks"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        assert_eq!(clock["status"], "met", "{clock}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_evidence_is_hidden_from_an_observer_and_shown_to_the_dpo_with_an_audit_entry() {
    let console = start().await;
    let fay = console.user("fay", Role::Facilitator).await;
    let obi = console.user("obi", Role::Observer).await;
    let dee = console.user("dee", Role::Dpo).await;
    let id = fay.exercise(&console.drill_id, json!({})).await;

    let (status, redacted) = obi.get(&format!("/api/exercises/{id}/evidence")).await;
    assert_eq!(status, StatusCode::OK);
    let text = redacted.to_string();
    assert!(!text.contains(SECRET_EMAIL), "{text}");
    assert!(text.contains("[email]"), "{text}");
    let (status, _) = obi
        .post(
            &format!("/api/exercises/{id}/evidence/raw"),
            json!({"reason": "curious"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        console
            .store
            .access_log()
            .await
            .unwrap_or_default()
            .is_empty()
    );

    let (status, _) = dee
        .post(
            &format!("/api/exercises/{id}/evidence/raw"),
            json!({"reason": " "}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a reason is required");
    let (status, raw) = dee
        .post(
            &format!("/api/exercises/{id}/evidence/raw"),
            json!({"reason": "Assess breach notification for C-1182"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(raw.to_string().contains(SECRET_EMAIL));
    let audit = console.store.access_log().await.unwrap_or_default();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].who, "dee");
    assert_eq!(audit[0].why, "Assess breach notification for C-1182");
    // Auditors read the audit; observers do not.
    let ada = console.user("ada", Role::Auditor).await;
    let (status, log) = ada.get("/api/audit/access").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(log[0]["who"], "dee");
    assert_eq!(obi.get("/api/audit/access").await.0, StatusCode::FORBIDDEN);
    // The view is in the exercise's record too.
    let s = fay.get(&format!("/api/exercises/{id}/log")).await.1;
    assert!(s["entries"].as_array().is_some_and(|e| {
        e.iter()
            .any(|e| e["entry"]["type"] == "raw_evidence_viewed")
    }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injects_are_released_on_schedule_once_and_streamed() {
    let console = start().await;
    let fay = console.user("fay", Role::Facilitator).await;
    // 1,440 exercise minutes a minute: an inject at minute 2 falls due 83 ms after the start.
    let id = fay
        .exercise(&console.drill_id, json!({"clock_speed": 1440, "injects": "2 | Journalist calls | Comment by 17:00\n100000 | Much later | never"}))
        .await;
    let mut stream = fay
        .http
        .get(format!("{}/api/exercises/{id}/stream", console.base))
        .header("cookie", &fay.cookie)
        .send()
        .await
        .unwrap_or_else(|e| panic!("stream: {e}"));
    assert_eq!(stream.status(), StatusCode::OK);
    fay.ok(
        &format!("/api/exercises/{id}/clock"),
        json!({"action": "start"}),
    )
    .await;

    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = String::new();
    while !seen.contains("inject_released") && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(10), stream.chunk()).await {
            Ok(Ok(Some(bytes))) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            _ => break,
        }
    }
    assert!(seen.contains("event: entry"), "{seen}");
    assert!(seen.contains("Inject: Journalist calls"), "{seen}");

    // Any number of schedulers noticing it releases it once.
    for _ in 0..3 {
        muster_console::live::release_due(&console.state)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let s = state(&fay, &id).await;
    assert_eq!(s["released_injects"], json!(["inject-1"]));
    let log = fay.get(&format!("/api/exercises/{id}/log")).await.1;
    let released: Vec<&Value> = log["entries"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter(|e| e["entry"]["type"] == "inject_released")
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(released.len(), 1);
    assert_eq!(
        released[0]["exercise_ms"], 120_000,
        "stamped at its scheduled time"
    );
    assert!(
        released[0]["actor"].is_null(),
        "released by the schedule, not a person"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_need_the_csrf_token_and_forms_are_redirected_back() {
    let console = start().await;
    let fay = console.user("fay", Role::Facilitator).await;
    let id = fay.exercise(&console.drill_id, json!({})).await;
    let url = format!("{}/api/exercises/{id}/clock", console.base);
    let without = fay
        .http
        .post(&url)
        .header("cookie", &fay.cookie)
        .json(&json!({"action": "start"}))
        .send()
        .await;
    let without = without.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(without.status(), StatusCode::FORBIDDEN);
    let wrong = fay
        .http
        .post(&url)
        .header("cookie", &fay.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("action=start&csrf=0000")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let form = fay
        .http
        .post(&url)
        .header("cookie", &fay.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("action=start&csrf={}", fay.csrf))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(form.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        form.headers()["location"],
        format!("/exercises/{id}").as_str()
    );
    assert_eq!(state(&fay, &id).await["clock"]["status"], "running");
    // Signed out, the cookie opens nothing.
    fay.ok("/api/session/end", json!({})).await;
    assert_eq!(fay.get("/api/me").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seat_grants_its_permissions_until_it_is_handed_over() {
    let console = start().await;
    let fay = console.user("fay", Role::Facilitator).await;
    let obi = console.user("obi", Role::Observer).await;
    console.add_user("oli", Role::Observer).await;
    let id = fay.exercise(&console.drill_id, json!({})).await;
    let severity = format!("/api/exercises/{id}/severity");
    let body = json!({"level": "SEV2", "rationale": "one customer harmed"});
    assert_eq!(
        obi.post(&severity, body.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    fay.ok(
        &format!("/api/exercises/{id}/seats"),
        json!({"role": "incident-lead", "username": "obi"}),
    )
    .await;
    obi.ok(&severity, body.clone()).await;
    fay.ok(
        &format!("/api/exercises/{id}/seats"),
        json!({"role": "incident-lead", "username": "oli"}),
    )
    .await;
    assert_eq!(obi.post(&severity, body).await.0, StatusCode::FORBIDDEN);
    let s = state(&fay, &id).await;
    let spells = s["seats"]["incident-lead"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(spells.len(), 2);
    assert_eq!(spells[0]["username"], "obi");
    assert!(!spells[0]["until"].is_null(), "handed over");
    assert_eq!(spells[1]["username"], "oli");
    assert_eq!(s["severity"][0]["level"], "SEV2");
    assert_eq!(s["severity"][0]["model_version"], 0);
    // A level outside the model is refused.
    let (status, body) = fay
        .post(&severity, json!({"level": "SEV9", "rationale": "x"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_is_chained_and_tampering_is_named() {
    let console = start().await;
    let fay = console.user("fay", Role::Facilitator).await;
    let id = fay.exercise(&console.drill_id, json!({})).await;
    fay.ok(
        &format!("/api/exercises/{id}/clock"),
        json!({"action": "start"}),
    )
    .await;
    fay.ok(&format!("/api/exercises/{id}/hotwash/ratings"), json!({"capability": "Communications", "rating": "performed-with-some-challenges", "notes": "late"})).await;
    fay.ok(&format!("/api/exercises/{id}/hotwash/actions"), json!({"title": "Add a bereavement policy to the KB", "owner": "Product owner", "due": "2026-12-15"})).await;
    let (status, _) = fay
        .post(
            &format!("/api/exercises/{id}/hotwash/actions"),
            json!({"title": "x", "owner": "y", "due": "next week"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    fay.ok(
        &format!("/api/exercises/{id}/clock"),
        json!({"action": "end"}),
    )
    .await;
    // Ended: the record is closed to new decisions.
    let (status, _) = fay
        .post(
            &format!("/api/exercises/{id}/seats"),
            json!({"role": "legal", "username": "fay"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    let count = state(&fay, &id).await["entry_count"]
        .as_u64()
        .unwrap_or_default();
    assert_eq!(count, 5, "seat, start, rating, action, end");
    let page = fay
        .get(&format!("/api/exercises/{id}/log?after=0&limit=2"))
        .await
        .1;
    let seqs: Vec<u64> = page["entries"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["seq"].as_u64()).collect())
        .unwrap_or_default();
    assert_eq!(seqs, vec![1, 2]);
    assert_eq!(page["more"], true);
    let last = fay.get(&format!("/api/exercises/{id}/log?after=3")).await.1;
    assert_eq!(last["more"], false);
    assert_eq!(last["entries"][0]["seq"], 4);
    let (status, record) = fay.get(&format!("/api/exercises/{id}/record")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(record["log"]["intact"], true, "{record}");
    assert_eq!(record["entries"].as_array().map(Vec::len), Some(5));
    assert_eq!(
        record["exercise"]["ratings"][0]["rating"],
        "performed-with-some-challenges"
    );
    assert_eq!(record["exercise"]["actions"][0]["due"], "2026-12-15");

    // An attacker with the file edits an entry behind the triggers' back.
    let pool = console
        .sqlite
        .as_ref()
        .unwrap_or_else(|| panic!("a SQLite console"));
    sqlx::query("DROP TRIGGER exercise_log_is_append_only_update")
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    sqlx::query("UPDATE exercise_log SET fields = replace(fields, 'late', 'on time') WHERE exercise_id = ?1")
        .bind(&id)
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let verify = console
        .store
        .verify_exercise_log(&id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(verify.problems.len(), 1, "{:?}", verify.problems);
    assert!(
        verify.problems[0].contains("edited"),
        "{:?}",
        verify.problems
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_form_post_is_a_page_with_a_way_back() {
    let console = start().await;
    let fay = console.user("fay", Role::Facilitator).await;
    let id = fay.exercise(&console.drill_id, json!({})).await;
    let response = fay
        .http
        .post(format!("{}/api/exercises/{id}/drills", console.base))
        .header("cookie", &fay.cookie)
        .header("referer", format!("{}/exercises/{id}", console.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={}", fay.csrf))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let page = response.text().await.unwrap_or_default();
    assert!(page.contains("<!DOCTYPE html>"), "{page}");
    assert!(page.contains("cannot start drills"), "{page}");
    assert!(
        page.contains(&format!("href=\"/exercises/{id}\"")),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_state_route_sends_the_state_as_serde_encodes_it() {
    let console = start().await;
    let fay = console.user("fay", Role::Facilitator).await;
    let dee = console.user("dee", Role::Dpo).await;
    let id = fay
        .exercise(&console.drill_id, json!({"personal_data_breach": true}))
        .await;
    fay.ok(
        &format!("/api/exercises/{id}/clock"),
        json!({"action": "start"}),
    )
    .await;
    dee.ok(
        &format!("/api/exercises/{id}/awareness"),
        json!({"basis": "complaint"}),
    )
    .await;
    for _ in 0..2 {
        let (status, sent) = fay.get(&format!("/api/exercises/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        let now = console
            .state
            .exercise(&id)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut expected = serde_json::to_value(&now).unwrap_or_default();
        let mut sent = sent;
        // What depends on the moment of reading differs by the milliseconds between the two.
        for v in [&mut expected, &mut sent] {
            v["now_exercise_ms"] = json!(0);
            for c in v["regulatory_clocks"].as_array_mut().into_iter().flatten() {
                c["remaining_exercise_ms"] = json!(0);
                c["due_at_ns"] = json!(0);
            }
        }
        assert_eq!(sent, expected);
        assert_eq!(sent["regulatory_clocks"][0]["regulation"], "UK GDPR");
    }
}
