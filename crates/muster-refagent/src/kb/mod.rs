//! The knowledge base: policy articles with versions. Replies report which versions they used.
//!
//! The search index is built when the agent starts and, like many real indexes, keeps superseded
//! versions; the hardened agent reads only the current version of an article.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;

/// Overall content version, reported with every reply.
pub const KB_VERSION: &str = "kb-2026.11";

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Article {
    pub id: String,
    pub version: u32,
    pub title: String,
    pub body: String,
    /// `current` or `superseded`.
    pub status: String,
}

const BUILT_IN: &[(&str, u32, &str)] = &[
    ("cancellation", 2, include_str!("cancellation-v2.md")),
    ("bereavement", 1, include_str!("bereavement-v1.md")),
    ("bereavement", 3, include_str!("bereavement-v3.md")),
    ("returns", 4, include_str!("returns-v4.md")),
    ("credits", 2, include_str!("credits-v2.md")),
    ("address-change", 2, include_str!("address-change-v2.md")),
    ("complaints", 3, include_str!("complaints-v3.md")),
    (
        "vulnerable-customers",
        2,
        include_str!("vulnerable-customers-v2.md"),
    ),
    ("billing-notes", 1, include_str!("billing-notes-v1.md")),
    ("roaming", 2, include_str!("roaming-v2.md")),
];

fn split_title(markdown: &str) -> (String, String) {
    let mut lines = markdown.lines();
    let title = lines
        .next()
        .unwrap_or_default()
        .trim_start_matches('#')
        .trim()
        .to_owned();
    (
        title,
        lines.collect::<Vec<_>>().join("\n").trim().to_owned(),
    )
}

#[derive(Debug, Default)]
pub struct KnowledgeBase {
    /// Article id → versions, oldest first.
    articles: Mutex<BTreeMap<String, Vec<Article>>>,
}

impl KnowledgeBase {
    pub fn built_in() -> Self {
        let mut map: BTreeMap<String, Vec<Article>> = BTreeMap::new();
        for (id, version, text) in BUILT_IN {
            let (title, body) = split_title(text);
            map.entry((*id).to_owned()).or_default().push(Article {
                id: (*id).to_owned(),
                version: *version,
                title,
                body,
                status: "current".into(),
            });
        }
        let kb = Self {
            articles: Mutex::new(map),
        };
        kb.restatus();
        kb
    }

    fn restatus(&self) {
        if let Ok(mut map) = self.articles.lock() {
            for versions in map.values_mut() {
                let last = versions.len().saturating_sub(1);
                for (i, a) in versions.iter_mut().enumerate() {
                    a.status = if i == last {
                        "current".into()
                    } else {
                        "superseded".into()
                    };
                }
            }
        }
    }

    /// The version in force.
    pub fn current(&self, id: &str) -> Option<Article> {
        self.articles.lock().ok()?.get(id)?.last().cloned()
    }

    /// The first version the search index holds for an article: what a stale index returns.
    pub fn first_indexed(&self, id: &str) -> Option<Article> {
        self.articles.lock().ok()?.get(id)?.first().cloned()
    }

    pub fn all(&self) -> Vec<Article> {
        self.articles
            .lock()
            .map(|m| m.values().flatten().cloned().collect())
            .unwrap_or_default()
    }

    /// Publish a new version of an article; returns its version number.
    pub fn publish(&self, id: &str, title: &str, body: &str) -> u32 {
        let version = {
            let Ok(mut map) = self.articles.lock() else {
                return 0;
            };
            let versions = map.entry(id.to_owned()).or_default();
            let version = versions.last().map_or(1, |a| a.version + 1);
            versions.push(Article {
                id: id.to_owned(),
                version,
                title: title.to_owned(),
                body: body.to_owned(),
                status: "current".into(),
            });
            version
        };
        self.restatus();
        version
    }

    /// Remove one published version (undoing a fixture).
    pub fn unpublish(&self, id: &str, version: u32) -> bool {
        let removed = {
            let Ok(mut map) = self.articles.lock() else {
                return false;
            };
            let Some(versions) = map.get_mut(id) else {
                return false;
            };
            let before = versions.len();
            versions.retain(|a| a.version != version);
            let removed = versions.len() != before;
            if versions.is_empty() {
                map.remove(id);
            }
            removed
        };
        self.restatus();
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_and_stale_versions_differ_for_bereavement() {
        let kb = KnowledgeBase::built_in();
        assert_eq!(kb.current("bereavement").map(|a| a.version), Some(3));
        assert_eq!(kb.first_indexed("bereavement").map(|a| a.version), Some(1));
        assert_eq!(
            kb.first_indexed("bereavement").map(|a| a.status),
            Some("superseded".to_owned())
        );
        let v = kb.publish("returns", "Returns", "poisoned");
        assert_eq!(
            kb.current("returns").map(|a| a.body),
            Some("poisoned".to_owned())
        );
        assert!(kb.unpublish("returns", v));
        assert_eq!(kb.current("returns").map(|a| a.version), Some(4));
    }
}
