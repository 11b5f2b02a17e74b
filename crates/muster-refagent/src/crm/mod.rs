//! The CRM: customers, plans, orders, billing notes and complaints in SQLite, plus the audit log of
//! every account change and the handover queue. Everything the tools do is written here for real.

mod seed;

/// The customers a fresh CRM opened on `today` holds.
pub fn seeded_customers(today: jiff::civil::Date) -> Vec<Customer> {
    seed::seed(today).customers
}

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteRow};

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
    created_on TEXT NOT NULL);
CREATE INDEX notes_by_topic ON billing_notes (topic, created_on);
CREATE TABLE complaints (id TEXT PRIMARY KEY, customer_ref TEXT NOT NULL, status TEXT NOT NULL, summary TEXT NOT NULL,
    resolution TEXT);
CREATE TABLE audit (id INTEGER PRIMARY KEY, at_ns INTEGER NOT NULL, conversation_id TEXT NOT NULL, customer_ref TEXT NOT NULL,
    action TEXT NOT NULL, before TEXT, after TEXT);
CREATE TABLE tickets (id INTEGER PRIMARY KEY, conversation_id TEXT NOT NULL, customer_ref TEXT NOT NULL, queue TEXT NOT NULL,
    priority TEXT NOT NULL, summary TEXT NOT NULL, transcript TEXT NOT NULL, created_at_ns INTEGER NOT NULL);
";

/// The CRM database.
#[derive(Clone, Debug)]
pub struct Crm {
    pool: SqlitePool,
    today: jiff::civil::Date,
}

use crate::{now_ns, rfc3339};

impl Crm {
    /// A fresh in-memory CRM holding the synthetic customer base.
    pub async fn open(today: jiff::civil::Date) -> Result<Self, sqlx::Error> {
        // One connection that never expires: an in-memory SQLite database lives as long as it does.
        let options = SqliteConnectOptions::new().in_memory(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await?;
        sqlx::raw_sql(SCHEMA).execute(&pool).await?;
        let crm = Self { pool, today };
        crm.load(seed::seed(today)).await?;
        Ok(crm)
    }

    pub fn today(&self) -> jiff::civil::Date {
        self.today
    }

    async fn load(&self, data: seed::Seeded) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
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
            sqlx::query("INSERT INTO billing_notes VALUES (?1, ?2, ?3, ?4, ?5)")
                .bind(n.id)
                .bind(&n.customer_ref)
                .bind(&n.topic)
                .bind(&n.text)
                .bind(&n.created_on)
                .execute(&mut *tx)
                .await?;
        }
        for c in &data.complaints {
            sqlx::query("INSERT INTO complaints (id, customer_ref, status, summary) VALUES (?1, ?2, ?3, ?4)")
                .bind(&c.id)
                .bind(&c.customer_ref)
                .bind(&c.status)
                .bind(&c.summary)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }

    pub async fn customer(&self, reference: &str) -> Result<Option<Customer>, sqlx::Error> {
        let row = sqlx::query("SELECT doc FROM customers WHERE ref = ?1")
            .bind(reference)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.and_then(|r| serde_json::from_str::<Customer>(&r.get::<String, _>(0)).ok()))
    }

    pub async fn all_customers(&self) -> Result<Vec<Customer>, sqlx::Error> {
        let rows = sqlx::query("SELECT doc FROM customers ORDER BY ref")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .filter_map(|r| serde_json::from_str::<Customer>(&r.get::<String, _>(0)).ok())
            .collect())
    }

    async fn save_customer(&self, c: &Customer) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE customers SET doc = ?2 WHERE ref = ?1")
            .bind(&c.reference)
            .bind(serde_json::to_string(c).unwrap_or_default())
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    pub async fn orders_of(&self, customer: &str) -> Result<Vec<Order>, sqlx::Error> {
        let rows =
            sqlx::query("SELECT * FROM orders WHERE customer_ref = ?1 ORDER BY delivered_on DESC")
                .bind(customer)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.iter().map(order_from_row).collect())
    }

    pub async fn order(&self, reference: &str) -> Result<Option<Order>, sqlx::Error> {
        let row = sqlx::query("SELECT * FROM orders WHERE ref = ?1")
            .bind(reference)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(order_from_row))
    }

    /// Set an order's customer-supplied return note; returns the note it replaced.
    pub async fn set_return_note(
        &self,
        order: &str,
        note: Option<&str>,
    ) -> Result<Option<Option<String>>, sqlx::Error> {
        let Some(existing) = self.order(order).await? else {
            return Ok(None);
        };
        sqlx::query("UPDATE orders SET return_note = ?2 WHERE ref = ?1")
            .bind(order)
            .bind(note)
            .execute(&self.pool)
            .await?;
        Ok(Some(existing.return_note))
    }

    /// Put an order back exactly as it was (status and return note); the audit log keeps history.
    pub async fn restore_order(&self, order: &Order) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE orders SET status = ?2, return_note = ?3 WHERE ref = ?1")
            .bind(&order.reference)
            .bind(&order.status)
            .bind(&order.return_note)
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    /// The customer's notes on a topic (all topics when `None`), newest first.
    pub async fn notes_of(
        &self,
        customer: &str,
        topic: Option<&str>,
    ) -> Result<Vec<BillingNote>, sqlx::Error> {
        let rows = sqlx::query("SELECT * FROM billing_notes WHERE customer_ref = ?1 AND (?2 IS NULL OR topic = ?2) ORDER BY created_on DESC, id DESC")
            .bind(customer)
            .bind(topic)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(note_from_row).collect())
    }

    /// The newest notes on a topic across every customer — the query the flawed retrieval runs.
    pub async fn recent_notes_any_customer(
        &self,
        topic: Option<&str>,
        limit: i64,
    ) -> Result<Vec<BillingNote>, sqlx::Error> {
        let rows = sqlx::query("SELECT * FROM billing_notes WHERE (?1 IS NULL OR topic = ?1) ORDER BY created_on DESC, id DESC LIMIT ?2")
            .bind(topic)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(note_from_row).collect())
    }

    pub async fn add_note(
        &self,
        customer: &str,
        topic: &str,
        text: &str,
    ) -> Result<i64, sqlx::Error> {
        let id = sqlx::query("INSERT INTO billing_notes (customer_ref, topic, text, created_on) VALUES (?1, ?2, ?3, ?4)")
            .bind(customer)
            .bind(topic)
            .bind(text)
            .bind(self.today.to_string())
            .execute(&self.pool)
            .await?
            .last_insert_rowid();
        Ok(id)
    }

    pub async fn delete_note(&self, id: i64) -> Result<bool, sqlx::Error> {
        Ok(sqlx::query("DELETE FROM billing_notes WHERE id = ?1")
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected()
            > 0)
    }

    pub async fn complaints_of(&self, customer: &str) -> Result<Vec<Complaint>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, customer_ref, status, summary FROM complaints WHERE customer_ref = ?1",
        )
        .bind(customer)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| Complaint {
                id: r.get(0),
                customer_ref: r.get(1),
                status: r.get(2),
                summary: r.get(3),
            })
            .collect())
    }

    /// Write an account change to the audit log.
    pub async fn audit(
        &self,
        conversation: &str,
        customer: &str,
        action: &str,
        before: Value,
        after: Value,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO audit (at_ns, conversation_id, customer_ref, action, before, after) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
            .bind(now_ns())
            .bind(conversation)
            .bind(customer)
            .bind(action)
            .bind(before.to_string())
            .bind(after.to_string())
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    /// The audit log as records, oldest first.
    pub async fn audit_entries(&self) -> Result<Vec<AuditEntry>, sqlx::Error> {
        let rows = sqlx::query("SELECT id, at_ns, conversation_id, customer_ref, action, before, after FROM audit ORDER BY id").fetch_all(&self.pool).await?;
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
        let rows = sqlx::query("SELECT at_ns, conversation_id, customer_ref, action, before, after FROM audit ORDER BY id").fetch_all(&self.pool).await?;
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

    pub async fn refund_return(
        &self,
        conversation: &str,
        order: &Order,
        amount: f64,
        reason: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE orders SET status = 'returned' WHERE ref = ?1")
            .bind(&order.reference)
            .execute(&self.pool)
            .await?;
        self.audit(
            conversation,
            &order.customer_ref,
            "process_return",
            json!({"order": order.reference, "status": order.status}),
            json!({"order": order.reference, "status": "returned", "refunded": amount, "reason": reason}),
        )
        .await
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
        self.save_customer(&updated).await?;
        self.audit(
            conversation,
            &customer.reference,
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
        self.save_customer(&updated).await?;
        self.audit(
            conversation,
            &customer.reference,
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
        sqlx::query("UPDATE complaints SET status = 'closed', resolution = ?2 WHERE id = ?1")
            .bind(&complaint.id)
            .bind(resolution)
            .execute(&self.pool)
            .await?;
        self.audit(
            conversation,
            &complaint.customer_ref,
            "close_complaint",
            json!({"complaint": complaint.id, "status": complaint.status}),
            json!({"complaint": complaint.id, "status": "closed", "resolution": resolution}),
        )
        .await
    }

    pub async fn open_ticket(&self, ticket: &NewTicket) -> Result<String, sqlx::Error> {
        let id = sqlx::query("INSERT INTO tickets (conversation_id, customer_ref, queue, priority, summary, transcript, created_at_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
            .bind(&ticket.conversation_id)
            .bind(&ticket.customer_ref)
            .bind(&ticket.queue)
            .bind(&ticket.priority)
            .bind(&ticket.summary)
            .bind(Value::Array(ticket.transcript.clone()).to_string())
            .bind(now_ns())
            .execute(&self.pool)
            .await?
            .last_insert_rowid();
        let id = format!("HT-{id}");
        self.audit(
            &ticket.conversation_id,
            &ticket.customer_ref,
            "handover_to_human",
            Value::Null,
            json!({"ticket": id, "queue": ticket.queue, "priority": ticket.priority}),
        )
        .await?;
        Ok(id)
    }

    pub async fn tickets(&self) -> Result<Vec<Ticket>, sqlx::Error> {
        let rows = sqlx::query("SELECT * FROM tickets ORDER BY id")
            .fetch_all(&self.pool)
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
    }
}
