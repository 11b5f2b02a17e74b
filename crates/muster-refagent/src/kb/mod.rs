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
    /// The content release that published it (see [`KnowledgeBase::release`]).
    pub release: String,
    #[serde(skip)]
    release_no: u32,
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
    /// Releases so far; release 0 is the built-in content. Every publish is a new release.
    releases: Mutex<Releases>,
}

#[derive(Debug, Default)]
struct Releases {
    last: u32,
    /// Content is served as of this release (a rollback); `None` serves the latest.
    pinned: Option<u32>,
}

/// The label of release `n`: the built-in content is `kb-2026.11`, later releases `kb-2026.11.n`.
pub fn release_label(n: u32) -> String {
    if n == 0 {
        KB_VERSION.to_owned()
    } else {
        format!("{KB_VERSION}.{n}")
    }
}

fn release_number(label: &str) -> Option<u32> {
    if label == KB_VERSION {
        return Some(0);
    }
    label
        .strip_prefix(KB_VERSION)?
        .strip_prefix('.')?
        .parse()
        .ok()
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
                release: release_label(0),
                release_no: 0,
            });
        }
        let kb = Self {
            articles: Mutex::new(map),
            releases: Mutex::new(Releases::default()),
        };
        kb.restatus();
        kb
    }

    fn pinned(&self) -> Option<u32> {
        self.releases.lock().ok().and_then(|r| r.pinned)
    }

    fn restatus(&self) {
        let pinned = self.pinned();
        if let Ok(mut map) = self.articles.lock() {
            for versions in map.values_mut() {
                let in_force = versions
                    .iter()
                    .rposition(|a| pinned.is_none_or(|p| a.release_no <= p));
                for (i, a) in versions.iter_mut().enumerate() {
                    a.status = if Some(i) == in_force {
                        "current".into()
                    } else if pinned.is_some_and(|p| a.release_no > p) {
                        "rolled-back".into()
                    } else {
                        "superseded".into()
                    };
                }
            }
        }
    }

    /// The version in force: the latest, or the latest as of the release content was rolled back to.
    pub fn current(&self, id: &str) -> Option<Article> {
        let pinned = self.pinned();
        self.articles
            .lock()
            .ok()?
            .get(id)?
            .iter()
            .rev()
            .find(|a| pinned.is_none_or(|p| a.release_no <= p))
            .cloned()
    }

    /// The content release being served, reported with every reply.
    pub fn release(&self) -> String {
        match self.releases.lock() {
            Ok(r) => release_label(r.pinned.unwrap_or(r.last)),
            Err(_) => release_label(0),
        }
    }

    /// Every release label, oldest first.
    pub fn releases(&self) -> Vec<String> {
        let last = self.releases.lock().map_or(0, |r| r.last);
        (0..=last).map(release_label).collect()
    }

    /// Serve content as of the named release. `None` when there is no such release.
    pub fn roll_back_to(&self, label: &str) -> Option<String> {
        let n = release_number(label)?;
        {
            let mut r = self.releases.lock().ok()?;
            if n > r.last {
                return None;
            }
            r.pinned = (n < r.last).then_some(n);
        }
        self.restatus();
        Some(self.release())
    }

    /// Serve the latest content again.
    pub fn restore_latest(&self) -> String {
        if let Ok(mut r) = self.releases.lock() {
            r.pinned = None;
        }
        self.restatus();
        self.release()
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
            let release_no = match self.releases.lock() {
                Ok(mut r) => {
                    r.last += 1;
                    r.last
                }
                Err(_) => return 0,
            };
            let versions = map.entry(id.to_owned()).or_default();
            let version = versions.last().map_or(1, |a| a.version + 1);
            versions.push(Article {
                id: id.to_owned(),
                version,
                title: title.to_owned(),
                body: body.to_owned(),
                status: "current".into(),
                release: release_label(release_no),
                release_no,
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
        if removed && let Ok(mut r) = self.releases.lock() {
            // Taking content down is a release too: replies must not claim the old label.
            r.last += 1;
            r.pinned = None;
        }
        self.restatus();
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolling_back_serves_the_named_release_until_restored() {
        let kb = KnowledgeBase::built_in();
        assert_eq!(kb.release(), "kb-2026.11");
        let v = kb.publish("returns", "Returns", "Return anything within 365 days.");
        assert_eq!(v, 5);
        assert_eq!(kb.release(), "kb-2026.11.1");
        assert_eq!(kb.current("returns").map(|a| a.version), Some(5));
        assert_eq!(kb.roll_back_to("kb-2026.11").as_deref(), Some("kb-2026.11"));
        assert_eq!(kb.current("returns").map(|a| a.version), Some(4));
        assert_eq!(kb.release(), "kb-2026.11");
        assert_eq!(kb.roll_back_to("kb-2026.11.7"), None, "no such release");
        assert_eq!(kb.roll_back_to("nonsense"), None);
        assert_eq!(
            kb.release(),
            "kb-2026.11",
            "a refused rollback changes nothing"
        );
        assert_eq!(kb.restore_latest(), "kb-2026.11.1");
        assert_eq!(kb.current("returns").map(|a| a.version), Some(5));
        assert!(kb.unpublish("returns", 5));
        assert_eq!(
            kb.release(),
            "kb-2026.11.2",
            "taking content down is a release"
        );
        assert_eq!(kb.current("returns").map(|a| a.version), Some(4));
    }

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
