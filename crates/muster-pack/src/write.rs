//! Writing a pack directory: the files, then the manifest over them, then its signature.

use std::path::{Path, PathBuf};
use std::time::Instant;

use muster_evidence::SealedEvent;

use crate::error::PackError;
use crate::model::Pack;
use crate::seal::{self, PackKey};
use crate::{EVIDENCE_FILE, HTML_FILE, MANIFEST_FILE, PACK_FILE, SIGNATURE_FILE, html, plots};

#[derive(Clone, Copy, Debug, Default)]
pub struct WriteOptions {
    pub include_raw: bool,
    /// Render `pack.pdf` (needs the `pdf` feature).
    pub pdf: bool,
}

/// The chained records the pack carries: the drill's events (then its addenda) and, when the pack
/// includes an exercise, that exercise's log.
#[derive(Clone, Copy, Debug, Default)]
pub struct PackEvidence<'a> {
    pub drill: &'a [SealedEvent],
    pub exercise_log: &'a [SealedEvent],
}

#[derive(Clone, Debug)]
pub struct Written {
    pub dir: PathBuf,
    /// (path in the pack, bytes), in manifest order.
    pub files: Vec<(String, u64)>,
    pub fingerprint: String,
    pub manifest_sha256: String,
    pub pdf_ms: Option<f64>,
}

fn io(path: &Path, what: &str, e: std::io::Error) -> PackError {
    PackError::Io(format!("cannot {what} {}: {e}", path.display()))
}

/// Writes the pack for `pack` and its `evidence` into `dir` (new or empty), signed by `key`.
pub fn write_pack(
    dir: &Path,
    mut pack: Pack,
    evidence: PackEvidence<'_>,
    key: &PackKey,
    options: WriteOptions,
) -> Result<Written, PackError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(PackError::NotEmpty {
                    dir: dir.to_path_buf(),
                });
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(|e| io(dir, "create", e))?;
        }
        Err(e) => return Err(io(dir, "read", e)),
    }
    pack.integrity.signer_fingerprint = key.fingerprint();

    let mut drill_evidence = Vec::with_capacity(evidence.drill.len() * 600);
    let mut withheld = crate::evidence_file::write_evidence(
        evidence.drill,
        options.include_raw,
        &mut drill_evidence,
    )?;
    let mut exercise_log = Vec::new();
    withheld += crate::evidence_file::write_evidence(
        evidence.exercise_log,
        options.include_raw,
        &mut exercise_log,
    )?;
    pack.redaction.evidence_fields_withheld = withheld;

    let charts = plots::all(&pack);
    let pack_json = seal::render_json(&pack)?;
    let page = html::render(&pack, &charts);

    let mut files: Vec<(String, Vec<u8>)> = vec![
        (PACK_FILE.into(), pack_json.clone()),
        (HTML_FILE.into(), page.into_bytes()),
        (EVIDENCE_FILE.into(), drill_evidence),
    ];
    if pack.subject.exercise.is_some() {
        files.push((crate::EXERCISE_LOG_FILE.into(), exercise_log));
    }
    for (path, svg) in &charts {
        files.push(((*path).to_owned(), svg.clone().into_bytes()));
    }
    let mut pdf_ms = None;
    if options.pdf {
        let started = Instant::now();
        files.push((crate::PDF_FILE.into(), pdf(&pack_json, &charts)?));
        pdf_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));

    for (path, bytes) in &files {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, "create", e))?;
        }
        std::fs::write(&target, bytes).map_err(|e| io(&target, "write", e))?;
    }
    let (manifest, signature) = seal::seal(
        &pack.subject,
        pack.integrity.root_digest.clone(),
        &files,
        key,
    )?;
    let manifest_path = dir.join(MANIFEST_FILE);
    std::fs::write(&manifest_path, &manifest).map_err(|e| io(&manifest_path, "write", e))?;
    let signature_path = dir.join(SIGNATURE_FILE);
    std::fs::write(&signature_path, &signature).map_err(|e| io(&signature_path, "write", e))?;

    let mut listed: Vec<(String, u64)> = files
        .iter()
        .map(|(p, b)| (p.clone(), b.len() as u64))
        .collect();
    listed.push((MANIFEST_FILE.into(), manifest.len() as u64));
    listed.push((SIGNATURE_FILE.into(), signature.len() as u64));
    Ok(Written {
        dir: dir.to_path_buf(),
        files: listed,
        fingerprint: key.fingerprint(),
        manifest_sha256: seal::sha256_hex(&manifest),
        pdf_ms,
    })
}

#[cfg(feature = "pdf")]
fn pdf(pack_json: &[u8], charts: &[(&'static str, String)]) -> Result<Vec<u8>, PackError> {
    let mut inputs = vec![muster_pdf::InputFile {
        path: crate::PACK_FILE,
        bytes: pack_json,
    }];
    for (path, svg) in charts {
        inputs.push(muster_pdf::InputFile {
            path,
            bytes: svg.as_bytes(),
        });
    }
    muster_pdf::render(muster_pdf::PACK_TEMPLATE, &inputs)
        .map_err(|e| PackError::Pdf(e.to_string()))
}

#[cfg(not(feature = "pdf"))]
fn pdf(_pack_json: &[u8], _charts: &[(&'static str, String)]) -> Result<Vec<u8>, PackError> {
    Err(PackError::Pdf(
        "this muster was built without the `pdf` feature".into(),
    ))
}
