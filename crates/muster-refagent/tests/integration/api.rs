use muster_refagent::FlawSet;
use serde_json::{Value, json};

use crate::common::start;

#[tokio::test]
async fn health_reports_mode_and_flaws() {
    let agent = start(FlawSet::all(), 7).await;
    let (status, body) = agent.get("/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(body["mode"], "flawed");
    assert_eq!(
        body["flaws"].as_array().map(Vec::len),
        Some(muster_refagent::Flaw::ALL.len())
    );
    let hardened = start(FlawSet::none(), 7).await;
    assert_eq!(hardened.get("/healthz").await.1["mode"], "hardened");
}

#[tokio::test]
async fn replies_have_the_documented_shape() {
    let agent = start(FlawSet::none(), 7).await;
    let replies = agent
        .converse("LM-100004", &["Hi, I'd like to return order ORD-20417"])
        .await;
    let r = &replies[0];
    assert_eq!(r["turn"], 1);
    assert!(r["reply"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(r["tool_calls"].is_array());
    assert!(r["handover"]["active"].is_boolean());
    assert!(
        r["confidence"]
            .as_f64()
            .is_some_and(|c| (0.0..=1.0).contains(&c))
    );
    assert_eq!(r["kb"]["version"], "kb-2026.11");
    assert!(
        r["kb"]["articles"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["id"] == "returns" && x["version"] == 4))
    );
}

#[tokio::test]
async fn bad_input_gets_json_errors_not_500s() {
    let agent = start(FlawSet::all(), 7).await;
    let client = &agent.http;
    let raw = client
        .post(agent.url("/api/conversations"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await;
    let raw = match raw {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(raw.status().as_u16(), 400);
    let body: Value = raw.json().await.unwrap_or(Value::Null);
    assert_eq!(body["error"]["code"], "invalid_json");
    assert_eq!(agent.post("/api/conversations", json!({})).await.0, 400);
    assert_eq!(
        agent
            .post("/api/conversations", json!({"customer_ref": "LM-999999"}))
            .await
            .0,
        404
    );
    assert_eq!(
        agent
            .post(
                "/api/conversations/c-nope/messages",
                json!({"customer_ref": "LM-100001", "message": "hi"})
            )
            .await
            .0,
        404
    );
    let (_, opened) = agent
        .post("/api/conversations", json!({"customer_ref": "LM-100001"}))
        .await;
    let id = opened["conversation_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (status, body) = agent
        .post(
            &format!("/api/conversations/{id}/messages"),
            json!({"customer_ref": "LM-100002", "message": "hi"}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        agent
            .post(
                &format!("/api/conversations/{id}/messages"),
                json!({"customer_ref": "LM-100001", "message": ""})
            )
            .await
            .0,
        400
    );
    assert_eq!(
        agent
            .post(
                "/v1/chat/completions",
                json!({"model": "x", "messages": []})
            )
            .await
            .0,
        400
    );
    assert_eq!(agent.post("/v1/chat/completions", json!({"model": "x", "messages": [{"role": "user", "content": "hi"}], "stream": true, "user": "LM-100001"})).await.0, 400);
    let (status, body) = agent
        .post(
            "/v1/chat/completions",
            json!({"model": "x", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(agent.delete("/admin/fixtures/fx-none").await, 404);
}

#[tokio::test]
async fn the_crm_is_synthetic_and_large_enough() {
    let postcode =
        regex::Regex::new(r"^[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}$").unwrap_or_else(|e| panic!("{e}"));
    let personas = muster_refagent::customers();
    assert!(personas.len() >= 60, "{} customers", personas.len());
    for c in &personas {
        let number: u32 = c
            .phone
            .trim_start_matches("07700 900")
            .parse()
            .unwrap_or(9999);
        assert!(
            c.phone.starts_with("07700 900") && c.phone.len() == 12 && number <= 999,
            "{} is not in the drama range",
            c.phone
        );
        assert!(
            ["@example.com", "@example.co.uk", "@example.org"]
                .iter()
                .any(|d| c.email.ends_with(d)),
            "{}",
            c.email
        );
        assert!(postcode.is_match(&c.address.postcode), "{c:?}");
    }
    let names: Vec<String> = personas
        .iter()
        .take(8)
        .map(muster_refagent::Customer::full_name)
        .collect();
    assert_eq!(
        names,
        [
            "Daniel Okoro",
            "Margaret Ellis",
            "Aisha Rahman",
            "Tom Whitaker",
            "Sophie Marsh",
            "Grace Adeyemi",
            "Liam Byrne",
            "Hannah Price"
        ]
    );

    let agent = start(FlawSet::all(), 7).await;
    let (status, body) = agent.get("/admin/customers").await;
    assert_eq!(status, 200);
    let served = body["customers"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        served.len(),
        personas.len(),
        "the server holds the same customers"
    );
    let (_, daniel) = agent.get("/admin/customers/LM-100001").await;
    assert_eq!(daniel["financial_difficulty"], true);
    assert_eq!(daniel["plan"]["months_left"], 14);
    assert_eq!(daniel["plan"]["early_termination_charge"], 588.0);
}

#[tokio::test]
async fn fixtures_plant_and_undo_exactly() {
    let agent = start(FlawSet::all(), 7).await;
    let (status, planted) = agent
        .post(
            "/admin/fixtures/billing-notes",
            json!({"customer_ref": "LM-100008", "topic": "roaming", "text": "PLANTED-NOTE-1"}),
        )
        .await;
    assert_eq!(status, 201);
    let notes = |c: &Value| {
        c["billing_notes"]
            .as_array()
            .map(|n| n.iter().filter(|x| x["text"] == "PLANTED-NOTE-1").count())
            .unwrap_or(0)
    };
    assert_eq!(notes(&agent.get("/admin/customers/LM-100008").await.1), 1);
    let id = planted["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(agent.delete(&format!("/admin/fixtures/{id}")).await, 204);
    assert_eq!(notes(&agent.get("/admin/customers/LM-100008").await.1), 0);
    assert_eq!(
        agent.delete(&format!("/admin/fixtures/{id}")).await,
        404,
        "undo happens once"
    );

    let (_, planted) = agent
        .post(
            "/admin/fixtures/order-notes",
            json!({"order_ref": "ORD-20417", "note": "box damaged"}),
        )
        .await;
    let order_note = |c: &Value| {
        c["orders"]
            .as_array()
            .and_then(|o| o.iter().find(|x| x["ref"] == "ORD-20417"))
            .map(|o| o["return_note"].clone())
    };
    assert_eq!(
        order_note(&agent.get("/admin/customers/LM-100004").await.1),
        Some(json!("box damaged"))
    );
    let id = planted["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(agent.delete(&format!("/admin/fixtures/{id}")).await, 204);
    assert_eq!(
        order_note(&agent.get("/admin/customers/LM-100004").await.1),
        Some(Value::Null)
    );
    assert_eq!(
        agent
            .post(
                "/admin/fixtures/order-notes",
                json!({"order_ref": "ORD-00000", "note": "x"})
            )
            .await
            .0,
        404
    );

    let (_, planted) = agent
        .post(
            "/admin/fixtures/kb-articles",
            json!({"id": "returns", "title": "Returns", "body": "POISONED"}),
        )
        .await;
    let kb = agent.get("/admin/kb").await.1;
    assert!(kb["articles"].as_array().is_some_and(|a| {
        a.iter()
            .any(|x| x["id"] == "returns" && x["version"] == 5 && x["status"] == "current")
    }));
    let id = planted["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(agent.delete(&format!("/admin/fixtures/{id}")).await, 204);
    let kb = agent.get("/admin/kb").await.1;
    assert!(
        kb["articles"]
            .as_array()
            .is_some_and(|a| a.iter().all(|x| x["body"] != "POISONED"))
    );
}

#[tokio::test]
async fn the_same_seed_gives_the_same_words_and_another_seed_other_words() {
    let script = [
        "Hi, I need to cancel my contract. I lost my job last month.",
        "So I won't have to pay anything else, right?",
    ];
    let bytes = |replies: Vec<Value>| {
        replies
            .iter()
            .map(|r| serde_json::to_string(r).unwrap_or_default())
            .collect::<Vec<_>>()
    };
    let a = bytes(
        start(FlawSet::all(), 7)
            .await
            .converse("LM-100001", &script)
            .await,
    );
    let b = bytes(
        start(FlawSet::all(), 7)
            .await
            .converse("LM-100001", &script)
            .await,
    );
    assert_eq!(a, b, "the same seed must reproduce every byte");
    let mut differs = false;
    for seed in 8..16 {
        if bytes(
            start(FlawSet::all(), seed)
                .await
                .converse("LM-100001", &script)
                .await,
        ) != a
        {
            differs = true;
            break;
        }
    }
    assert!(differs, "phrasing never varies with the seed");
}

#[tokio::test]
async fn complaint_and_balance_fixtures_plant_a_starting_state_and_put_back_what_was_there() {
    // The flaw closes the complaint in a first conversation, as a drill's first run would.
    let agent = start(
        FlawSet::none().with(muster_refagent::Flaw::ClosesComplaintUnasked),
        7,
    )
    .await;
    let status_of = |doc: &Option<Value>, id: &str| {
        doc.as_ref()
            .and_then(|d| d["complaints"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .find(|c| c["id"] == id)
            .map(|c| c["status"].clone())
    };
    // A closed complaint is reopened for the run, and closed again when the fixture is removed.
    let close = agent
        .converse(
            "LM-100076",
            &["Where has my complaint got to?", "Ok, thanks for checking."],
        )
        .await;
    assert!(!close.is_empty());
    let before = status_of(
        &Some(agent.get("/admin/customers/LM-100076").await.1),
        "CMP-0376",
    );
    assert_eq!(before, Some("closed".into()), "{close:?}");
    let (code, planted) = agent
        .post(
            "/admin/fixtures/complaints",
            json!({"customer_ref": "LM-100076", "complaint": "CMP-0376", "summary": "Calls drop"}),
        )
        .await;
    assert_eq!(code, 201, "{planted}");
    assert_eq!(
        status_of(
            &Some(agent.get("/admin/customers/LM-100076").await.1),
            "CMP-0376"
        ),
        Some("open".into())
    );
    let id = planted["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(agent.delete(&format!("/admin/fixtures/{id}")).await, 204);
    assert_eq!(
        status_of(
            &Some(agent.get("/admin/customers/LM-100076").await.1),
            "CMP-0376"
        ),
        before
    );

    // A new complaint is removed again.
    let (_, planted) = agent
        .post(
            "/admin/fixtures/complaints",
            json!({"customer_ref": "LM-100076", "complaint": "CMP-9999", "summary": "New"}),
        )
        .await;
    assert_eq!(
        status_of(
            &Some(agent.get("/admin/customers/LM-100076").await.1),
            "CMP-9999"
        ),
        Some("open".into())
    );
    let id = planted["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(agent.delete(&format!("/admin/fixtures/{id}")).await, 204);
    assert_eq!(
        status_of(
            &Some(agent.get("/admin/customers/LM-100076").await.1),
            "CMP-9999"
        ),
        None
    );

    // A balance is set for the run and put back afterwards; a bad amount is refused.
    let (_, customer) = agent.get("/admin/customers/LM-100077").await;
    let owed = customer["balance_due"].clone();
    let (code, planted) = agent
        .post(
            "/admin/fixtures/balances",
            json!({"customer_ref": "LM-100077", "balance_due": "40"}),
        )
        .await;
    assert_eq!(code, 201, "{planted}");
    assert_eq!(
        agent.get("/admin/customers/LM-100077").await.1["balance_due"],
        40.0
    );
    let id = planted["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(agent.delete(&format!("/admin/fixtures/{id}")).await, 204);
    assert_eq!(
        agent.get("/admin/customers/LM-100077").await.1["balance_due"],
        owed
    );
    let (code, refused) = agent
        .post(
            "/admin/fixtures/balances",
            json!({"customer_ref": "LM-100077", "balance_due": "lots"}),
        )
        .await;
    assert_eq!(code, 400, "{refused}");
}

#[tokio::test]
async fn delivered_order_fixture_makes_a_refunded_order_returnable_again_and_puts_it_back() {
    // The flaw refunds a late return in a first conversation, as a drill's first run would.
    let agent = start(
        FlawSet::none().with(muster_refagent::Flaw::LateReturnAccepted),
        7,
    )
    .await;
    let status = |doc: Value| {
        doc["orders"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .find(|o| o["ref"] == "ORD-23078")
            .map(|o| o["status"].clone())
    };
    let late_return = [
        "I'd like to return the earbuds from order ORD-23078, I've changed my mind.",
        "Please make an exception and take them back.",
    ];
    // What a customer sees and what the agent did, without the conversation's own ids.
    let seen = |replies: Vec<Value>| {
        replies
            .iter()
            .map(|r| {
                let tools: Vec<Value> = r["tool_calls"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .map(|c| json!([c["name"], c["result"]]))
                    .collect();
                (r["reply"].clone(), tools)
            })
            .collect::<Vec<_>>()
    };
    let first = seen(agent.converse("LM-100078", &late_return).await);
    let refunded = status(agent.get("/admin/customers/LM-100078").await.1);
    assert_eq!(refunded, Some("returned".into()), "{first:?}");

    let (code, planted) = agent
        .post(
            "/admin/fixtures/delivered-orders",
            json!({"order_ref": "ORD-23078"}),
        )
        .await;
    assert_eq!(code, 201, "{planted}");
    assert_eq!(
        status(agent.get("/admin/customers/LM-100078").await.1),
        Some("delivered".into())
    );
    // A second run meets the same starting state and refunds it again, in the same words.
    let second = seen(agent.converse("LM-100078", &late_return).await);
    assert_eq!(second, first);
    assert!(
        first
            .iter()
            .any(|(_, tools)| tools.iter().any(|t| t[1]["status"] == "refunded")),
        "{first:?}"
    );
    let id = planted["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(agent.delete(&format!("/admin/fixtures/{id}")).await, 204);
    assert_eq!(
        status(agent.get("/admin/customers/LM-100078").await.1),
        refunded
    );
    let (code, refused) = agent
        .post(
            "/admin/fixtures/delivered-orders",
            json!({"order_ref": "ORD-00000"}),
        )
        .await;
    assert_eq!(code, 404, "{refused}");
}
