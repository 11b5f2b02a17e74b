//! The OpenAPI 3.1 document, generated from the route table (so it lists exactly the routes the
//! router serves, each with the permission its guard enforces).

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::roles::Permission;
use crate::routes::{RouteSpec, Surface};

/// The extension naming the permission a route needs (`x-muster-permission`).
pub const PERMISSION_EXTENSION: &str = "x-muster-permission";

pub fn document(specs: &[RouteSpec]) -> Value {
    let mut generator = SchemaSettings::openapi3()
        .with(|s| s.definitions_path = "/components/schemas".into())
        .into_generator();
    let mut paths: Map<String, Value> = Map::new();
    for spec in specs.iter().filter(|s| s.surface == Surface::Api) {
        let mut operation = Map::new();
        operation.insert("summary".into(), json!(spec.summary));
        operation.insert(
            "operationId".into(),
            json!(format!("{} {}", spec.method, spec.path)),
        );
        operation.insert(PERMISSION_EXTENSION.into(), json!(spec.permission.key()));
        let parameters: Vec<Value> = path_parameters(spec.path)
            .into_iter()
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        if !parameters.is_empty() {
            operation.insert("parameters".into(), Value::Array(parameters));
        }
        if let Some((_, schema)) = spec.request {
            let schema = schema(&mut generator);
            operation.insert(
                "requestBody".into(),
                json!({"required": true, "content": {
                    "application/json": {"schema": schema},
                    "application/x-www-form-urlencoded": {"schema": schema},
                }}),
            );
        }
        let ok = if spec.event_stream {
            json!({"description": "Server-sent events: `entry` per new log entry, `resync` when the client fell behind.",
                   "content": {"text/event-stream": {"schema": {"type": "string"}}}})
        } else if let Some((description, schema)) = spec.response {
            json!({"description": description, "content": {"application/json": {"schema": schema(&mut generator)}}})
        } else {
            json!({"description": "OK"})
        };
        let mut responses = Map::new();
        responses.insert("200".into(), ok);
        if spec.permission != Permission::Public {
            responses.insert(
                "401".into(),
                json!({"$ref": "#/components/responses/Unauthenticated"}),
            );
            responses.insert(
                "403".into(),
                json!({"$ref": "#/components/responses/Forbidden"}),
            );
        }
        operation.insert("responses".into(), Value::Object(responses));
        if spec.permission != Permission::Public {
            operation.insert("security".into(), json!([{"session": []}]));
        }
        let item = paths
            .entry(spec.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(item) = item {
            item.insert(
                spec.method.as_str().to_ascii_lowercase(),
                Value::Object(operation),
            );
        }
    }
    let schemas: Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    let doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "muster exercise console",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The console's JSON API. Sign in with POST /api/session; send the session cookie and, on every write, the returned CSRF token in X-CSRF-Token. Each operation's x-muster-permission names what it needs (see docs/console.md for the matrix).",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE}},
            "responses": {
                "Unauthenticated": {"description": "Not signed in", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}},
                "Forbidden": {"description": "The caller's roles do not grant the route's permission, or the CSRF token is missing", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}},
            },
        },
    });
    add_error_schema(doc)
}

fn add_error_schema(mut doc: Value) -> Value {
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.insert(
            "ErrorBody".into(),
            json!({"type": "object", "required": ["error", "message"], "properties": {
                "error": {"type": "string"}, "message": {"type": "string"}}}),
        );
    }
    doc
}

/// `{id}` and friends in an axum path.
pub fn path_parameters(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(str::to_owned)
        .collect()
}
