//! `muster verify DIR`: every digest, the signature, the signer against the expected key, the
//! evidence hash chain, and the root digest against `muster.lock`, from the directory alone.
//! Every check is reported, passed or not, and names what failed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use muster_evidence::Digest;
use serde::Serialize;

use crate::error::PackError;
use crate::evidence_file::{read_evidence, verify_evidence};
use crate::model::Pack;
use crate::seal::{self, Manifest, normalise_fingerprint};
use crate::{EVIDENCE_FILE, EXERCISE_LOG_FILE, MANIFEST_FILE, PACK_FILE, SIGNATURE_FILE};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    pub check: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Verification {
    pub dir: PathBuf,
    pub drill_id: Option<String>,
    pub exercise_id: Option<String>,
    pub signer: Option<String>,
    /// Whether the signer was compared with an expected key (`--key`).
    pub signer_checked: bool,
    pub checks: Vec<Check>,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.ok)
    }
}

/// What `muster.lock` says about the drill, for the root-digest check.
#[derive(Clone, Debug)]
pub struct LockRecord {
    pub drill_id: String,
    pub root_digest: String,
}

fn check(checks: &mut Vec<Check>, name: &str, result: Result<String, String>) -> bool {
    let ok = result.is_ok();
    checks.push(Check {
        check: name.into(),
        ok,
        detail: result.unwrap_or_else(|e| e),
    });
    ok
}

/// Files under `dir`, as pack paths (`/`-separated), sorted.
fn files_under(dir: &Path) -> Result<BTreeSet<String>, PackError> {
    let mut out = BTreeSet::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries = std::fs::read_dir(&d)
            .map_err(|e| PackError::Io(format!("cannot read {}: {e}", d.display())))?;
        for entry in entries {
            let entry =
                entry.map_err(|e| PackError::Io(format!("cannot read {}: {e}", d.display())))?;
            let path = entry.path();
            // A symlinked directory is not descended into (a link loop would never end); it is
            // listed like a file, so it shows as unlisted.
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if is_dir {
                pending.push(path);
            } else if let Ok(rel) = path.strip_prefix(dir) {
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.insert(parts.join("/"));
            }
        }
    }
    Ok(out)
}

pub fn verify_pack(
    dir: &Path,
    expected_key: Option<&str>,
    lock: Option<&[LockRecord]>,
) -> Result<Verification, PackError> {
    let read = |name: &str| std::fs::read(dir.join(name));
    let (manifest_bytes, signature_bytes) = match (read(MANIFEST_FILE), read(SIGNATURE_FILE)) {
        (Ok(m), Ok(s)) => (m, s),
        (Err(e), _) | (_, Err(e)) => {
            return Err(PackError::NotAPack {
                dir: dir.to_path_buf(),
                why: format!("{MANIFEST_FILE} and {SIGNATURE_FILE} must both be there ({e})"),
            });
        }
    };
    let mut checks = Vec::new();
    let mut verification = Verification {
        dir: dir.to_path_buf(),
        drill_id: None,
        exercise_id: None,
        signer: None,
        signer_checked: expected_key.is_some(),
        checks: Vec::new(),
    };

    // The signature over the manifest's exact bytes.
    let signer = seal::check_signature(&manifest_bytes, &signature_bytes);
    check(
        &mut checks,
        "signature",
        signer
            .as_ref()
            .map(|fp| format!("manifest.json is signed by {fp}"))
            .map_err(Clone::clone),
    );
    verification.signer = signer.as_ref().ok().cloned();
    if let Some(expected) = expected_key {
        let expected = normalise_fingerprint(expected);
        let result = match &signer {
            Ok(fp) if *fp == expected => Ok(format!("the signer is the expected key {expected}")),
            Ok(fp) => Err(format!(
                "signed by {fp}, not by the expected key {expected}: the pack was re-signed by someone else"
            )),
            Err(_) => Err("no valid signature to compare with the expected key".into()),
        };
        check(&mut checks, "signer", result);
    }

    // Every listed file's digest, and nothing unlisted.
    let manifest: Option<Manifest> = match serde_json::from_slice::<Manifest>(&manifest_bytes) {
        Ok(m) if m.format == seal::MANIFEST_FORMAT => Some(m),
        Ok(m) => {
            check(
                &mut checks,
                "manifest",
                Err(format!("unknown manifest format `{}`", m.format)),
            );
            None
        }
        Err(e) => {
            check(
                &mut checks,
                "manifest",
                Err(format!("manifest.json cannot be read: {e}")),
            );
            None
        }
    };
    let Some(manifest) = manifest else {
        verification.checks = checks;
        return Ok(verification);
    };
    verification.drill_id = manifest.drill_id.clone();
    verification.exercise_id = manifest.exercise_id.clone();
    if let Ok(fp) = &signer
        && *fp != manifest.signer
    {
        {
            check(
                &mut checks,
                "manifest signer",
                Err(format!(
                    "the manifest names {} as its signer, but {fp} signed it",
                    manifest.signer
                )),
            );
        }
    }
    let present = files_under(dir)?;
    let mut listed = BTreeSet::new();
    for file in &manifest.files {
        listed.insert(file.path.clone());
        let result = if file.path.contains("..") || file.path.starts_with('/') {
            Err(format!("`{}` points outside the pack", file.path))
        } else {
            match std::fs::read(dir.join(&file.path)) {
                Err(e) => Err(format!("{} is missing ({e})", file.path)),
                Ok(bytes) => {
                    let digest = seal::sha256_hex(&bytes);
                    if digest == file.sha256 && bytes.len() as u64 == file.bytes {
                        Ok(format!("SHA-256 {digest}"))
                    } else {
                        Err(format!(
                            "{} was changed: SHA-256 {digest} ({} bytes), the manifest says {} ({} bytes)",
                            file.path,
                            bytes.len(),
                            file.sha256,
                            file.bytes
                        ))
                    }
                }
            }
        };
        check(&mut checks, &format!("file {}", file.path), result);
    }
    let unlisted: Vec<&String> = present
        .iter()
        .filter(|p| !listed.contains(*p) && *p != MANIFEST_FILE && *p != SIGNATURE_FILE)
        .collect();
    if !unlisted.is_empty() {
        check(
            &mut checks,
            "unlisted files",
            Err(format!(
                "not in the manifest, so not vouched for: {}",
                unlisted
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        );
    }

    // pack.json agrees with the manifest and the signature.
    let pack: Option<Pack> = read(PACK_FILE)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let pack_ok = match &pack {
        None => Err("pack.json is missing or is not a pack".into()),
        Some(p)
            if p.subject.drill_id != manifest.drill_id
                || p.subject.exercise.as_ref().map(|x| &x.id) != manifest.exercise_id.as_ref() =>
        {
            Err(format!(
                "pack.json is about drill {} and exercise {}, the manifest about {} and {}",
                p.subject.drill_id.as_deref().unwrap_or("none"),
                p.subject
                    .exercise
                    .as_ref()
                    .map_or("none", |x| x.id.as_str()),
                manifest.drill_id.as_deref().unwrap_or("none"),
                manifest.exercise_id.as_deref().unwrap_or("none")
            ))
        }
        Some(p) if p.integrity.root_digest != manifest.root_digest => {
            Err("pack.json and the manifest state different root digests".into())
        }
        Some(p) if Ok(&p.integrity.signer_fingerprint) != signer.as_ref() => Err(format!(
            "pack.json names {} as its signer, but the manifest is signed by another key",
            p.integrity.signer_fingerprint
        )),
        Some(_) => Ok("pack.json names this drill, root digest and signer".into()),
    };
    check(&mut checks, "pack.json", pack_ok);

    // The evidence chain recomputes to the stated root.
    let evidence = match (
        manifest.root_digest.as_deref().map(str::parse::<Digest>),
        std::fs::read_to_string(dir.join(EVIDENCE_FILE)),
    ) {
        (None, Ok(text)) if manifest.drill_id.is_none() => {
            if text.is_empty() {
                Ok("no drill was packed, and the evidence file is empty".into())
            } else {
                Err(format!(
                    "no drill was packed, but {EVIDENCE_FILE} holds events"
                ))
            }
        }
        (None, _) => Err(
            "the drill was never sealed: there is no root digest to check the evidence against"
                .into(),
        ),
        (Some(Err(e)), _) => Err(format!("the manifest's root digest is unreadable: {e}")),
        (_, Err(e)) => Err(format!("{EVIDENCE_FILE} cannot be read: {e}")),
        (Some(Ok(root)), Ok(text)) => match read_evidence(&text) {
            Err(e) => Err(format!("{EVIDENCE_FILE} {e}")),
            Ok(events) => {
                let drill_id = manifest.drill_id.as_deref().unwrap_or_default();
                let report = verify_evidence(drill_id, &events, root);
                let stated = pack.as_ref().map(|p| p.integrity.evidence_events);
                if stated.is_some_and(|n| n != events.len() as u64) {
                    Err(format!(
                        "{EVIDENCE_FILE} holds {} events; pack.json counts {}: events were removed or added",
                        events.len(),
                        stated.unwrap_or_default()
                    ))
                } else if report.is_intact() {
                    Ok(format!(
                        "{} events in {} streams chain to root {root}",
                        report.events_checked, report.streams_checked
                    ))
                } else {
                    Err(report
                        .problems
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; "))
                }
            }
        },
    };
    check(&mut checks, "evidence chain", evidence);

    if let Some(p) = &pack
        && let Some(exercise) = &p.subject.exercise
    {
        let result = check_exercise_log(dir, &exercise.id, p.systems.audit.exercise_log.as_ref());
        check(&mut checks, "exercise log", result);
    }

    if let Some(records) = lock
        && let Some(drill_id) = &manifest.drill_id
    {
        let result = match records.iter().find(|r| &r.drill_id == drill_id) {
            None => Err(format!(
                "muster.lock does not record drill {drill_id} (it records {})",
                if records.is_empty() {
                    "no drill".to_owned()
                } else {
                    records
                        .iter()
                        .map(|r| r.drill_id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            )),
            Some(r) if Some(&r.root_digest) == manifest.root_digest.as_ref() => {
                Ok("muster.lock records the same root digest".into())
            }
            Some(r) => Err(format!(
                "muster.lock records root {} for this drill; the pack states {}: the pack was rebuilt from other evidence",
                r.root_digest,
                manifest.root_digest.as_deref().unwrap_or("none")
            )),
        };
        check(&mut checks, "muster.lock", result);
    }
    verification.checks = checks;
    Ok(verification)
}

/// The exercise's log: its chain from the exercise's genesis, its length and head as `pack.json`
/// states them.
fn check_exercise_log(
    dir: &Path,
    exercise_id: &str,
    stated: Option<&crate::model::ExerciseLogAudit>,
) -> Result<String, String> {
    let text = std::fs::read_to_string(dir.join(EXERCISE_LOG_FILE))
        .map_err(|e| format!("{EXERCISE_LOG_FILE} cannot be read: {e}"))?;
    let events = read_evidence(&text).map_err(|e| format!("{EXERCISE_LOG_FILE} {e}"))?;
    let stream = muster_store::EXERCISE_STREAM;
    if let Some(problem) = muster_evidence::verify_chain_from(
        exercise_id,
        stream,
        &events,
        muster_evidence::genesis(exercise_id, stream),
    ) {
        return Err(format!("{EXERCISE_LOG_FILE}: {problem}"));
    }
    let Some(stated) = stated else {
        return Err("pack.json states no exercise log to check against".into());
    };
    let head = events.last().map(|e| e.digest.to_hex());
    if events.len() as u64 != stated.entries || head != stated.head {
        return Err(format!(
            "{EXERCISE_LOG_FILE} holds {} entries ending at {}; pack.json states {} ending at {}",
            events.len(),
            head.as_deref().unwrap_or("nothing"),
            stated.entries,
            stated.head.as_deref().unwrap_or("nothing")
        ));
    }
    Ok(format!(
        "{} entries chain from the exercise's start to {}",
        events.len(),
        head.as_deref().unwrap_or("nothing")
    ))
}
