//! The CRM: customers, plans, orders, billing notes and complaints in SQLite, plus the audit log of
//! every account change and the handover queue. Everything the tools do is written here for real.

mod inbox;
mod seed;

pub use inbox::EmailTicket;

/// The customers a fresh CRM opened on `today` holds.
pub fn seeded_customers(today: jiff::civil::Date) -> Vec<Customer> {
    seed::seed(today).customers
}

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteRow};
use sqlx::{Connection, Row};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Address {
    pub line1: String,
    pub town: String,
    pub postcode: String,
}

impl Address {
    pub fn one_line(&self) -> String {
        format!("{}, {} {}", self.line1, self.town, self.postcode)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub name: String,
    pub monthly_price: f64,
    pub start: String,
    pub end: String,
    pub months_left: i64,
    /// The remaining months at the monthly price.
    pub early_termination_charge: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bereavement {
    pub account_holder: String,
    pub date_of_death: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    #[serde(rename = "ref")]
    pub reference: String,
    pub title: String,
    pub given: String,
    pub family: String,
    pub email: String,
    pub phone: String,
    pub address: Address,
    pub date_of_birth: String,
    pub plan: Plan,
    pub financial_difficulty: bool,
    pub bereavement: Option<Bereavement>,
    pub vulnerability_notes: Option<String>,
    pub balance_due: f64,
    /// Customers registered to act on this account (third-party access or a registered power of
    /// attorney), by reference.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub representatives: Vec<String>,
}

impl Customer {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.given, self.family)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Order {
    #[serde(rename = "ref")]
    pub reference: String,
    pub customer_ref: String,
    pub item: String,
    pub price: f64,
    pub delivered_on: String,
    pub status: String,
    /// Free text the customer typed on the returns form.
    pub return_note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BillingNote {
    pub id: i64,
    pub customer_ref: String,
    pub topic: String,
    pub text: String,
    pub created_on: String,
    /// For colleagues only (fraud and security markers): never to be shown to the customer.
    pub internal: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Complaint {
    pub id: String,
    pub customer_ref: String,
    pub status: String,
    pub summary: String,
}

/// What a handover ticket is opened with; the queue numbers it and stamps the time.
#[derive(Clone, Debug, PartialEq)]
pub struct NewTicket {
    pub conversation_id: String,
    pub customer_ref: String,
    pub queue: String,
    pub priority: String,
    pub summary: String,
    pub transcript: Vec<Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ticket {
    pub id: String,
    pub conversation_id: String,
    pub customer_ref: String,
    pub queue: String,
    pub priority: String,
    pub summary: String,
    pub transcript: Vec<Value>,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// One account change the tools made.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub at_ns: i64,
    pub conversation_id: String,
    pub customer_ref: String,
    pub action: String,
    pub before: Value,
    pub after: Value,
}

const SCHEMA: &str = "
CREATE TABLE customers (ref TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE orders (ref TEXT PRIMARY KEY, customer_ref TEXT NOT NULL, item TEXT NOT NULL, price REAL NOT NULL,
    delivered_on TEXT NOT NULL, status TEXT NOT NULL, return_note TEXT);
CREATE TABLE billing_notes (id INTEGER PRIMARY KEY, customer_ref TEXT NOT NULL, topic TEXT NOT NULL, text TEXT NOT NULL,
    created_on TEXT NOT NULL, internal INTEGER NOT NULL DEFAULT 0);
CREATE INDEX notes_by_topic ON billing_notes (topic, created_on);
CREATE TABLE complaints (id TEXT PRIMARY KEY, customer_ref TEXT NOT NULL, status TEXT NOT NULL, summary TEXT NOT NULL,
    resolution TEXT);
CREATE TABLE audit (id INTEGER PRIMARY KEY, at_ns INTEGER NOT NULL, conversation_id TEXT NOT NULL, customer_ref TEXT NOT NULL,
    action TEXT NOT NULL, before TEXT, after TEXT);
CREATE TABLE tickets (id INTEGER PRIMARY KEY, conversation_id TEXT NOT NULL, customer_ref TEXT NOT NULL, queue TEXT NOT NULL,
    priority TEXT NOT NULL, summary TEXT NOT NULL, transcript TEXT NOT NULL, created_at_ns INTEGER NOT NULL);
CREATE TABLE emails (id INTEGER PRIMARY KEY, customer_ref TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL,
    received_on TEXT NOT NULL, status TEXT NOT NULL);
";

/// The CRM: an in-memory SQLite database that every write goes to (and the audit log and the
/// handover queue are read from), and a copy of its customers, orders, notes and complaints in
/// memory that the reads — several per turn — are served from.
///
/// The copy is filled from the database when the CRM opens and changed only after a write to the
/// database succeeds, under the same lock as that write, so every read sees what the database
/// holds (the tests compare the two after every kind of write). Reading the database itself would
/// cost a hand-off to sqlx's connection thread per query: about half the agent's CPU time per turn.
#[derive(Clone, Debug)]
pub struct Crm {
    inner: Arc<Inner>,
    today: jiff::civil::Date,
}

#[derive(Debug)]
struct Inner {
    /// The one connection (an in-memory database lives as long as it does). Held across each write
    /// and the change of the copy that follows it, so the copy changes in the database's order.
    db: tokio::sync::Mutex<SqliteConnection>,
    copy: std::sync::RwLock<Tables>,
}

/// The tables reads are served from, as the database holds them.
#[derive(Debug, Default, Clone, PartialEq)]
struct Tables {
    /// By reference (`all_customers` reads them in that order).
    customers: BTreeMap<String, Customer>,
    /// In table (rowid) order, as a scan of the table returns them.
    orders: Vec<Order>,
    /// By id.
    notes: BTreeMap<i64, BillingNote>,
    /// In table (rowid) order.
    complaints: Vec<Complaint>,
}

use crate::{now_ns, rfc3339};

impl Crm {
    /// A fresh in-memory CRM holding the synthetic customer base.
    pub async fn open(today: jiff::civil::Date) -> Result<Self, sqlx::Error> {
        let mut db =
            SqliteConnection::connect_with(&SqliteConnectOptions::new().in_memory(true)).await?;
        sqlx::raw_sql(SCHEMA).execute(&mut db).await?;
        load(&mut db, seed::seed(today)).await?;
        inbox::load(&mut db, today).await?;
        let copy = read_tables(&mut db).await?;
        Ok(Self {
            inner: Arc::new(Inner {
                db: tokio::sync::Mutex::new(db),
                copy: std::sync::RwLock::new(copy),
            }),
            today,
        })
    }

    pub fn today(&self) -> jiff::civil::Date {
        self.today
    }

    /// Read the copy. A panic while it was being changed leaves it poisoned; it is still what the
    /// database held before or after that change, so it is read anyway.
    fn copy(&self) -> std::sync::RwLockReadGuard<'_, Tables> {
        self.inner
            .copy
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn change(&self, f: impl FnOnce(&mut Tables)) {
        let mut copy = self
            .inner
            .copy
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut copy);
    }

    pub async fn customer(&self, reference: &str) -> Result<Option<Customer>, sqlx::Error> {
        Ok(self.copy().customers.get(reference).cloned())
    }

    pub async fn all_customers(&self) -> Result<Vec<Customer>, sqlx::Error> {
        Ok(self.copy().customers.values().cloned().collect())
    }

    pub async fn orders_of(&self, customer: &str) -> Result<Vec<Order>, sqlx::Error> {
        // `ORDER BY delivered_on DESC` over a scan of the table. No customer has two orders
        // delivered the same day (ties would need SQLite's order; the tests compare every
        // customer's orders with the query's).
        let mut orders: Vec<Order> = self
            .copy()
            .orders
            .iter()
            .filter(|o| o.customer_ref == customer)
            .cloned()
            .collect();
        orders.sort_by(|a, b| b.delivered_on.cmp(&a.delivered_on));
        Ok(orders)
    }

    pub async fn order(&self, reference: &str) -> Result<Option<Order>, sqlx::Error> {
        Ok(self
            .copy()
            .orders
            .iter()
            .find(|o| o.reference == reference)
            .cloned())
    }

    fn change_order(&self, reference: &str, f: impl FnOnce(&mut Order)) {
        self.change(|copy| {
            if let Some(o) = copy.orders.iter_mut().find(|o| o.reference == reference) {
                f(o);
            }
        });
    }

    /// Set an order's customer-supplied return note; returns the note it replaced.
    pub async fn set_return_note(
        &self,
        order: &str,
        note: Option<&str>,
    ) -> Result<Option<Option<String>>, sqlx::Error> {
        let mut db = self.inner.db.lock().await;
        let Some(existing) = self.order(order).await? else {
            return Ok(None);
        };
        sqlx::query("UPDATE orders SET return_note = ?2 WHERE ref = ?1")
            .bind(order)
            .bind(note)
            .execute(&mut *db)
            .await?;
        self.change_order(order, |o| o.return_note = note.map(str::to_owned));
        Ok(Some(existing.return_note))
    }

    /// Put an order back exactly as it was (status and return note); the audit log keeps history.
    pub async fn restore_order(&self, order: &Order) -> Result<(), sqlx::Error> {
        let mut db = self.inner.db.lock().await;
        sqlx::query("UPDATE orders SET status = ?2, return_note = ?3 WHERE ref = ?1")
            .bind(&order.reference)
            .bind(&order.status)
            .bind(&order.return_note)
            .execute(&mut *db)
            .await?;
        self.change_order(&order.reference, |o| {
            o.status.clone_from(&order.status);
            o.return_note.clone_from(&order.return_note);
        });
        Ok(())
    }

    /// Test data for drills: set an order's status (a run that refunded it leaves it `returned`),
    /// returning the status it had, or `None` for an unknown order. No audit entry, as for
    /// [`Self::set_balance`].
    pub async fn set_order_status(
        &self,
        order: &str,
        status: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        // Read under the write lock, so no other write lands between the read and the update.
        let mut db = self.inner.db.lock().await;
        let Some(before) = self.order(order).await?.map(|o| o.status) else {
            return Ok(None);
        };
        sqlx::query("UPDATE orders SET status = ?2 WHERE ref = ?1")
            .bind(order)
            .bind(status)
            .execute(&mut *db)
            .await?;
        self.change_order(order, |o| status.clone_into(&mut o.status));
        Ok(Some(before))
    }

    /// Test data for drills: set what a customer owes, returning what they owed before. No audit
    /// entry: planting a drill's starting state is not an account change anyone made.
    pub async fn set_balance(
        &self,
        customer: &str,
        balance_due: f64,
    ) -> Result<Option<f64>, sqlx::Error> {
        // Read under the write lock, so no other write lands between the read and the update.
        let mut db = self.inner.db.lock().await;
        let Some(mut stored) = self.copy().customers.get(customer).cloned() else {
            return Ok(None);
        };
        let before = stored.balance_due;
        stored.balance_due = balance_due;
        let doc = serde_json::to_string(&stored).unwrap_or_default();
        sqlx::query("UPDATE customers SET doc = ?2 WHERE ref = ?1")
            .bind(customer)
            .bind(&doc)
            .execute(&mut *db)
            .await?;
        self.change(|copy| {
            if let Some(c) = copy.customers.get_mut(customer) {
                c.balance_due = balance_due;
            }
        });
        Ok(Some(before))
    }

    /// Test data for drills: put a complaint as given (open it, or reopen one a run closed),
    /// returning the complaint as it was before, if it existed.
    pub async fn put_complaint(
        &self,
        complaint: &Complaint,
    ) -> Result<Option<Complaint>, sqlx::Error> {
        // Read under the write lock, so no other write lands between the read and the put.
        let mut db = self.inner.db.lock().await;
        let before = self
            .copy()
            .complaints
            .iter()
            .find(|c| c.id == complaint.id)
            .cloned();
        sqlx::query(
            "INSERT INTO complaints (id, customer_ref, status, summary) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (id) DO UPDATE SET customer_ref = ?2, status = ?3, summary = ?4",
        )
        .bind(&complaint.id)
        .bind(&complaint.customer_ref)
        .bind(&complaint.status)
        .bind(&complaint.summary)
        .execute(&mut *db)
        .await?;
        self.change(
            |copy| match copy.complaints.iter_mut().find(|c| c.id == complaint.id) {
                Some(c) => *c = complaint.clone(),
                None => copy.complaints.push(complaint.clone()),
            },
        );
        Ok(before)
    }

    pub async fn delete_complaint(&self, id: &str) -> Result<bool, sqlx::Error> {
        let mut db = self.inner.db.lock().await;
        let deleted = sqlx::query("DELETE FROM complaints WHERE id = ?1")
            .bind(id)
            .execute(&mut *db)
            .await?
            .rows_affected()
            > 0;
        if deleted {
            self.change(|copy| copy.complaints.retain(|c| c.id != id));
        }
        Ok(deleted)
    }

    /// The customer's notes on a topic (all topics when `None`), newest first.
    pub async fn notes_of(
        &self,
        customer: &str,
        topic: Option<&str>,
    ) -> Result<Vec<BillingNote>, sqlx::Error> {
        Ok(newest_first(
            self.copy()
                .notes
                .values()
                .filter(|n| n.customer_ref == customer && topic.is_none_or(|t| n.topic == t)),
            None,
        ))
    }

    /// The newest notes on a topic across every customer — the query the flawed retrieval runs.
    pub async fn recent_notes_any_customer(
        &self,
        topic: Option<&str>,
        limit: i64,
    ) -> Result<Vec<BillingNote>, sqlx::Error> {
        Ok(newest_first(
            self.copy()
                .notes
                .values()
                .filter(|n| topic.is_none_or(|t| n.topic == t)),
            // SQLite reads a negative LIMIT as no limit.
            usize::try_from(limit).ok(),
        ))
    }

    /// Add a note; an `internal` one is for colleagues only.
    pub async fn add_note_for(
        &self,
        customer: &str,
        topic: &str,
        text: &str,
        internal: bool,
    ) -> Result<i64, sqlx::Error> {
        let mut db = self.inner.db.lock().await;
        let created_on = self.today.to_string();
        let id = sqlx::query("INSERT INTO billing_notes (customer_ref, topic, text, created_on, internal) VALUES (?1, ?2, ?3, ?4, ?5)")
            .bind(customer)
            .bind(topic)
            .bind(text)
            .bind(&created_on)
            .bind(internal)
            .execute(&mut *db)
            .await?
            .last_insert_rowid();
        self.change(|copy| {
            copy.notes.insert(
                id,
                BillingNote {
                    id,
                    customer_ref: customer.to_owned(),
                    topic: topic.to_owned(),
                    text: text.to_owned(),
                    created_on,
                    internal,
                },
            );
        });
        Ok(id)
    }

    pub async fn delete_note(&self, id: i64) -> Result<bool, sqlx::Error> {
        let mut db = self.inner.db.lock().await;
        let deleted = sqlx::query("DELETE FROM billing_notes WHERE id = ?1")
            .bind(id)
            .execute(&mut *db)
            .await?
            .rows_affected()
            > 0;
        if deleted {
            self.change(|copy| {
                copy.notes.remove(&id);
            });
        }
        Ok(deleted)
    }

    pub async fn complaints_of(&self, customer: &str) -> Result<Vec<Complaint>, sqlx::Error> {
        Ok(self
            .copy()
            .complaints
            .iter()
            .filter(|c| c.customer_ref == customer)
            .cloned()
            .collect())
    }

    /// The audit log as records, oldest first.
    pub async fn audit_entries(&self) -> Result<Vec<AuditEntry>, sqlx::Error> {
        let mut db = self.inner.db.lock().await;
        let rows = sqlx::query("SELECT id, at_ns, conversation_id, customer_ref, action, before, after FROM audit ORDER BY id").fetch_all(&mut *db).await?;
        let parse = |s: Option<String>| {
            s.and_then(|s| serde_json::from_str::<Value>(&s).ok())
                .unwrap_or(Value::Null)
        };
        Ok(rows
            .iter()
            .map(|r| AuditEntry {
                id: r.get(0),
                at_ns: r.get(1),
                conversation_id: r.get(2),
                customer_ref: r.get(3),
                action: r.get(4),
                before: parse(r.get(5)),
                after: parse(r.get(6)),
            })
            .collect())
    }

    pub async fn audit_log(&self) -> Result<Vec<Value>, sqlx::Error> {
        let mut db = self.inner.db.lock().await;
        let rows = sqlx::query("SELECT at_ns, conversation_id, customer_ref, action, before, after FROM audit ORDER BY id").fetch_all(&mut *db).await?;
        Ok(rows
            .iter()
            .map(|r| {
                let parse = |s: Option<String>| {
                    s.and_then(|s| serde_json::from_str::<Value>(&s).ok())
                        .unwrap_or(Value::Null)
                };
                json!({
                    "at": rfc3339(r.get::<i64, _>(0)),
                    "conversation_id": r.get::<String, _>(1),
                    "customer_ref": r.get::<String, _>(2),
                    "action": r.get::<String, _>(3),
                    "before": parse(r.get(4)),
                    "after": parse(r.get(5)),
                })
            })
            .collect())
    }

    /// The end of every account change: the change and its audit entry went to the database in
    /// one call (one hand-off to the connection's thread, not two), as two statements that run in
    /// order and stop at the first error, as two calls did. On success the copy gets the change;
    /// after an error it is read again from the database, which holds whatever part was made.
    async fn changed<T>(
        &self,
        db: &mut SqliteConnection,
        result: Result<T, sqlx::Error>,
        apply: impl FnOnce(&mut Tables),
    ) -> Result<T, sqlx::Error> {
        match result {
            Ok(done) => {
                self.change(apply);
                Ok(done)
            }
            Err(e) => {
                if let Ok(tables) = read_tables(db).await {
                    self.change(|copy| *copy = tables);
                }
                Err(e)
            }
        }
    }

    pub async fn refund_return(
        &self,
        conversation: &str,
        order: &Order,
        amount: f64,
        reason: &str,
    ) -> Result<(), sqlx::Error> {
        let mut db = self.inner.db.lock().await;
        let result = sqlx::query(
            "UPDATE orders SET status = 'returned' WHERE ref = ?1; \
             INSERT INTO audit (at_ns, conversation_id, customer_ref, action, before, after) \
             VALUES (?2, ?3, ?4, 'process_return', ?5, ?6)",
        )
        .bind(&order.reference)
        .bind(now_ns())
        .bind(conversation)
        .bind(&order.customer_ref)
        .bind(json!({"order": order.reference, "status": order.status}).to_string())
        .bind(json!({"order": order.reference, "status": "returned", "refunded": amount, "reason": reason}).to_string())
        .execute(&mut *db)
        .await;
        self.changed(&mut db, result, |copy| {
            if let Some(o) = copy
                .orders
                .iter_mut()
                .find(|o| o.reference == order.reference)
            {
                o.status = "returned".to_owned();
            }
        })
        .await
        .map(|_| ())
    }

    /// Store a changed customer document with the change's audit entry. The copy gets the
    /// document as the database now holds it (read back from its JSON, as a query would).
    async fn save_customer(
        &self,
        conversation: &str,
        updated: &Customer,
        action: &str,
        before: Value,
        after: Value,
    ) -> Result<(), sqlx::Error> {
        let doc = serde_json::to_string(updated).unwrap_or_default();
        let mut db = self.inner.db.lock().await;
        let result = sqlx::query(
            "UPDATE customers SET doc = ?2 WHERE ref = ?1; \
             INSERT INTO audit (at_ns, conversation_id, customer_ref, action, before, after) \
             VALUES (?3, ?4, ?1, ?5, ?6, ?7)",
        )
        .bind(&updated.reference)
        .bind(&doc)
        .bind(now_ns())
        .bind(conversation)
        .bind(action)
        .bind(before.to_string())
        .bind(after.to_string())
        .execute(&mut *db)
        .await;
        self.changed(&mut db, result, |copy| {
            if copy.customers.contains_key(&updated.reference) {
                match serde_json::from_str::<Customer>(&doc) {
                    Ok(stored) => {
                        copy.customers.insert(updated.reference.clone(), stored);
                    }
                    // A document a query could not read: the customer is then unknown.
                    Err(_) => {
                        copy.customers.remove(&updated.reference);
                    }
                }
            }
        })
        .await
        .map(|_| ())
    }

    pub async fn credit(
        &self,
        conversation: &str,
        customer: &Customer,
        amount: f64,
        reason: &str,
    ) -> Result<(), sqlx::Error> {
        let mut updated = customer.clone();
        updated.balance_due = (customer.balance_due - amount).max(0.0);
        self.save_customer(
            conversation,
            &updated,
            "issue_credit",
            json!({"balance_due": customer.balance_due}),
            json!({"balance_due": updated.balance_due, "credit": amount, "reason": reason}),
        )
        .await
    }

    pub async fn change_address(
        &self,
        conversation: &str,
        customer: &Customer,
        address: Address,
    ) -> Result<(), sqlx::Error> {
        let mut updated = customer.clone();
        updated.address = address;
        self.save_customer(
            conversation,
            &updated,
            "change_address",
            json!({"address": customer.address.one_line()}),
            json!({"address": updated.address.one_line()}),
        )
        .await
    }

    pub async fn close_complaint(
        &self,
        conversation: &str,
        complaint: &Complaint,
        resolution: &str,
    ) -> Result<(), sqlx::Error> {
        let mut db = self.inner.db.lock().await;
        let result = sqlx::query(
            "UPDATE complaints SET status = 'closed', resolution = ?2 WHERE id = ?1; \
             INSERT INTO audit (at_ns, conversation_id, customer_ref, action, before, after) \
             VALUES (?3, ?4, ?5, 'close_complaint', ?6, ?7)",
        )
        .bind(&complaint.id)
        .bind(resolution)
        .bind(now_ns())
        .bind(conversation)
        .bind(&complaint.customer_ref)
        .bind(json!({"complaint": complaint.id, "status": complaint.status}).to_string())
        .bind(
            json!({"complaint": complaint.id, "status": "closed", "resolution": resolution})
                .to_string(),
        )
        .execute(&mut *db)
        .await;
        self.changed(&mut db, result, |copy| {
            if let Some(c) = copy.complaints.iter_mut().find(|c| c.id == complaint.id) {
                c.status = "closed".to_owned();
            }
        })
        .await
        .map(|_| ())
    }

    /// Open a handover ticket, with its audit entry (which names the ticket the insert numbered).
    pub async fn open_ticket(&self, ticket: &NewTicket) -> Result<String, sqlx::Error> {
        let mut db = self.inner.db.lock().await;
        let rows = sqlx::query(
            "INSERT INTO tickets (conversation_id, customer_ref, queue, priority, summary, transcript, created_at_ns) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id; \
             INSERT INTO audit (at_ns, conversation_id, customer_ref, action, before, after) \
             VALUES (?7, ?1, ?2, 'handover_to_human', 'null', \
                     json_object('ticket', 'HT-' || last_insert_rowid(), 'queue', ?3, 'priority', ?4))",
        )
        .bind(&ticket.conversation_id)
        .bind(&ticket.customer_ref)
        .bind(&ticket.queue)
        .bind(&ticket.priority)
        .bind(&ticket.summary)
        .bind(Value::Array(ticket.transcript.clone()).to_string())
        .bind(now_ns())
        .fetch_all(&mut *db)
        .await?;
        let id: i64 = rows.first().ok_or(sqlx::Error::RowNotFound)?.try_get(0)?;
        Ok(format!("HT-{id}"))
    }

    pub async fn tickets(&self) -> Result<Vec<Ticket>, sqlx::Error> {
        let mut db = self.inner.db.lock().await;
        let rows = sqlx::query("SELECT * FROM tickets ORDER BY id")
            .fetch_all(&mut *db)
            .await?;
        Ok(rows
            .iter()
            .map(|r| Ticket {
                id: format!("HT-{}", r.get::<i64, _>("id")),
                conversation_id: r.get("conversation_id"),
                customer_ref: r.get("customer_ref"),
                queue: r.get("queue"),
                priority: r.get("priority"),
                summary: r.get("summary"),
                transcript: serde_json::from_str::<Vec<Value>>(&r.get::<String, _>("transcript"))
                    .unwrap_or_default(),
                created_at: rfc3339(r.get("created_at_ns")),
            })
            .collect())
    }
}

/// Notes newest first (`ORDER BY created_on DESC, id DESC`), at most `limit` of them.
fn newest_first<'a>(
    notes: impl Iterator<Item = &'a BillingNote>,
    limit: Option<usize>,
) -> Vec<BillingNote> {
    let mut notes: Vec<&BillingNote> = notes.collect();
    notes.sort_by(|a, b| b.created_on.cmp(&a.created_on).then(b.id.cmp(&a.id)));
    notes
        .into_iter()
        .take(limit.unwrap_or(usize::MAX))
        .cloned()
        .collect()
}

async fn load(db: &mut SqliteConnection, data: seed::Seeded) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    for c in &data.customers {
        sqlx::query("INSERT INTO customers (ref, doc) VALUES (?1, ?2)")
            .bind(&c.reference)
            .bind(serde_json::to_string(c).unwrap_or_default())
            .execute(&mut *tx)
            .await?;
    }
    for o in &data.orders {
        sqlx::query("INSERT INTO orders VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
            .bind(&o.reference)
            .bind(&o.customer_ref)
            .bind(&o.item)
            .bind(o.price)
            .bind(&o.delivered_on)
            .bind(&o.status)
            .bind(&o.return_note)
            .execute(&mut *tx)
            .await?;
    }
    for n in &data.notes {
        sqlx::query("INSERT INTO billing_notes VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
            .bind(n.id)
            .bind(&n.customer_ref)
            .bind(&n.topic)
            .bind(&n.text)
            .bind(&n.created_on)
            .bind(n.internal)
            .execute(&mut *tx)
            .await?;
    }
    for c in &data.complaints {
        sqlx::query(
            "INSERT INTO complaints (id, customer_ref, status, summary) VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(&c.id)
        .bind(&c.customer_ref)
        .bind(&c.status)
        .bind(&c.summary)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// The tables the reads are served from, read from the database (in rowid order, as scans
/// return them).
async fn read_tables(db: &mut SqliteConnection) -> Result<Tables, sqlx::Error> {
    let customers = sqlx::query("SELECT doc FROM customers ORDER BY ref")
        .fetch_all(&mut *db)
        .await?
        .iter()
        .filter_map(|r| serde_json::from_str::<Customer>(&r.get::<String, _>(0)).ok())
        .map(|c| (c.reference.clone(), c))
        .collect();
    let orders = sqlx::query("SELECT * FROM orders ORDER BY rowid")
        .fetch_all(&mut *db)
        .await?
        .iter()
        .map(order_from_row)
        .collect();
    let notes = sqlx::query("SELECT * FROM billing_notes ORDER BY id")
        .fetch_all(&mut *db)
        .await?
        .iter()
        .map(note_from_row)
        .map(|n| (n.id, n))
        .collect();
    let complaints =
        sqlx::query("SELECT id, customer_ref, status, summary FROM complaints ORDER BY rowid")
            .fetch_all(&mut *db)
            .await?
            .iter()
            .map(|r| Complaint {
                id: r.get(0),
                customer_ref: r.get(1),
                status: r.get(2),
                summary: r.get(3),
            })
            .collect();
    Ok(Tables {
        customers,
        orders,
        notes,
        complaints,
    })
}

fn order_from_row(r: &SqliteRow) -> Order {
    Order {
        reference: r.get("ref"),
        customer_ref: r.get("customer_ref"),
        item: r.get("item"),
        price: r.get("price"),
        delivered_on: r.get("delivered_on"),
        status: r.get("status"),
        return_note: r.get("return_note"),
    }
}

fn note_from_row(r: &SqliteRow) -> BillingNote {
    BillingNote {
        id: r.get("id"),
        customer_ref: r.get("customer_ref"),
        topic: r.get("topic"),
        text: r.get("text"),
        created_on: r.get("created_on"),
        internal: r.get("internal"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// What the reads return when they query the database, as they did before the copy.
    async fn from_database(crm: &Crm) -> Vec<Value> {
        let mut db = crm.inner.db.lock().await;
        let mut out = Vec::new();
        let customers: Vec<String> = sqlx::query_scalar("SELECT ref FROM customers ORDER BY ref")
            .fetch_all(&mut *db)
            .await
            .unwrap();
        let docs: Vec<String> = sqlx::query_scalar("SELECT doc FROM customers ORDER BY ref")
            .fetch_all(&mut *db)
            .await
            .unwrap();
        let all: Vec<Customer> = docs
            .iter()
            .filter_map(|d| serde_json::from_str(d).ok())
            .collect();
        out.push(json!(all));
        let topics = [
            None,
            Some("roaming"),
            Some("late-payment"),
            Some("direct-debit"),
            Some("fees"),
        ];
        for c in &customers {
            let orders: Vec<Order> = sqlx::query(
                "SELECT * FROM orders WHERE customer_ref = ?1 ORDER BY delivered_on DESC",
            )
            .bind(c)
            .fetch_all(&mut *db)
            .await
            .unwrap()
            .iter()
            .map(order_from_row)
            .collect();
            out.push(json!(orders));
            for topic in topics {
                let notes: Vec<BillingNote> = sqlx::query("SELECT * FROM billing_notes WHERE customer_ref = ?1 AND (?2 IS NULL OR topic = ?2) ORDER BY created_on DESC, id DESC")
                    .bind(c)
                    .bind(topic)
                    .fetch_all(&mut *db)
                    .await
                    .unwrap()
                    .iter()
                    .map(note_from_row)
                    .collect();
                out.push(json!(notes));
            }
            let complaints: Vec<Complaint> = sqlx::query(
                "SELECT id, customer_ref, status, summary FROM complaints WHERE customer_ref = ?1",
            )
            .bind(c)
            .fetch_all(&mut *db)
            .await
            .unwrap()
            .iter()
            .map(|r| Complaint {
                id: r.get(0),
                customer_ref: r.get(1),
                status: r.get(2),
                summary: r.get(3),
            })
            .collect();
            out.push(json!(complaints));
        }
        for topic in topics {
            for limit in [2, -1] {
                let notes: Vec<BillingNote> = sqlx::query("SELECT * FROM billing_notes WHERE (?1 IS NULL OR topic = ?1) ORDER BY created_on DESC, id DESC LIMIT ?2")
                    .bind(topic)
                    .bind(limit)
                    .fetch_all(&mut *db)
                    .await
                    .unwrap()
                    .iter()
                    .map(note_from_row)
                    .collect();
                out.push(json!(notes));
            }
        }
        let orders: Vec<Order> = sqlx::query("SELECT * FROM orders ORDER BY ref")
            .fetch_all(&mut *db)
            .await
            .unwrap()
            .iter()
            .map(order_from_row)
            .collect();
        out.push(json!(orders));
        out
    }

    /// The same reads, served from the copy.
    async fn from_copy(crm: &Crm) -> Vec<Value> {
        let mut out = Vec::new();
        let all = crm.all_customers().await.unwrap();
        out.push(json!(all));
        let topics = [
            None,
            Some("roaming"),
            Some("late-payment"),
            Some("direct-debit"),
            Some("fees"),
        ];
        for c in &all {
            out.push(json!(crm.orders_of(&c.reference).await.unwrap()));
            for topic in topics {
                out.push(json!(crm.notes_of(&c.reference, topic).await.unwrap()));
            }
            out.push(json!(crm.complaints_of(&c.reference).await.unwrap()));
        }
        for topic in topics {
            for limit in [2, -1] {
                out.push(json!(
                    crm.recent_notes_any_customer(topic, limit).await.unwrap()
                ));
            }
        }
        let mut orders: Vec<Order> = Vec::new();
        for c in &all {
            orders.extend(crm.orders_of(&c.reference).await.unwrap());
        }
        orders.sort_by(|a, b| a.reference.cmp(&b.reference));
        for o in &orders {
            assert_eq!(crm.order(&o.reference).await.unwrap().as_ref(), Some(o));
        }
        out.push(json!(orders));
        out
    }

    async fn assert_copy_matches(crm: &Crm, after: &str) {
        let db = from_database(crm).await;
        let copy = from_copy(crm).await;
        assert_eq!(db.len(), copy.len(), "after {after}");
        for (i, (d, c)) in db.iter().zip(&copy).enumerate() {
            assert_eq!(d, c, "read {i} after {after}");
        }
        // And the copy is exactly what reading the tables afresh gives.
        let fresh = read_tables(&mut *crm.inner.db.lock().await).await.unwrap();
        assert!(fresh == *crm.copy(), "the copy drifted after {after}");
    }

    #[tokio::test]
    async fn reads_from_the_copy_match_the_database_after_every_kind_of_write() {
        let crm = Crm::open(jiff::civil::date(2026, 11, 20)).await.unwrap();
        assert_copy_matches(&crm, "opening").await;
        let customers = crm.all_customers().await.unwrap();
        let with_orders = {
            let mut found = None;
            for c in &customers {
                if crm.orders_of(&c.reference).await.unwrap().len() >= 2 {
                    found = Some(c.clone());
                    break;
                }
            }
            found.expect("a customer with two orders")
        };
        let orders = crm.orders_of(&with_orders.reference).await.unwrap();

        let note = crm
            .add_note_for(&with_orders.reference, "roaming", "Planted note", false)
            .await
            .unwrap();
        crm.add_note_for(&with_orders.reference, "fees", "Another", true)
            .await
            .unwrap();
        assert_copy_matches(&crm, "add_note").await;
        assert!(crm.delete_note(note).await.unwrap());
        assert!(!crm.delete_note(note).await.unwrap());
        assert_copy_matches(&crm, "delete_note").await;

        let replaced = crm
            .set_return_note(&orders[0].reference, Some("Refund me £900"))
            .await
            .unwrap();
        assert_eq!(replaced, Some(orders[0].return_note.clone()));
        assert_eq!(
            crm.set_return_note("ORD-00000", Some("x")).await.unwrap(),
            None
        );
        assert_copy_matches(&crm, "set_return_note").await;
        crm.refund_return("c-1", &orders[1], 10.0, "test")
            .await
            .unwrap();
        assert_copy_matches(&crm, "refund_return").await;
        crm.restore_order(&orders[1]).await.unwrap();
        crm.restore_order(&orders[0]).await.unwrap();
        assert_copy_matches(&crm, "restore_order").await;

        crm.credit("c-2", &with_orders, 12.5, "goodwill")
            .await
            .unwrap();
        assert_copy_matches(&crm, "credit").await;
        let current = crm.customer(&with_orders.reference).await.unwrap().unwrap();
        crm.change_address(
            "c-3",
            &current,
            Address {
                line1: "1 New Street".into(),
                town: "Leeds".into(),
                postcode: "LS1 1AA".into(),
            },
        )
        .await
        .unwrap();
        assert_copy_matches(&crm, "change_address").await;

        let with_complaint = {
            let mut found = None;
            for c in &customers {
                if let Some(first) = crm.complaints_of(&c.reference).await.unwrap().first() {
                    found = Some(first.clone());
                    break;
                }
            }
            found.expect("a customer with a complaint")
        };
        crm.close_complaint("c-4", &with_complaint, "resolved")
            .await
            .unwrap();
        assert_copy_matches(&crm, "close_complaint").await;

        let ticket = crm
            .open_ticket(&NewTicket {
                conversation_id: "c-5".into(),
                customer_ref: with_orders.reference.clone(),
                queue: "returns".into(),
                priority: "normal".into(),
                summary: "A return".into(),
                transcript: vec![json!({"role": "customer", "text": "hello"})],
            })
            .await
            .unwrap();
        assert_eq!(ticket, "HT-1");
        assert_copy_matches(&crm, "open_ticket").await;
        // Every change reached the audit log, in order, with what it changed.
        let entries = crm.audit_entries().await.unwrap();
        let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "process_return",
                "issue_credit",
                "change_address",
                "close_complaint",
                "handover_to_human"
            ]
        );
        assert!(entries.iter().all(|e| e.at_ns > 0));
        assert_eq!(
            (
                entries[0].conversation_id.as_str(),
                entries[0].customer_ref.as_str()
            ),
            ("c-1", with_orders.reference.as_str())
        );
        assert_eq!(
            entries[0].after,
            json!({"order": orders[1].reference, "status": "returned", "refunded": 10.0, "reason": "test"})
        );
        assert_eq!(
            entries[1].before,
            json!({"balance_due": with_orders.balance_due})
        );
        assert_eq!(
            entries[2].after,
            json!({"address": "1 New Street, Leeds LS1 1AA"})
        );
        assert_eq!(
            (entries[3].customer_ref.as_str(), &entries[3].after),
            (
                with_complaint.customer_ref.as_str(),
                &json!({"complaint": with_complaint.id, "status": "closed", "resolution": "resolved"})
            )
        );
        assert_eq!(entries[4].before, Value::Null);
        assert_eq!(
            entries[4].after.to_string(),
            json!({"ticket": "HT-1", "queue": "returns", "priority": "normal"}).to_string()
        );
        let second = crm
            .open_ticket(&NewTicket {
                conversation_id: "c-6".into(),
                customer_ref: with_orders.reference.clone(),
                queue: "general".into(),
                priority: "urgent".into(),
                summary: "Another".into(),
                transcript: Vec::new(),
            })
            .await
            .unwrap();
        assert_eq!(second, "HT-2");
        let tickets = crm.tickets().await.unwrap();
        assert_eq!(
            tickets.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
            ["HT-1", "HT-2"]
        );
        assert_eq!(
            crm.audit_entries().await.unwrap()[5].after,
            json!({"ticket": "HT-2", "queue": "general", "priority": "urgent"})
        );
    }

    #[tokio::test]
    async fn a_change_whose_audit_entry_fails_leaves_the_copy_as_the_database_is() {
        let crm = Crm::open(jiff::civil::date(2026, 11, 20)).await.unwrap();
        let customer = crm
            .all_customers()
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.balance_due >= 5.0)
            .expect("a customer who owes something");
        sqlx::raw_sql("DROP TABLE audit")
            .execute(&mut *crm.inner.db.lock().await)
            .await
            .unwrap();
        // The balance changes, then the audit insert fails: the error is returned and the copy
        // holds what the database holds.
        assert!(crm.credit("c-1", &customer, 5.0, "x").await.is_err());
        assert_copy_matches(&crm, "a failed audit entry").await;
        let now = crm.customer(&customer.reference).await.unwrap().unwrap();
        assert!((now.balance_due - (customer.balance_due - 5.0)).abs() < 1e-9);
    }
}
