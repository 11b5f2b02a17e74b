//! Salesforce Service Cloud: Case (and CaseHistory, CaseComment) records as the REST API's SOQL
//! query returns them, and the queue adapter.
//!
//! Reference: <https://developer.salesforce.com/docs/platform/api-rest/guide/resources-query>
//! (the query envelope) and the Case object reference for field names.

use std::collections::BTreeMap;

use async_trait::async_trait;
use muster_model::agent::QueueKind;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::flex::{Scalar, null_as_default, parse_timestamp};
use crate::http::{Http, below};
use crate::{HandoverQuery, HandoverQueue, HandoverTicket, Lookup, QueueError, from_json};

/// `GET /services/data/vXX.X/query?q=…`. `totalSize`, `done` and `records` are required.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryResult<T> {
    pub total_size: u64,
    pub done: bool,
    #[serde(default)]
    pub next_records_url: Option<String>,
    pub records: Vec<T>,
}

/// Every record's `attributes`: its sObject type and REST URL.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Attributes {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

/// A Case. Fields not selected are absent; any other field (including the configurable
/// conversation-id field) is kept in `fields`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Case {
    #[serde(default)]
    pub attributes: Option<Attributes>,
    /// 18 characters, prefix `500`.
    pub id: String,
    #[serde(default)]
    pub case_number: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub origin: Option<String>,
    #[serde(default, rename = "Type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub is_escalated: Option<bool>,
    #[serde(default)]
    pub is_closed: Option<bool>,
    #[serde(default)]
    pub owner_id: Option<String>,
    #[serde(default)]
    pub contact_id: Option<String>,
    #[serde(default)]
    pub account_id: Option<String>,
    #[serde(default)]
    pub supplied_email: Option<String>,
    #[serde(default)]
    pub supplied_name: Option<String>,
    /// `2024-01-01T10:00:00.000+0000`.
    #[serde(default)]
    pub created_date: Option<String>,
    #[serde(default)]
    pub last_modified_date: Option<String>,
    #[serde(default)]
    pub closed_date: Option<String>,
    #[serde(flatten)]
    pub fields: BTreeMap<String, Value>,
}

/// A field change on a Case (`SELECT … FROM CaseHistory`). `Field` is the field's API name or
/// `ownerAssignment`, `ownerAccepted`, `ownerEscalated`, `created`…
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CaseHistory {
    #[serde(default)]
    pub attributes: Option<Attributes>,
    pub id: String,
    #[serde(default)]
    pub case_id: Option<String>,
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub old_value: Option<Value>,
    #[serde(default)]
    pub new_value: Option<Value>,
    #[serde(default)]
    pub data_type: Option<String>,
    #[serde(default)]
    pub created_date: Option<String>,
    #[serde(default)]
    pub created_by_id: Option<String>,
}

/// A comment on a Case (`SELECT … FROM CaseComment`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CaseComment {
    #[serde(default)]
    pub attributes: Option<Attributes>,
    pub id: String,
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub comment_body: Option<String>,
    #[serde(default)]
    pub is_published: Option<bool>,
    #[serde(default)]
    pub created_date: Option<String>,
}

/// One entry of Salesforce's error body, a JSON array:
/// `[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiError {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub fields: Vec<String>,
}

/// Reads a query result of `T`, keeping each record's JSON.
pub fn read_query<T: DeserializeOwned>(value: Value) -> Result<QueryResult<(T, Value)>, String> {
    let envelope: QueryResult<Value> = serde_json::from_value(value).map_err(|e| e.to_string())?;
    let records = envelope
        .records
        .into_iter()
        .map(|raw| {
            serde_json::from_value::<T>(raw.clone())
                .map(|t| (t, raw))
                .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(QueryResult {
        total_size: envelope.total_size,
        done: envelope.done,
        next_records_url: envelope.next_records_url,
        records,
    })
}

/// SOQL string literal: backslash and quote escaped, as SOQL requires.
pub fn soql_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

fn is_api_name(name: &str) -> bool {
    name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

const CASE_FIELDS: &[&str] = &[
    "Id",
    "CaseNumber",
    "Subject",
    "Description",
    "Priority",
    "Status",
    "Origin",
    "CreatedDate",
    "ContactId",
    "SuppliedEmail",
    "OwnerId",
];

#[derive(Debug)]
pub struct SalesforceQueue {
    http: Http,
    base: Url,
    version: String,
    field: String,
}

impl SalesforceQueue {
    pub(crate) fn new(
        http: Http,
        base: Url,
        version: &str,
        field: Option<&str>,
    ) -> Result<Self, QueueError> {
        let field = field.ok_or_else(|| {
            QueueError::Config(
                "a `salesforce` queue needs `conversation_field`, the API name of the Case field holding the conversation id (e.g. `Conversation_Id__c`)".into(),
            )
        })?;
        // The field name goes into the query unquoted, so only an API name may.
        if !is_api_name(field) {
            return Err(QueueError::Config(format!(
                "`conversation_field: {field}` is not a Salesforce field API name (letters, digits and `_`)"
            )));
        }
        let version = version.trim_start_matches(['v', 'V']);
        let numeric = version.split_once('.').is_some_and(|(a, b)| {
            !a.is_empty() && !b.is_empty() && (a.to_owned() + b).bytes().all(|c| c.is_ascii_digit())
        });
        if !numeric {
            return Err(QueueError::Config(format!(
                "`api_version: {version}` is not a Salesforce API version such as `62.0`"
            )));
        }
        Ok(Self {
            http,
            base,
            version: version.to_owned(),
            field: field.to_owned(),
        })
    }

    /// The SOQL the adapter runs.
    pub fn soql(&self, conversation: &str) -> String {
        let mut fields: Vec<&str> = CASE_FIELDS.to_vec();
        if !fields.iter().any(|f| f.eq_ignore_ascii_case(&self.field)) {
            fields.push(&self.field);
        }
        format!(
            "SELECT {} FROM Case WHERE {} = {} ORDER BY CreatedDate ASC LIMIT 10",
            fields.join(", "),
            self.field,
            soql_string(conversation)
        )
    }

    fn field_value(&self, case: &Case, raw: &Value) -> Option<Scalar> {
        // The API echoes the field's declared case, which may differ from the manifest's.
        raw.as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&self.field))
            .and_then(|(_, v)| Scalar::from_value(v))
            .or_else(|| (self.field.eq_ignore_ascii_case("Id")).then(|| Scalar(case.id.clone())))
    }
}

#[async_trait]
impl HandoverQueue for SalesforceQueue {
    async fn find_handover(&self, query: &HandoverQuery) -> Lookup {
        let conversation = &query.conversation_id;
        let mut url = match below(
            &self.base,
            &format!("services/data/v{}/query", self.version),
        ) {
            Ok(url) => url,
            Err(err) => return Lookup::failed(err, vec![]),
        };
        url.query_pairs_mut()
            .append_pair("q", &self.soql(conversation));
        let (exchange, body) = self.http.get(url).await;
        let shown = exchange.url.clone();
        let system = self.http.system;
        let outcome = body.and_then(|body| {
            let result: QueryResult<Value> = from_json(
                system,
                &shown,
                body,
                "a query result `{\"totalSize\", \"done\", \"records\": […]}`",
            )?;
            let mut found = None;
            for raw in result.records {
                let is_case = raw
                    .pointer("/attributes/type")
                    .and_then(Value::as_str)
                    .is_none_or(|t| t == "Case");
                if !is_case {
                    continue;
                }
                let case: Case =
                    from_json(system, &shown, raw.clone(), "Case records with an `Id`")?;
                if found.is_none()
                    && self
                        .field_value(&case, &raw)
                        .is_some_and(|v| v.as_str() == conversation)
                {
                    found = Some((case, raw));
                }
            }
            Ok(found.map(|(case, raw)| HandoverTicket {
                system: QueueKind::Salesforce,
                id: case.case_number.clone().unwrap_or_else(|| case.id.clone()),
                created_at: case.created_date.as_deref().and_then(parse_timestamp),
                conversation_id: Some(conversation.clone()),
                customer_ref: case.contact_id.or(case.supplied_email),
                context: case.description.filter(|d| !d.trim().is_empty()),
                priority: case.priority,
                tags: Vec::new(),
                queue: case.owner_id,
                raw,
            }))
        });
        Lookup::new(outcome, vec![exchange])
    }

    fn describe(&self) -> String {
        format!(
            "Salesforce at {} (Cases whose {} is the conversation id, API v{})",
            self.base, self.field, self.version
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soql_strings_are_escaped() {
        assert_eq!(soql_string("conv-1"), "'conv-1'");
        assert_eq!(soql_string("a'b\\c"), "'a\\'b\\\\c'");
    }

    #[test]
    fn a_case_keeps_custom_fields() {
        let q = read_query::<Case>(serde_json::json!({
            "totalSize": 1, "done": true,
            "records": [{"attributes": {"type": "Case", "url": "/services/data/v62.0/sobjects/Case/500xx"},
                         "Id": "500xx", "CaseNumber": "00001003", "Priority": "High",
                         "CreatedDate": "2024-01-01T10:00:00.000+0000", "Conversation_Id__c": "c-1"}]
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let (case, _) = &q.records[0];
        assert_eq!(case.case_number.as_deref(), Some("00001003"));
        assert_eq!(
            case.fields.get("Conversation_Id__c"),
            Some(&Value::from("c-1"))
        );
        assert!(parse_timestamp(case.created_date.as_deref().unwrap_or("")).is_some());
    }

    #[test]
    fn the_envelope_is_required() {
        assert!(read_query::<Case>(serde_json::json!({"records": []})).is_err());
        assert!(
            read_query::<Case>(serde_json::json!([{"errorCode": "INVALID_SESSION_ID"}])).is_err()
        );
        assert!(
            read_query::<Case>(
                serde_json::json!({"totalSize": 1, "done": true, "records": [{"Subject": "no id"}]})
            )
            .is_err()
        );
    }

    #[test]
    fn history_and_errors_read() {
        let h: CaseHistory = serde_json::from_value(serde_json::json!({
            "Id": "017xx", "CaseId": "500xx", "Field": "ownerAssignment", "OldValue": null, "NewValue": "00Gxx",
            "CreatedDate": "2024-01-01T10:00:00.000+0000"
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(h.field.as_deref(), Some("ownerAssignment"));
        let e: Vec<ApiError> = serde_json::from_str(
            r#"[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(e[0].error_code.as_deref(), Some("INVALID_SESSION_ID"));
    }
}
