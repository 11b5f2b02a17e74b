//! `muster audit-evidence`: the evidence-chain audit of an agent's declared logs against what has
//! been ingested.

use std::collections::BTreeMap;

use muster_reconstruct::{AuditInput, AuditRow, CellStatus, SearchProbe, audit, probe_word};
use muster_store::{SearchFilters, Store};

use crate::cli::AuditEvidenceArgs;
use crate::context::Context;
use crate::error::{CliError, exit};
use crate::load::{manifest_from_text, read, report_problems};

const CANARY: &str = "MUSTER-CANARY-";

/// Search each source and kind: for a drill canary first (it shows drill traffic reached the
/// logs and can be found), else for a word of one of its own records.
async fn probes(
    store: &dyn Store,
    profile: &[muster_store::KindProfile],
) -> Result<BTreeMap<(String, String), SearchProbe>, CliError> {
    let mut out = BTreeMap::new();
    for p in profile.iter().filter(|p| p.with_content > 0) {
        let filters = SearchFilters {
            kind: Some(p.kind.clone()),
            source: Some(p.source.clone()),
            conversation: None,
            limit: Some(1),
        };
        let canary = store
            .search("MUSTER CANARY", &filters)
            .await?
            .into_iter()
            .find_map(|e| {
                let text = e.event.content.unwrap_or_default();
                let at = text.find(CANARY)?;
                let token: String = text[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                Some(token)
            });
        let probe = match canary {
            Some(c) => SearchProbe::Canary(c),
            None => match p.sample.as_deref().and_then(probe_word) {
                Some(word) if !store.search(&word, &filters).await?.is_empty() => {
                    SearchProbe::Index(word)
                }
                Some(word) => SearchProbe::Missed(format!(
                    "searching for \"{word}\", a word of its newest record, did not find it"
                )),
                None => SearchProbe::Missed("its records hold no word to search for".into()),
            },
        };
        out.insert((p.source.clone(), p.kind.clone()), probe);
    }
    Ok(out)
}

fn mark(status: CellStatus) -> &'static str {
    match status {
        CellStatus::Measured => "✓",
        CellStatus::Claimed => "~",
        CellStatus::Gap => "✗",
    }
}

fn render(rows: &[AuditRow]) -> String {
    let mut out = String::from(
        "artefact             present  time-stamped  searchable  retained  access  sources\n",
    );
    for r in rows {
        out.push_str(&format!(
            "{:<20} {:^7}  {:^12}  {:^10}  {:^8}  {:^6}  {}\n",
            r.artefact,
            mark(r.present.status),
            mark(r.time_stamped.status),
            mark(r.searchable.status),
            mark(r.retained.status),
            mark(r.access_controlled.status),
            if r.sources.is_empty() {
                "—".to_owned()
            } else {
                r.sources.join(", ")
            }
        ));
    }
    out.push_str("✓ measured from the evidence · ~ claimed, unverified · ✗ gap\n");
    for r in rows {
        let cells = [
            ("present", &r.present),
            ("time-stamped", &r.time_stamped),
            ("searchable", &r.searchable),
            ("retained", &r.retained),
            ("access", &r.access_controlled),
        ];
        out.push_str(&format!("\n{}\n", r.artefact));
        for (name, c) in cells {
            out.push_str(&format!("  {} {name}: {}\n", mark(c.status), c.detail));
        }
        for f in &r.fix {
            out.push_str(&format!("  fix: {f}\n"));
        }
    }
    out
}

pub async fn run(ctx: &Context, args: &AuditEvidenceArgs) -> Result<u8, CliError> {
    let text = read(&args.agent)?;
    let manifest = manifest_from_text(&args.agent.display().to_string(), &text)
        .map_err(|p| report_problems(&[p], ctx.color))?;
    ctx.require_store()?;
    let store = ctx.open_store().await?;
    let profile = store.evidence_profile().await?;
    let probes = probes(&*store, &profile).await?;
    let access_rows = store.access_log().await?.len();
    store.close().await;
    let now_ns = i64::try_from(jiff::Timestamp::now().as_nanosecond()).unwrap_or(i64::MAX);
    let rows = audit(&AuditInput {
        manifest: &manifest,
        profile: &profile,
        probes: &probes,
        access_rows,
        now_ns,
    });
    let gaps = rows
        .iter()
        .flat_map(|r| {
            [
                &r.present,
                &r.time_stamped,
                &r.searchable,
                &r.retained,
                &r.access_controlled,
            ]
        })
        .filter(|c| c.status == CellStatus::Gap)
        .count();
    if args.json {
        let out = serde_json::json!({
            "agent": manifest.name,
            "artefacts": rows,
            "gaps": gaps,
            "store": ctx.store.describe(),
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        print!("{}", render(&rows));
        println!(
            "\n{gaps} gap{} in the evidence chain of {}",
            if gaps == 1 { "" } else { "s" },
            manifest.name
        );
    }
    Ok(if gaps == 0 { exit::OK } else { exit::FAILED })
}
