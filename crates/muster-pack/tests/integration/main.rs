//! The pack's integration tests: a synthetic drill in a real SQLite store, packed, checked,
//! tampered with and re-signed.

// Test code: a failed set-up step should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fixture;

use std::path::Path;

use muster_pack::{LockRecord, WriteOptions, verify_pack, write_pack};
use rand::{Rng, SeedableRng};

fn write(drill: &fixture::Drill, dir: &Path, key_text: &str, raw: bool) -> muster_pack::Written {
    let keys = tempfile::tempdir().unwrap();
    let key = fixture::key(keys.path(), key_text, "key");
    let manifest = fixture::reference_manifest();
    let catalogue = muster_controls::Catalogue::builtin().unwrap();
    let fingerprint = key.fingerprint();
    let mut input = drill.input(Some(&manifest), Some(&catalogue), &fingerprint);
    input.include_raw = raw;
    let pack = muster_pack::assemble(&input);
    write_pack(
        dir,
        pack,
        muster_pack::PackEvidence {
            drill: &drill.sealed(),
            exercise_log: &[],
        },
        &key,
        WriteOptions {
            include_raw: raw,
            pdf: muster_pack::renders_pdf(),
        },
    )
    .unwrap()
}

fn failed_checks(v: &muster_pack::Verification) -> Vec<String> {
    v.failures()
        .map(|c| format!("{}: {}", c.check, c.detail))
        .collect()
}

#[tokio::test]
async fn pack_json_is_stable() {
    let drill = fixture::drill(6).await;
    let dir = tempfile::tempdir().unwrap();
    let key = fixture::key(dir.path(), fixture::KEY_A, "key");
    let manifest = fixture::reference_manifest();
    let catalogue = muster_controls::Catalogue::builtin().unwrap();
    let fingerprint = key.fingerprint();
    let pack = muster_pack::assemble(&drill.input(Some(&manifest), Some(&catalogue), &fingerprint));
    insta::assert_json_snapshot!("pack_json", pack);
}

#[tokio::test]
async fn a_fresh_pack_verifies_and_names_its_signer() {
    let drill = fixture::drill(9).await;
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("pack");
    let written = write(&drill, &dir, fixture::KEY_A, false);
    let v = verify_pack(&dir, Some(&written.fingerprint), None).unwrap();
    assert!(v.ok(), "{:?}", failed_checks(&v));
    assert_eq!(v.signer.as_deref(), Some(written.fingerprint.as_str()));
    for name in [
        "pack.json",
        "index.html",
        "evidence.jsonl",
        "manifest.json",
        "signature.json",
        "plots/timeline.svg",
    ] {
        assert!(dir.join(name).is_file(), "{name} missing");
    }
    assert_eq!(dir.join("pack.pdf").is_file(), muster_pack::renders_pdf());
    // An existing pack is never overwritten.
    let again = muster_pack::write_pack(
        &dir,
        muster_pack::assemble(&drill.input(None, None, "x")),
        muster_pack::PackEvidence {
            drill: &drill.sealed(),
            exercise_log: &[],
        },
        &fixture::key(out.path(), fixture::KEY_A, "k2"),
        WriteOptions::default(),
    );
    assert!(matches!(
        again,
        Err(muster_pack::PackError::NotEmpty { .. })
    ));
}

#[tokio::test]
async fn personal_data_is_masked_unless_raw_and_redacted_evidence_still_verifies() {
    let drill = fixture::drill(6).await;
    let out = tempfile::tempdir().unwrap();
    let masked = out.path().join("masked");
    write(&drill, &masked, fixture::KEY_A, false);
    for file in ["pack.json", "index.html", "evidence.jsonl"] {
        let text = std::fs::read_to_string(masked.join(file)).unwrap();
        assert!(
            !text.contains("07700 900123"),
            "{file} shows a phone number"
        );
        assert!(
            !text.contains("jo.price@example.com"),
            "{file} shows an email"
        );
    }
    let pack: muster_pack::Pack =
        serde_json::from_slice(&std::fs::read(masked.join("pack.json")).unwrap()).unwrap();
    assert!(!pack.redaction.raw_included);
    assert!(pack.redaction.evidence_fields_withheld >= 6);
    assert!(verify_pack(&masked, None, None).unwrap().ok());

    let raw = out.path().join("raw");
    write(&drill, &raw, fixture::KEY_A, true);
    let html = std::fs::read_to_string(raw.join("index.html")).unwrap();
    assert!(html.contains("07700 900123"));
    assert!(html.contains("personal data is NOT masked"));
    assert!(verify_pack(&raw, None, None).unwrap().ok());
}

/// Every file of the pack, with its size, for spreading changes across them.
fn pack_files(dir: &Path) -> Vec<(std::path::PathBuf, usize)> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let len = std::fs::metadata(&path).unwrap().len() as usize;
                out.push((path, len));
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn verify_catches_every_one_of_1000_single_byte_changes() {
    let drill = fixture::drill(6).await;
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("pack");
    let written = write(&drill, &dir, fixture::KEY_A, false);
    let files = pack_files(&dir);
    assert!(files.len() >= 8);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut per_file = std::collections::BTreeMap::new();
    for round in 0..1000 {
        // A file at random (so small files such as signature.json get their share), then a byte.
        let (path, len) = &files[rng.random_range(0..files.len())];
        let offset = rng.random_range(0..*len);
        let mut bytes = std::fs::read(path).unwrap();
        let original = bytes[offset];
        let changed = loop {
            let b: u8 = rng.random();
            if b != original {
                break b;
            }
        };
        bytes[offset] = changed;
        std::fs::write(path, &bytes).unwrap();
        let v = verify_pack(&dir, Some(&written.fingerprint), None).unwrap();
        assert!(
            !v.ok(),
            "round {round}: changing byte {offset} of {} from {original:#04x} to {changed:#04x} went unnoticed",
            path.display()
        );
        bytes[offset] = original;
        std::fs::write(path, &bytes).unwrap();
        *per_file
            .entry(path.file_name().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    assert!(
        verify_pack(&dir, Some(&written.fingerprint), None)
            .unwrap()
            .ok()
    );
    assert_eq!(
        per_file.len(),
        files.len(),
        "every file was changed at least once: {per_file:?}"
    );
}

#[tokio::test]
async fn a_pack_re_signed_with_another_key_fails_the_expected_key() {
    let drill = fixture::drill(6).await;
    let out = tempfile::tempdir().unwrap();
    let a = out.path().join("a");
    let by_a = write(&drill, &a, fixture::KEY_A, false);
    let b = out.path().join("b");
    let by_b = write(&drill, &b, fixture::KEY_B, false);
    assert_ne!(by_a.fingerprint, by_b.fingerprint);
    // Rebuilt and signed by B: a valid pack, but not by the key the reader expects.
    let v = verify_pack(&b, Some(&by_a.fingerprint), None).unwrap();
    assert!(!v.ok());
    assert_eq!(
        v.failures().map(|c| c.check.as_str()).collect::<Vec<_>>(),
        ["signer"],
        "{:?}",
        failed_checks(&v)
    );
    assert!(verify_pack(&b, Some(&by_b.fingerprint), None).unwrap().ok());

    // A's pack with its manifest re-signed by B: the signer and pack.json's named signer both fail.
    re_sign(&a, fixture::KEY_B);
    let v = verify_pack(&a, Some(&by_a.fingerprint), None).unwrap();
    let failed: Vec<&str> = v.failures().map(|c| c.check.as_str()).collect();
    assert!(
        failed.contains(&"signer") && failed.contains(&"pack.json"),
        "{failed:?}"
    );
}

#[tokio::test]
async fn evidence_changed_and_re_signed_fails_the_chain_and_the_lock() {
    let drill = fixture::drill(6).await;
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("pack");
    let written = write(&drill, &dir, fixture::KEY_A, false);
    // Whoever holds the key changes a verdict in the evidence and signs again.
    let evidence = std::fs::read_to_string(dir.join("evidence.jsonl")).unwrap();
    let forged = evidence.replacen("\"value\":\"fail\"", "\"value\":\"pass\"", 1);
    assert_ne!(forged, evidence);
    std::fs::write(dir.join("evidence.jsonl"), &forged).unwrap();
    re_sign(&dir, fixture::KEY_A);
    let v = verify_pack(&dir, Some(&written.fingerprint), None).unwrap();
    let failed = failed_checks(&v);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].starts_with("evidence chain: "), "{failed:?}");
    assert!(
        failed[0].contains("field `verdict` was altered"),
        "{failed:?}"
    );

    // The lock records the drill's real root: a pack claiming another root is caught.
    let fresh = out.path().join("fresh");
    write(&drill, &fresh, fixture::KEY_A, false);
    let root = drill.record.root.unwrap().to_hex();
    let lock_ok = [LockRecord {
        drill_id: fixture::DRILL_ID.into(),
        root_digest: root,
    }];
    assert!(verify_pack(&fresh, None, Some(&lock_ok)).unwrap().ok());
    let lock_other = [LockRecord {
        drill_id: fixture::DRILL_ID.into(),
        root_digest: "00".repeat(32),
    }];
    let v = verify_pack(&fresh, None, Some(&lock_other)).unwrap();
    assert_eq!(
        v.failures().map(|c| c.check.as_str()).collect::<Vec<_>>(),
        ["muster.lock"]
    );
}

/// `docs/schema/pack.schema.json` is the published schema of `pack.json`; it must match the types.
/// Regenerate with `MUSTER_UPDATE_SCHEMAS=1 cargo test -p muster-pack` (or `muster schema --out docs/schema`).
#[test]
fn the_published_schema_matches_the_pack_types() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/schema/pack.schema.json");
    let generated = serde_json::to_string_pretty(&muster_pack::schema()).unwrap() + "\n";
    if std::env::var_os("MUSTER_UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let published = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        published, generated,
        "regenerate with MUSTER_UPDATE_SCHEMAS=1 cargo test -p muster-pack"
    );
    let schema: serde_json::Value = serde_json::from_str(&published).unwrap();
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    for section in ["summary", "scenarios", "timeline", "decisions", "integrity"] {
        assert!(required.contains(&section), "{section} is not required");
    }
}

/// What `pack.json` says reads back into the same pack (the verifier and other tools read it).
#[tokio::test]
async fn pack_json_reads_back_unchanged() {
    let drill = fixture::drill(6).await;
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("pack");
    write(&drill, &dir, fixture::KEY_A, false);
    let bytes = std::fs::read(dir.join("pack.json")).unwrap();
    let pack: muster_pack::Pack = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(muster_pack::seal::render_json(&pack).unwrap(), bytes);
    assert_eq!(pack.format, muster_pack::PACK_FORMAT);
}

/// Re-signs `dir`'s manifest over its files as they are now, with `key_text`.
fn re_sign(dir: &Path, key_text: &str) {
    let manifest: muster_pack::seal::Manifest =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let files: Vec<(String, Vec<u8>)> = manifest
        .files
        .iter()
        .map(|f| (f.path.clone(), std::fs::read(dir.join(&f.path)).unwrap()))
        .collect();
    let keys = tempfile::tempdir().unwrap();
    let key = fixture::key(keys.path(), key_text, "k");
    let pack: muster_pack::Pack =
        serde_json::from_slice(&std::fs::read(dir.join("pack.json")).unwrap()).unwrap();
    let (m, s) =
        muster_pack::seal::seal(&pack.subject, manifest.root_digest.clone(), &files, &key).unwrap();
    std::fs::write(dir.join("manifest.json"), m).unwrap();
    std::fs::write(dir.join("signature.json"), s).unwrap();
}

/// Approvals recorded after the seal travel in the evidence, chained from the drill's root: an
/// approval edited (and the pack re-signed by the key holder) or dropped is caught.
#[tokio::test]
async fn the_addenda_are_in_the_evidence_and_chained_from_the_root() {
    let drill = fixture::drill(6).await;
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("pack");
    let written = write(&drill, &dir, fixture::KEY_A, false);
    let evidence = std::fs::read_to_string(dir.join("evidence.jsonl")).unwrap();
    let last = evidence.lines().last().unwrap();
    assert!(
        last.contains("\"stream\":\"addenda\"") && last.contains("comms.approval"),
        "{last}"
    );
    let pack: muster_pack::Pack =
        serde_json::from_slice(&std::fs::read(dir.join("pack.json")).unwrap()).unwrap();
    assert!(
        pack.decisions
            .iter()
            .any(|d| d.by.as_deref() == Some("Ruth Grant"))
    );
    assert_eq!(
        pack.integrity.evidence_events,
        evidence.lines().count() as u64
    );

    std::fs::write(
        dir.join("evidence.jsonl"),
        evidence.replace("approved as drafted", "rejected"),
    )
    .unwrap();
    re_sign(&dir, fixture::KEY_A);
    let v = verify_pack(&dir, Some(&written.fingerprint), None).unwrap();
    let failed = failed_checks(&v);
    assert!(
        failed.len() == 1
            && failed[0].contains("stream `addenda` event #0")
            && failed[0].contains("`note`"),
        "{failed:?}"
    );

    let without: Vec<&str> = evidence
        .lines()
        .filter(|l| !l.contains("\"stream\":\"addenda\""))
        .collect();
    let mut dropped = without.join("\n");
    dropped.push('\n');
    let other = out.path().join("other");
    write(&drill, &other, fixture::KEY_A, false);
    std::fs::write(other.join("evidence.jsonl"), dropped).unwrap();
    re_sign(&other, fixture::KEY_A);
    // Dropping the approval leaves the drill's chains intact, but pack.json counts every event.
    let v = verify_pack(&other, Some(&written.fingerprint), None).unwrap();
    let failed = failed_checks(&v);
    assert!(
        failed.len() == 1 && failed[0].contains("pack.json counts"),
        "{failed:?}"
    );
}

/// Anything added to a pack is named as unlisted, a directory link that loops included (it is not
/// followed).
#[cfg(unix)]
#[tokio::test]
async fn added_files_and_links_are_unlisted() {
    let drill = fixture::drill(3).await;
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("pack");
    write(&drill, &dir, fixture::KEY_A, false);
    std::fs::write(dir.join("plots/extra.svg"), "<svg/>").unwrap();
    std::os::unix::fs::symlink(&dir, dir.join("loop")).unwrap();
    let v = verify_pack(&dir, None, None).unwrap();
    let failed = failed_checks(&v);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0].contains("plots/extra.svg") && failed[0].contains("loop"),
        "{failed:?}"
    );
}
