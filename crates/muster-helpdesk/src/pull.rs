//! Incremental pulls of a helpdesk's records through its API, for `muster ingest --from`: one
//! page at a time, each page's records with a stable name, and the cursor to resume from after it.
//!
//! Each vendor's incremental interface, and the cursor muster keeps for it:
//!
//! * Zendesk: the time-based incremental exports (`/api/v2/incremental/tickets.json` and
//!   `ticket_events.json`, `start_time` → `end_time`); the cursor is the next `start_time`.
//!   Audits: the tickets the ticket export lists, then each one's
//!   `GET /api/v2/tickets/{id}/audits.json` (cursor pagination, `page[size]`/`page[after]`).
//! * Intercom: `POST /conversations/search` on `updated_at`, paged with `starting_after`; each
//!   conversation found is then read in full (`GET /conversations/{id}`, with its
//!   `conversation_parts`), and that full conversation is the record stored.
//! * Freshdesk: `GET /api/v2/tickets?updated_since=…`, ascending by `updated_at`, paged by number.
//!   Conversations: the tickets that listing finds, then each one's
//!   `GET /api/v2/tickets/{id}/conversations` (`page`/`per_page`, more while the `Link` header
//!   names a `rel="next"` page).
//! * Salesforce: SOQL on `Case.SystemModstamp` and `CaseHistory.CreatedDate`, paged with
//!   `nextRecordsUrl`.
//!
//! Watermarks overlap their boundary (a record updated in the same second as the last one seen
//! is asked for again) because missing a record is worse than reading one twice: each record is
//! named by its own API URL, so one read again unchanged is recognised and not stored again,
//! while a changed one is stored as the new state it is.
//!
//! Streams that read each changed record's children (Zendesk audits, Intercom full
//! conversations, Freshdesk conversations) make one request per page: a listing page (no records;
//! its ids go into the cursor), then one page of one parent's children. The cursor keeps the
//! parents still to read and, once they are read, the listing's own cursor to go on from; so a
//! pull cut short resumes at the parent (and child page) it stopped at.
//!
//! A vendor's `next_page` or `after_url` is never followed: a URL from a response could point the
//! credentials at another host. The next request is built from the base URL and the cursor (a
//! Zendesk `after_cursor`, a page number). A Freshdesk `Link: <…>; rel="next"` is read only when
//! it is below the base URL, for its page number; one pointing anywhere else is an error.

use std::time::Duration;

use muster_model::agent::{Queue, QueueKind};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use url::Url;

use crate::http::{Http, below};
use crate::{Api, DEFAULT_TIMEOUT, QueueError, connect, kind_name, resolve_secret};

/// Records asked for per page where the API takes a page size.
const PAGE_SIZE: usize = 100;
/// Freshdesk serves at most this many pages of one listing.
const FRESHDESK_MAX_PAGE: u64 = 300;

/// One incremental stream of a vendor's records, with a cursor of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    ZendeskTickets,
    ZendeskTicketEvents,
    /// The audits of each ticket the incremental ticket export lists.
    ZendeskTicketAudits,
    /// Conversations found by the search, each read in full (with its parts).
    IntercomConversations,
    FreshdeskTickets,
    /// The conversations (replies and notes) of each ticket the ticket listing finds.
    FreshdeskConversations,
    SalesforceCases,
    SalesforceCaseHistory,
}

impl Stream {
    /// A short name for summaries and the stored progress (`tickets`, `ticket_events`).
    pub fn name(self) -> &'static str {
        match self {
            Stream::ZendeskTickets | Stream::FreshdeskTickets => "tickets",
            Stream::ZendeskTicketEvents => "ticket_events",
            Stream::ZendeskTicketAudits => "audits",
            Stream::IntercomConversations | Stream::FreshdeskConversations => "conversations",
            Stream::SalesforceCases => "Case",
            Stream::SalesforceCaseHistory => "CaseHistory",
        }
    }
}

/// One record of a page: the name it is stored under (its own API URL) and its body, in the
/// shape the vendor's single-record endpoint returns.
#[derive(Clone, Debug, PartialEq)]
pub struct PulledRecord {
    pub origin: String,
    pub body: Vec<u8>,
}

/// One page of a stream.
#[derive(Clone, Debug, PartialEq)]
pub struct PullPage {
    /// The request, secrets redacted.
    pub url: String,
    pub records: Vec<PulledRecord>,
    /// Where the next request starts; store it once the records are stored.
    pub cursor: String,
    /// The stream is read to its present end (the cursor is where the next pull starts).
    pub done: bool,
    /// 429 answers waited out before this page.
    pub waited: u32,
    /// Records listed as changed that were gone (HTTP 404) when their details were read:
    /// deleted since the listing. Each says which and where; the pull moves on past them.
    pub gone: Vec<String>,
}

impl PullPage {
    fn new(url: String, records: Vec<PulledRecord>, cursor: String, done: bool) -> Self {
        Self {
            url,
            records,
            cursor,
            done,
            waited: 0,
            gone: Vec::new(),
        }
    }

    /// A page for a listed record that no longer exists: nothing stored, the cursor past it.
    fn gone(url: String, what: String, (cursor, done): (String, bool)) -> Self {
        let mut page = Self::new(url, Vec::new(), cursor, done);
        page.gone.push(what);
        page
    }
}

/// A 404 for one listed record's details: it was deleted after the listing named it.
fn is_gone(e: &QueueError) -> bool {
    e.status() == Some(404)
}

/// A helpdesk's API, ready to pull from.
#[derive(Debug)]
pub struct Puller {
    kind: QueueKind,
    http: Http,
    base: Url,
    version: String,
    conversation_field: Option<String>,
    /// A 429's `Retry-After` is waited out up to this long, this many times per page.
    pub max_wait: Duration,
    pub max_retries: u32,
}

/// The puller a `zendesk`, `intercom`, `freshdesk` or `salesforce` queue describes: the same base
/// URL, credentials and scheme as its handover look-ups. `env` reads environment variables.
pub fn puller_from_queue(
    queue: &Queue,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Puller, QueueError> {
    let timeout = queue.timeout.map_or(DEFAULT_TIMEOUT, |d| d.0);
    if timeout.is_zero() {
        return Err(QueueError::Config(
            "`timeout` must be more than zero".into(),
        ));
    }
    let (secrets, secret) = resolve_secret(queue, env)?;
    let Api {
        http,
        base,
        version,
    } = connect(queue, timeout, secrets, secret)?;
    Ok(Puller {
        kind: queue.kind,
        http,
        base,
        version,
        conversation_field: queue.conversation_field.clone(),
        max_wait: Duration::from_secs(60),
        max_retries: 3,
    })
}

impl Puller {
    pub fn streams(&self) -> &'static [Stream] {
        match self.kind {
            QueueKind::Zendesk => &[
                Stream::ZendeskTickets,
                Stream::ZendeskTicketEvents,
                Stream::ZendeskTicketAudits,
            ],
            QueueKind::Intercom => &[Stream::IntercomConversations],
            QueueKind::Freshdesk => &[Stream::FreshdeskTickets, Stream::FreshdeskConversations],
            QueueKind::Salesforce => &[Stream::SalesforceCases, Stream::SalesforceCaseHistory],
            QueueKind::Reference | QueueKind::Webhook => &[],
        }
    }

    /// `zendesk`, `intercom`…
    pub fn vendor(&self) -> &'static str {
        kind_name(self.kind)
    }

    /// The API's base URL (it never carries credentials).
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// Read one page of `stream` from `cursor`, or, on a first pull, from `since` (Unix seconds).
    /// A 429 is waited out (its `Retry-After`, at most `max_wait`, `max_retries` times); every
    /// other failure is returned, naming the URL and status.
    pub async fn page(
        &self,
        stream: Stream,
        cursor: Option<&str>,
        since: i64,
    ) -> Result<PullPage, QueueError> {
        let mut waited = 0;
        loop {
            match self.page_once(stream, cursor, since).await {
                Err(QueueError::RateLimited { retry_after, .. })
                    if waited < self.max_retries
                        && retry_after.unwrap_or(Duration::from_secs(1)) <= self.max_wait =>
                {
                    waited += 1;
                    tokio::time::sleep(retry_after.unwrap_or(Duration::from_secs(1))).await;
                }
                Ok(mut page) => {
                    page.waited = waited;
                    return Ok(page);
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn page_once(
        &self,
        stream: Stream,
        cursor: Option<&str>,
        since: i64,
    ) -> Result<PullPage, QueueError> {
        match stream {
            Stream::ZendeskTickets => self.zendesk(stream, "tickets", cursor, since).await,
            Stream::ZendeskTicketEvents => {
                self.zendesk(stream, "ticket_events", cursor, since).await
            }
            Stream::ZendeskTicketAudits
            | Stream::IntercomConversations
            | Stream::FreshdeskConversations => self.fanned(stream, cursor, since).await,
            Stream::FreshdeskTickets => self.freshdesk(cursor, since).await,
            Stream::SalesforceCases | Stream::SalesforceCaseHistory => {
                self.salesforce(stream, cursor, since).await
            }
        }
    }

    fn malformed(&self, url: &str, reason: impl Into<String>) -> QueueError {
        QueueError::Malformed {
            system: self.http.system,
            url: url.to_owned(),
            reason: reason.into(),
        }
    }

    /// A cursor muster wrote, read back; a damaged one is reported, not silently restarted.
    fn state(&self, cursor: Option<&str>) -> Result<Map<String, Value>, QueueError> {
        match cursor {
            None => Ok(Map::new()),
            Some(text) => match serde_json::from_str(text) {
                Ok(Value::Object(o)) => Ok(o),
                _ => Err(QueueError::Config(format!(
                    "the stored {} pull cursor `{text}` is not one muster wrote; pull into a new --source to start again",
                    self.http.system
                ))),
            },
        }
    }

    async fn get(&self, url: Url) -> Result<(String, Value), QueueError> {
        let (exchange, result) = self.http.get(url).await;
        result.map(|v| (exchange.url, v))
    }

    async fn zendesk(
        &self,
        stream: Stream,
        list: &str,
        cursor: Option<&str>,
        since: i64,
    ) -> Result<PullPage, QueueError> {
        let start = match cursor {
            Some(c) => c.parse::<i64>().map_err(|_| {
                QueueError::Config(format!(
                    "the stored Zendesk pull cursor `{c}` is not a start time"
                ))
            })?,
            None => since,
        };
        let mut url = below(&self.base, &format!("api/v2/incremental/{list}.json"))?;
        url.query_pairs_mut()
            .append_pair("start_time", &start.to_string());
        if stream == Stream::ZendeskTicketEvents {
            // Without it the export has changes but not the comments: the conversation itself.
            url.query_pairs_mut()
                .append_pair("include", "comment_events");
        }
        let (shown, body) = self.get(url).await?;
        let Some(records) = body.get(list).and_then(Value::as_array) else {
            return Err(self.malformed(&shown, format!("expected `{{\"{list}\": […]}}`")));
        };
        let done = body
            .get("end_of_stream")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let end_time = body.get("end_time").and_then(number);
        let next = match (end_time, done) {
            (Some(t), _) => t,
            (None, true) => start,
            (None, false) => {
                return Err(self.malformed(&shown, "no `end_time` before the end of the stream"));
            }
        };
        if !done && next <= start {
            // Zendesk's documented case: more than a page of records in one second.
            return Err(self.malformed(
                &shown,
                format!("`end_time` {next} does not move past `start_time` {start}"),
            ));
        }
        let records = records
            .iter()
            .enumerate()
            .map(|(i, r)| match stream {
                Stream::ZendeskTickets => PulledRecord {
                    origin: self.named(
                        &format!("api/v2/tickets/{}.json", id_of(r, "id")),
                        &shown,
                        i,
                    ),
                    body: to_bytes(&json!({ "ticket": r })),
                },
                _ => PulledRecord {
                    origin: format!(
                        "{}#{}",
                        self.named("api/v2/incremental/ticket_events.json", &shown, i),
                        id_of(r, "id")
                    ),
                    body: to_bytes(&json!({ "ticket_events": [r] })),
                },
            })
            .collect();
        Ok(PullPage::new(shown, records, next.to_string(), done))
    }

    async fn intercom(&self, cursor: Option<&str>, since: i64) -> Result<PullPage, QueueError> {
        let state = self.state(cursor)?;
        let from = state.get("since").and_then(number).unwrap_or(since);
        let mut latest = state.get("latest").and_then(number).unwrap_or(from);
        let mut pagination = json!({ "per_page": PAGE_SIZE });
        if let Some(after) = state.get("after").and_then(Value::as_str) {
            pagination["starting_after"] = json!(after);
        }
        // One second of overlap: `>` on whole seconds would miss a conversation updated in
        // the same second as the last one read.
        let query = json!({
            "query": {"field": "updated_at", "operator": ">", "value": (from - 1).max(0)},
            "pagination": pagination,
        });
        let url = below(&self.base, "conversations/search")?;
        let (exchange, result) = self.http.post(url, query).await;
        let body = result?;
        let shown = exchange.url;
        let Some(list) = body.get("conversations").and_then(Value::as_array) else {
            return Err(self.malformed(&shown, "expected `{\"conversations\": […]}`"));
        };
        let mut records = Vec::with_capacity(list.len());
        for (i, c) in list.iter().enumerate() {
            if let Some(t) = c.get("updated_at").and_then(number) {
                latest = latest.max(t);
            }
            records.push(PulledRecord {
                origin: self.named(&format!("conversations/{}", id_of(c, "id")), &shown, i),
                body: to_bytes(c),
            });
        }
        let after = body
            .pointer("/pages/next/starting_after")
            .and_then(Value::as_str);
        let (cursor, done) = match after {
            Some(after) => (
                json!({"since": from, "latest": latest, "after": after}),
                false,
            ),
            None => (json!({"since": latest}), true),
        };
        Ok(PullPage::new(shown, records, cursor.to_string(), done))
    }

    async fn freshdesk(&self, cursor: Option<&str>, since: i64) -> Result<PullPage, QueueError> {
        let state = self.state(cursor)?;
        let (from, mut latest) = time_watermark(&state, since);
        let page = state.get("page").and_then(Value::as_u64).unwrap_or(1);
        let mut url = below(&self.base, "api/v2/tickets")?;
        url.query_pairs_mut()
            .append_pair("updated_since", &from)
            .append_pair("order_by", "updated_at")
            .append_pair("order_type", "asc")
            .append_pair("per_page", &PAGE_SIZE.to_string())
            .append_pair("page", &page.to_string());
        let (shown, body) = self.get(url).await?;
        let Some(list) = body.as_array() else {
            return Err(self.malformed(&shown, "expected a list of tickets `[…]`"));
        };
        let mut records = Vec::with_capacity(list.len());
        for (i, t) in list.iter().enumerate() {
            advance(&mut latest, t.get("updated_at"));
            records.push(PulledRecord {
                origin: self.named(&format!("api/v2/tickets/{}", id_of(t, "id")), &shown, i),
                body: to_bytes(t),
            });
        }
        let full = list.len() >= PAGE_SIZE;
        let (cursor, done) = if full && page < FRESHDESK_MAX_PAGE {
            (
                json!({"since": from, "latest": latest, "page": page + 1}),
                false,
            )
        } else {
            // The last page, or the last Freshdesk serves: start again from the newest seen.
            (json!({"since": latest}), !full)
        };
        Ok(PullPage::new(shown, records, cursor.to_string(), done))
    }

    async fn salesforce(
        &self,
        stream: Stream,
        cursor: Option<&str>,
        since: i64,
    ) -> Result<PullPage, QueueError> {
        let state = self.state(cursor)?;
        let (from, mut latest) = time_watermark(&state, since);
        let (object, stamp) = match stream {
            Stream::SalesforceCaseHistory => ("CaseHistory", "CreatedDate"),
            _ => ("Case", "SystemModstamp"),
        };
        let url = match state.get("next").and_then(Value::as_str) {
            // Salesforce's `nextRecordsUrl` is a path on the same instance; only such a path
            // is followed, below the base URL.
            Some(next) if next.starts_with("/services/data/") => below(&self.base, next)?,
            Some(next) => {
                return Err(QueueError::Config(format!(
                    "the stored Salesforce pull cursor names `{next}`, not a query path"
                )));
            }
            None => {
                let extra = match (stream, &self.conversation_field) {
                    (Stream::SalesforceCases, Some(f)) if f.ends_with("__c") => format!(", {f}"),
                    _ => String::new(),
                };
                let soql = format!(
                    "SELECT FIELDS(STANDARD){extra} FROM {object} WHERE {stamp} >= {from} ORDER BY {stamp} ASC"
                );
                let mut url = below(
                    &self.base,
                    &format!("services/data/v{}/query", self.version),
                )?;
                url.query_pairs_mut().append_pair("q", &soql);
                url
            }
        };
        let (shown, body) = self.get(url).await?;
        let Some(list) = body.get("records").and_then(Value::as_array) else {
            return Err(self.malformed(&shown, "expected a query result `{\"records\": […]}`"));
        };
        let mut records = Vec::with_capacity(list.len());
        for (i, r) in list.iter().enumerate() {
            let time = r
                .get(stamp)
                .or_else(|| r.get("LastModifiedDate"))
                .or_else(|| r.get("CreatedDate"));
            advance(&mut latest, time);
            let origin = match r.pointer("/attributes/url").and_then(Value::as_str) {
                Some(path) => self.named(path, &shown, i),
                None => self.named(&format!("sobjects/{object}/{}", id_of(r, "Id")), &shown, i),
            };
            records.push(PulledRecord {
                origin,
                body: to_bytes(r),
            });
        }
        let done = body.get("done").and_then(Value::as_bool).unwrap_or(true);
        let next = body.get("nextRecordsUrl").and_then(Value::as_str);
        let cursor = match (done, next) {
            (false, Some(next)) => json!({"since": from, "latest": latest, "next": next}),
            _ => json!({"since": latest}),
        };
        Ok(PullPage::new(
            shown,
            records,
            cursor.to_string(),
            done || next.is_none(),
        ))
    }

    /// A stream that lists changed records, then reads each one's children: one request per
    /// page, the listing's or one parent's.
    async fn fanned(
        &self,
        stream: Stream,
        cursor: Option<&str>,
        since: i64,
    ) -> Result<PullPage, QueueError> {
        if let Some(fanout) = self.fanout(cursor)? {
            return match stream {
                Stream::ZendeskTicketAudits => self.zendesk_audits(fanout).await,
                Stream::IntercomConversations => self.intercom_full(fanout).await,
                _ => self.freshdesk_conversations(fanout).await,
            };
        }
        let listing = match stream {
            Stream::ZendeskTicketAudits => {
                self.zendesk(Stream::ZendeskTickets, "tickets", cursor, since)
                    .await?
            }
            Stream::IntercomConversations => self.intercom(cursor, since).await?,
            _ => self.freshdesk(cursor, since).await?,
        };
        let mut ids: Vec<String> = Vec::with_capacity(listing.records.len());
        for (i, record) in listing.records.iter().enumerate() {
            let value: Value = serde_json::from_slice(&record.body).unwrap_or(Value::Null);
            // Zendesk's are stored as `{"ticket": …}`; an Intercom conversation has a `ticket`
            // field of its own.
            let parent = match stream {
                Stream::ZendeskTicketAudits => value.get("ticket").unwrap_or(&value),
                _ => &value,
            };
            // A deleted ticket has no audits or conversations left to read.
            if parent.get("status").and_then(Value::as_str) == Some("deleted")
                || parent.get("deleted").and_then(Value::as_bool) == Some(true)
            {
                continue;
            }
            let id = id_of(parent, "id");
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(self.malformed(
                    &listing.url,
                    format!(
                        "record {i} has no usable `id` ({id:?}), so its {} cannot be read",
                        stream.name()
                    ),
                ));
            }
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        if ids.is_empty() {
            return Ok(PullPage::new(
                listing.url,
                Vec::new(),
                listing.cursor,
                listing.done,
            ));
        }
        let fanout = Fanout {
            queue: ids,
            child: None,
            then: listing.cursor,
            then_done: listing.done,
        };
        Ok(PullPage::new(
            listing.url,
            Vec::new(),
            fanout.cursor(),
            false,
        ))
    }

    /// The parents still to read, when the cursor is one [`Fanout`] wrote; `None` for a
    /// listing's own cursor (or none).
    fn fanout(&self, cursor: Option<&str>) -> Result<Option<Fanout>, QueueError> {
        let Some(text) = cursor else { return Ok(None) };
        let Ok(Value::Object(mut state)) = serde_json::from_str::<Value>(text) else {
            return Ok(None);
        };
        let Some(fanout) = state.remove("fanout") else {
            return Ok(None);
        };
        match Fanout::deserialize(fanout) {
            Ok(f) if !f.queue.is_empty() => Ok(Some(f)),
            _ => Err(QueueError::Config(format!(
                "the stored {} pull cursor `{text}` is not one muster wrote; pull into a new --source to start again",
                self.http.system
            ))),
        }
    }

    /// One page of a Zendesk ticket's audits (cursor pagination), each audit named by its own
    /// URL (Show Audit) and stored as `{"audit": …}`, the shape Show Audit returns.
    async fn zendesk_audits(&self, fanout: Fanout) -> Result<PullPage, QueueError> {
        let ticket = fanout.parent().to_owned();
        let mut url = below(&self.base, &format!("api/v2/tickets/{ticket}/audits.json"))?;
        url.query_pairs_mut()
            .append_pair("page[size]", &PAGE_SIZE.to_string());
        if let Some(after) = &fanout.child {
            url.query_pairs_mut().append_pair("page[after]", after);
        }
        let shown_url = url.to_string();
        let (shown, body) = match self.get(url).await {
            Err(e) if is_gone(&e) => {
                return Ok(PullPage::gone(
                    shown_url,
                    format!("ticket {ticket}'s audits (HTTP 404: deleted since it was listed)"),
                    fanout.step(None),
                ));
            }
            other => other?,
        };
        let Some(list) = body.get("audits").and_then(Value::as_array) else {
            return Err(self.malformed(&shown, "expected `{\"audits\": […]}`"));
        };
        let records = list
            .iter()
            .enumerate()
            .map(|(i, a)| PulledRecord {
                origin: self.named(
                    &format!("api/v2/tickets/{ticket}/audits/{}.json", id_of(a, "id")),
                    &shown,
                    i,
                ),
                body: to_bytes(&json!({ "audit": a })),
            })
            .collect();
        let has_more = body
            .pointer("/meta/has_more")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let after = body.pointer("/meta/after_cursor").and_then(Value::as_str);
        let more = match (has_more, after) {
            (false, _) => None,
            (true, Some(a)) if !a.is_empty() && Some(a) != fanout.child.as_deref() => {
                Some(a.to_owned())
            }
            (true, _) => {
                return Err(
                    self.malformed(&shown, "`meta.has_more` without a new `meta.after_cursor`")
                );
            }
        };
        let (cursor, done) = fanout.step(more);
        Ok(PullPage::new(shown, records, cursor, done))
    }

    /// An Intercom conversation read in full, with its `conversation_parts`.
    async fn intercom_full(&self, fanout: Fanout) -> Result<PullPage, QueueError> {
        let id = fanout.parent().to_owned();
        let url = below(&self.base, &format!("conversations/{id}"))?;
        let shown_url = url.to_string();
        let (shown, body) = match self.get(url).await {
            Err(e) if is_gone(&e) => {
                return Ok(PullPage::gone(
                    shown_url,
                    format!("conversation {id} (HTTP 404: deleted since it was listed)"),
                    fanout.step(None),
                ));
            }
            other => other?,
        };
        if !body.is_object() || id_of(&body, "id") != id {
            return Err(self.malformed(
                &shown,
                format!("expected the conversation `{id}` (`{{\"type\": \"conversation\", \"id\": \"{id}\", …}}`)"),
            ));
        }
        let records = vec![PulledRecord {
            origin: self.named(&format!("conversations/{id}"), &shown, 0),
            body: to_bytes(&body),
        }];
        let (cursor, done) = fanout.step(None);
        Ok(PullPage::new(shown, records, cursor, done))
    }

    /// One page of a Freshdesk ticket's conversations, each named by its own URL
    /// (`/api/v2/conversations/{id}`).
    async fn freshdesk_conversations(&self, fanout: Fanout) -> Result<PullPage, QueueError> {
        let ticket = fanout.parent().to_owned();
        let page: u64 = fanout
            .child
            .as_deref()
            .and_then(|c| c.parse().ok())
            .unwrap_or(1);
        let mut url = below(
            &self.base,
            &format!("api/v2/tickets/{ticket}/conversations"),
        )?;
        url.query_pairs_mut()
            .append_pair("per_page", &PAGE_SIZE.to_string())
            .append_pair("page", &page.to_string());
        let shown_url = url.to_string();
        let (exchange, result, link) = self.http.get_linked(url).await;
        let body = match result {
            Err(e) if is_gone(&e) => {
                return Ok(PullPage::gone(
                    shown_url,
                    format!(
                        "ticket {ticket}'s conversations (HTTP 404: deleted since it was listed)"
                    ),
                    fanout.step(None),
                ));
            }
            other => other?,
        };
        let shown = exchange.url;
        let Some(list) = body.as_array() else {
            return Err(self.malformed(&shown, "expected a list of conversations `[…]`"));
        };
        let records = list
            .iter()
            .enumerate()
            .map(|(i, c)| PulledRecord {
                origin: self.named(
                    &format!("api/v2/conversations/{}", id_of(c, "id")),
                    &shown,
                    i,
                ),
                body: to_bytes(c),
            })
            .collect();
        let next = match self.next_link(link.as_deref(), &shown)? {
            // The link's page when it names a later one, else the one after this.
            Some(url) => Some(
                url.query_pairs()
                    .find(|(k, _)| k == "page")
                    .and_then(|(_, v)| v.parse::<u64>().ok())
                    .filter(|p| *p > page)
                    .unwrap_or(page + 1),
            ),
            // No link, but a full page: ask for the next rather than risk missing one.
            None if list.len() >= PAGE_SIZE => Some(page + 1),
            None => None,
        };
        let (cursor, done) = fanout.step(next.map(|p| p.to_string()));
        Ok(PullPage::new(shown, records, cursor, done))
    }

    /// The `rel="next"` URL of a `Link` header. Only a URL below the base URL is taken: one
    /// anywhere else is an error, so credentials are never pointed at another host.
    fn next_link(&self, header: Option<&str>, shown: &str) -> Result<Option<Url>, QueueError> {
        let Some(header) = header else {
            return Ok(None);
        };
        for link in header.split(',') {
            let mut pieces = link.split(';');
            let target = pieces.next().unwrap_or_default().trim();
            let next = pieces.any(|p| {
                let p: String = p.chars().filter(|c| !c.is_whitespace()).collect();
                p.eq_ignore_ascii_case("rel=\"next\"") || p.eq_ignore_ascii_case("rel=next")
            });
            if !next {
                continue;
            }
            let target = target.trim_start_matches('<').trim_end_matches('>');
            let url = Url::parse(target)
                .or_else(|_| self.base.join(target))
                .map_err(|_| {
                    self.malformed(shown, "a `Link` header with an unreadable next page")
                })?;
            if !is_below(&self.base, &url) {
                return Err(self.malformed(
                    shown,
                    format!(
                        "the `Link` header's next page {}{} is not below {}; not followed",
                        url.origin().ascii_serialization(),
                        url.path(),
                        self.base
                    ),
                ));
            }
            return Ok(Some(url));
        }
        Ok(None)
    }

    /// A record's stable name: its own URL below the base, or (when it has no id) its place in
    /// the page it came in.
    fn named(&self, path: &str, page: &str, index: usize) -> String {
        if path.contains("/?") || path.ends_with('/') || path.contains("/.json") {
            return format!("{page}#{index}");
        }
        match below(&self.base, path) {
            Ok(url) => url.to_string(),
            Err(_) => format!("{page}#{index}"),
        }
    }
}

/// The cursor of a stream reading each listed parent's children: the parents still to read
/// (the first is being read), where its children continue (a Zendesk `after_cursor`, a
/// Freshdesk page number), and the listing's cursor (and whether the listing was done) to go
/// on from once they are read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Fanout {
    queue: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    child: Option<String>,
    then: String,
    then_done: bool,
}

impl Fanout {
    fn parent(&self) -> &str {
        self.queue.first().map_or("", String::as_str)
    }

    fn cursor(&self) -> String {
        json!({ "fanout": self }).to_string()
    }

    /// After one page of the first parent's children: `more` is where they continue, or
    /// `None` when they are all read. Returns the next cursor and whether the stream is done.
    fn step(mut self, more: Option<String>) -> (String, bool) {
        match more {
            Some(next) => self.child = Some(next),
            None => {
                if !self.queue.is_empty() {
                    self.queue.remove(0);
                }
                self.child = None;
            }
        }
        if self.queue.is_empty() {
            (self.then, self.then_done)
        } else {
            (self.cursor(), false)
        }
    }
}

/// `url` is on the base URL's scheme, host and port, and at or below its path.
fn is_below(base: &Url, url: &Url) -> bool {
    let prefix = base.path().trim_end_matches('/');
    let path = url.path();
    base.scheme() == url.scheme()
        && base.host_str() == url.host_str()
        && base.port_or_known_default() == url.port_or_known_default()
        && (path == prefix || path.starts_with(&format!("{prefix}/")))
}

/// A cursor's watermark as text (`since`, where this pull started) and the newest time seen so
/// far (`latest`); a first pull starts at `since` seconds.
fn time_watermark(state: &Map<String, Value>, since: i64) -> (String, String) {
    let from = match state.get("since").and_then(Value::as_str) {
        Some(s) => s.to_owned(),
        None => rfc3339(since),
    };
    let latest = state
        .get("latest")
        .and_then(Value::as_str)
        .map_or_else(|| from.clone(), str::to_owned);
    (from, latest)
}

/// Moves a watermark to a record's time when that is later. Kept as whole-second RFC 3339 UTC
/// (`…T06:00:05Z`), the form both Freshdesk's `updated_since` and SOQL datetime literals take;
/// Salesforce's own `…05.000+0000` is not a SOQL literal. Truncating to the second only widens
/// the overlap.
fn advance(latest: &mut String, time: Option<&Value>) {
    let Some(seen) = time
        .and_then(Value::as_str)
        .and_then(crate::parse_timestamp)
    else {
        return;
    };
    let newer = crate::parse_timestamp(latest).is_none_or(|current| seen > current);
    if newer {
        *latest = rfc3339(seen.as_second());
    }
}

/// A record's id as text, empty when it has none.
fn id_of(record: &Value, key: &str) -> String {
    match record.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// A number, or a number written as text (vendors do both).
fn number(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn to_bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

/// Unix seconds as RFC 3339 UTC, for Freshdesk's `updated_since` and SOQL datetime literals.
fn rfc3339(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fanout_reads_each_parent_then_goes_on_with_the_listing() {
        let f = Fanout {
            queue: vec!["1".into(), "2".into()],
            child: None,
            then: "77".into(),
            then_done: true,
        };
        let (c, done) = f.clone().step(Some("abc".into()));
        assert!(!done);
        assert!(
            c.contains("\"child\":\"abc\"") && c.contains("\"1\""),
            "{c}"
        );
        let (c, done) = f.step(None);
        assert!(!done);
        let state: Value = serde_json::from_str(&c).unwrap_or_else(|e| panic!("{e}"));
        let rest = Fanout::deserialize(&state["fanout"]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rest.queue, vec!["2".to_owned()]);
        assert_eq!(rest.step(None), ("77".to_owned(), true));
    }

    #[test]
    fn only_links_below_the_base_are_below() {
        let base = Url::parse("https://acme.freshdesk.com/").unwrap_or_else(|e| panic!("{e}"));
        let ok = Url::parse("https://acme.freshdesk.com/api/v2/tickets/1/conversations?page=2")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(is_below(&base, &ok));
        for bad in [
            "https://evil.example/api/v2/tickets/1/conversations?page=2",
            "http://acme.freshdesk.com/api/v2/tickets/1/conversations?page=2",
            "https://acme.freshdesk.com:8443/api/v2/tickets/1/conversations",
        ] {
            let bad = Url::parse(bad).unwrap_or_else(|e| panic!("{e}"));
            assert!(!is_below(&base, &bad), "{bad}");
        }
        let nested = Url::parse("https://h.example/helpdesk").unwrap_or_else(|e| panic!("{e}"));
        let outside =
            Url::parse("https://h.example/helpdesk-other/x").unwrap_or_else(|e| panic!("{e}"));
        assert!(!is_below(&nested, &outside));
    }

    #[test]
    fn first_pull_times_are_utc_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_390_362_485), "2014-01-22T03:48:05Z");
    }

    #[test]
    fn watermarks_move_forward_only_and_in_one_form() {
        let mut latest = "2026-11-27T06:00:00Z".to_owned();
        advance(&mut latest, Some(&json!("2026-11-27T06:00:05.000+0000")));
        assert_eq!(latest, "2026-11-27T06:00:05Z");
        advance(&mut latest, Some(&json!("2026-11-01T00:00:00Z")));
        assert_eq!(latest, "2026-11-27T06:00:05Z");
        advance(&mut latest, Some(&json!("not a time")));
        assert_eq!(latest, "2026-11-27T06:00:05Z");
    }
}
