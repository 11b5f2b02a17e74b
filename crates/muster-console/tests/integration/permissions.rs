//! Every role against every API route the console serves, with the route list read from the
//! served OpenAPI document (not a hand-kept list): a route answers 403 exactly when the matrix
//! denies the role its permission, and 401 to anyone not signed in.

use muster_console::roles::{Permission, Role, grants};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::common::start;

struct Operation {
    method: Method,
    template: String,
    permission: Permission,
}

fn operations(doc: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    for (template, item) in paths {
        for (method, op) in item.as_object().cloned().unwrap_or_default() {
            let key = op["x-muster-permission"].as_str().unwrap_or_default();
            let permission = Permission::parse(key)
                .unwrap_or_else(|| panic!("{method} {template}: unknown permission `{key}`"));
            out.push(Operation {
                method: Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                    .unwrap_or(Method::GET),
                template: template.clone(),
                permission,
            });
        }
    }
    // Signing out ends the session the rest of the walk uses: do it last.
    out.sort_by_key(|o| o.template == "/api/session/end");
    out
}

fn fill(template: &str, exercise: &str) -> String {
    template
        .replace("{id}", exercise)
        .replace("{inject}", "no-such-inject")
        .replace("{decision}", "d-none")
        .replace("{question}", "q1")
        .replace("{comms}", "c-none")
        .replace("{action}", "a-none")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_against_every_served_route() {
    let console = start().await;
    let facilitator = console.user("fay", Role::Facilitator).await;
    let exercise = facilitator
        .exercise(&console.drill_id, serde_json::json!({}))
        .await;
    let (status, doc) = facilitator.get("/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let ops = operations(&doc);
    assert!(ops.len() >= 30, "only {} operations served", ops.len());
    // Every write route and every permission of the matrix is exercised.
    for p in Permission::ALL {
        assert!(
            ops.iter().any(|o| o.permission == p),
            "no route needs {p:?}"
        );
    }

    let mut checked = 0;
    for role in Role::ALL {
        let client = console.user(&format!("u-{}", role.key()), role).await;
        for op in &ops {
            if op.permission == Permission::Public {
                continue;
            }
            let path = fill(&op.template, &exercise);
            let (status, body) = if op.template.ends_with("/stream") {
                // An event stream never ends: its status is all there is to read.
                (
                    client.status_of(&path).await,
                    serde_json::json!({"error": "forbidden"}),
                )
            } else {
                client.send(op.method.clone(), &path, None).await
            };
            let allowed = grants(role, op.permission);
            if allowed {
                assert!(
                    status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                    "{} {path} as {}: expected access, got {status} {body}",
                    op.method,
                    role.key()
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{} {path} as {}: expected 403, got {status} {body}",
                    op.method,
                    role.key()
                );
                assert_eq!(body["error"], "forbidden", "{} {path}", op.method);
            }
            checked += 1;
        }
    }
    assert!(checked >= 10 * 30, "{checked} checks");

    // Nobody signed in: every route but the public ones answers 401.
    let anonymous = reqwest::Client::new();
    for op in ops.iter().filter(|o| o.permission != Permission::Public) {
        let path = fill(&op.template, &exercise);
        let status = anonymous
            .request(op.method.clone(), format!("{}{path}", console.base))
            .send()
            .await
            .map(|r| r.status())
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{} {path}", op.method);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_names_the_permission_the_guard_enforces() {
    let console = start().await;
    let (router_specs, doc) = {
        let (_, specs) = muster_console::router(console.state.clone());
        let client = reqwest::Client::new();
        let doc: Value = client
            .get(format!("{}/api/openapi.json", console.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .json()
            .await
            .unwrap_or_default();
        (specs, doc)
    };
    let api: Vec<_> = router_specs
        .iter()
        .filter(|s| s.surface == muster_console::Surface::Api)
        .collect();
    for spec in &api {
        let op = &doc["paths"][spec.path][spec.method.as_str().to_ascii_lowercase()];
        assert_eq!(
            op["x-muster-permission"].as_str(),
            Some(spec.permission.key()),
            "{} {}",
            spec.method,
            spec.path
        );
    }
    assert_eq!(doc["openapi"], "3.1.0");
    // Every $ref resolves.
    let text = doc.to_string();
    for (i, _) in text.match_indices("#/components/schemas/") {
        let rest = &text[i + "#/components/schemas/".len()..];
        let name: String = rest.chars().take_while(|c| *c != '"').collect();
        assert!(
            doc["components"]["schemas"].get(&name).is_some(),
            "unresolved schema {name}"
        );
    }
}
