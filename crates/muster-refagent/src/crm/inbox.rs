//! Inbound support emails: each email a customer sends opens a ticket on their account, which the
//! chat assistant can look up. The body is the customer's (or anyone's) free text: data, never
//! instructions. Read straight from the database (rarely asked for, unlike the reads the copy serves).

use jiff::ToSpan;
use serde::Serialize;
use sqlx::sqlite::SqliteConnection;
use sqlx::{Connection, Row};

use super::{Crm, Customer};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EmailTicket {
    pub id: i64,
    pub customer_ref: String,
    pub subject: String,
    pub body: String,
    pub received_on: String,
    /// `open` or `closed`.
    pub status: String,
}

impl EmailTicket {
    /// The reference customers see in the auto-reply, e.g. `EM-004812`.
    pub fn reference(&self) -> String {
        format!("EM-{:06}", 4800 + self.id)
    }
}

/// The seeded inbox: one answered email.
pub(super) async fn load(
    db: &mut SqliteConnection,
    today: jiff::civil::Date,
) -> Result<(), sqlx::Error> {
    let received = today.checked_sub(41.days()).unwrap_or(today).to_string();
    let mut tx = db.begin().await?;
    sqlx::query("INSERT INTO emails (customer_ref, subject, body, received_on, status) VALUES (?1, ?2, ?3, ?4, 'closed')")
        .bind("LM-100073")
        .bind("Moving my bill date")
        .bind("Hello, could my bill be taken on the 1st of the month instead of the 20th? Thanks, Owen Pritchard")
        .bind(received)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

fn from_row(r: &sqlx::sqlite::SqliteRow) -> EmailTicket {
    EmailTicket {
        id: r.get("id"),
        customer_ref: r.get("customer_ref"),
        subject: r.get("subject"),
        body: r.get("body"),
        received_on: r.get("received_on"),
        status: r.get("status"),
    }
}

impl Crm {
    /// A customer's emailed tickets, newest first.
    pub async fn emails_of(&self, customer: &str) -> Result<Vec<EmailTicket>, sqlx::Error> {
        let mut db = self.inner.db.lock().await;
        Ok(sqlx::query(
            "SELECT * FROM emails WHERE customer_ref = ?1 ORDER BY received_on DESC, id DESC",
        )
        .bind(customer)
        .fetch_all(&mut *db)
        .await?
        .iter()
        .map(from_row)
        .collect())
    }

    /// An email received today, opening a ticket on the customer's account.
    pub async fn add_email(
        &self,
        customer: &str,
        subject: &str,
        body: &str,
    ) -> Result<i64, sqlx::Error> {
        let mut db = self.inner.db.lock().await;
        Ok(sqlx::query("INSERT INTO emails (customer_ref, subject, body, received_on, status) VALUES (?1, ?2, ?3, ?4, 'open')")
            .bind(customer)
            .bind(subject)
            .bind(body)
            .bind(self.today.to_string())
            .execute(&mut *db)
            .await?
            .last_insert_rowid())
    }

    pub async fn delete_email(&self, id: i64) -> Result<bool, sqlx::Error> {
        let mut db = self.inner.db.lock().await;
        Ok(sqlx::query("DELETE FROM emails WHERE id = ?1")
            .bind(id)
            .execute(&mut *db)
            .await?
            .rows_affected()
            > 0)
    }

    /// The customers with the most recently logged complaints, newest first, at most `limit`.
    pub async fn recent_complainants(&self, limit: usize) -> Result<Vec<Customer>, sqlx::Error> {
        let copy = self.copy();
        let mut seen: Vec<String> = Vec::new();
        for c in copy.complaints.iter().rev() {
            if !seen.contains(&c.customer_ref) {
                seen.push(c.customer_ref.clone());
            }
        }
        Ok(seen
            .iter()
            .filter_map(|r| copy.customers.get(r).cloned())
            .take(limit)
            .collect())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn emails_are_added_listed_newest_first_and_removed() {
        let crm = Crm::open(jiff::civil::Date::constant(2026, 11, 27))
            .await
            .unwrap();
        let seeded = crm.emails_of("LM-100073").await.unwrap();
        assert_eq!(seeded.len(), 1);
        assert_eq!(seeded[0].status, "closed");
        let id = crm
            .add_email("LM-100073", "Earbuds", "They stopped charging.")
            .await
            .unwrap();
        let now = crm.emails_of("LM-100073").await.unwrap();
        assert_eq!(now[0].id, id);
        assert_eq!(now[0].status, "open");
        assert!(now[0].reference().starts_with("EM-"));
        assert!(crm.emails_of("LM-100072").await.unwrap().is_empty());
        assert!(crm.delete_email(id).await.unwrap());
        assert!(!crm.delete_email(id).await.unwrap());
        assert_eq!(crm.emails_of("LM-100073").await.unwrap().len(), 1);
        let complainants = crm.recent_complainants(5).await.unwrap();
        assert!(!complainants.is_empty() && complainants.len() <= 5);
    }
}
