//! The manifest (every file's SHA-256) and its Ed25519 signature, and the signing key.
//!
//! `manifest.json` is signed as bytes. `signature.json` must be exactly the bytes this module
//! writes for its contents (verification re-renders it), so no byte of it can change unnoticed
//! either.

use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::PackError;
use crate::model::Subject;

pub const MANIFEST_FORMAT: &str = "muster-pack-manifest/1";
const KEY_HEADER: &str = "muster pack signing key (Ed25519 secret, hex) v1";

/// The key that signs packs.
pub struct PackKey {
    key: SigningKey,
}

impl std::fmt::Debug for PackKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PackKey({})", self.fingerprint())
    }
}

impl PackKey {
    /// Reads the key at `path`, or makes one there (readable by its owner only) if there is none.
    /// Returns the key and whether it was made now.
    pub fn load_or_create(path: &Path) -> Result<(PackKey, bool), PackError> {
        let bad = |why: String| PackError::Key {
            path: path.to_path_buf(),
            why,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let mut lines = text.lines();
                if lines.next() != Some(KEY_HEADER) {
                    return Err(bad(format!("the first line is not `{KEY_HEADER}`")));
                }
                let mut secret = [0u8; 32];
                hex::decode_to_slice(lines.next().unwrap_or("").trim(), &mut secret)
                    .map_err(|_| bad("the second line is not 64 hex digits".into()))?;
                Ok((
                    PackKey {
                        key: SigningKey::from_bytes(&secret),
                    },
                    false,
                ))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut secret = [0u8; 32];
                getrandom::fill(&mut secret)
                    .map_err(|e| bad(format!("no randomness for a new key: {e}")))?;
                let key = PackKey {
                    key: SigningKey::from_bytes(&secret),
                };
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| bad(format!("cannot create its directory: {e}")))?;
                }
                write_private(path, &format!("{KEY_HEADER}\n{}\n", hex::encode(secret)))
                    .map_err(|e| bad(format!("cannot write a new key: {e}")))?;
                Ok((key, true))
            }
            Err(e) => Err(bad(e.to_string())),
        }
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    pub fn fingerprint(&self) -> String {
        fingerprint(&self.public_key())
    }

    fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

/// `SHA256:` and the hex SHA-256 of an Ed25519 public key.
pub fn fingerprint(public_key: &[u8; 32]) -> String {
    format!("SHA256:{}", hex::encode(Sha256::digest(public_key)))
}

/// Normalises a fingerprint as people type it: with or without `SHA256:`, any case.
pub fn normalise_fingerprint(text: &str) -> String {
    let hex = text.trim();
    let hex = hex
        .strip_prefix("SHA256:")
        .or_else(|| hex.strip_prefix("sha256:"))
        .unwrap_or(hex);
    format!("SHA256:{}", hex.to_ascii_lowercase())
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    /// The drill packed; `None` for a tabletop exercise packed on its own.
    pub drill_id: Option<String>,
    /// The exercise packed with it, if any.
    pub exercise_id: Option<String>,
    pub root_digest: Option<String>,
    pub signer: String,
    pub files: Vec<ManifestFile>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureFile {
    pub algorithm: String,
    pub public_key: String,
    pub fingerprint: String,
    pub signature: String,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub fn render_json<T: Serialize>(value: &T) -> Result<Vec<u8>, PackError> {
    let mut out = serde_json::to_vec_pretty(value).map_err(|e| PackError::Encode(e.to_string()))?;
    out.push(b'\n');
    Ok(out)
}

/// The manifest's bytes and the signature file's bytes for `files` (paths relative to the pack).
pub fn seal(
    subject: &Subject,
    root_digest: Option<String>,
    files: &[(String, Vec<u8>)],
    key: &PackKey,
) -> Result<(Vec<u8>, Vec<u8>), PackError> {
    let manifest = Manifest {
        format: MANIFEST_FORMAT.into(),
        drill_id: subject.drill_id.clone(),
        exercise_id: subject.exercise.as_ref().map(|x| x.id.clone()),
        root_digest,
        signer: key.fingerprint(),
        files: files
            .iter()
            .map(|(path, bytes)| ManifestFile {
                path: path.clone(),
                sha256: sha256_hex(bytes),
                bytes: bytes.len() as u64,
            })
            .collect(),
    };
    let manifest_bytes = render_json(&manifest)?;
    let signature = SignatureFile {
        algorithm: "ed25519".into(),
        public_key: hex::encode(key.public_key()),
        fingerprint: key.fingerprint(),
        signature: hex::encode(key.sign(&manifest_bytes)),
    };
    Ok((manifest_bytes, render_json(&signature)?))
}

/// Checks `signature` (the file's bytes) over `manifest` (the file's bytes); returns the signer's
/// fingerprint.
pub fn check_signature(manifest: &[u8], signature: &[u8]) -> Result<String, String> {
    let file: SignatureFile = serde_json::from_slice(signature)
        .map_err(|e| format!("signature.json is not a signature file ({e})"))?;
    if render_json(&file).map_err(|e| e.to_string())? != signature {
        return Err("signature.json has been edited (it is not byte for byte what muster writes for its contents)".into());
    }
    if file.algorithm != "ed25519" {
        return Err(format!("unknown signature algorithm `{}`", file.algorithm));
    }
    let mut public = [0u8; 32];
    hex::decode_to_slice(&file.public_key, &mut public)
        .map_err(|_| "the public key is not 64 hex digits".to_owned())?;
    if fingerprint(&public) != file.fingerprint {
        return Err("the fingerprint does not belong to the public key".into());
    }
    let mut sig = [0u8; 64];
    hex::decode_to_slice(&file.signature, &mut sig)
        .map_err(|_| "the signature is not 128 hex digits".to_owned())?;
    let key = VerifyingKey::from_bytes(&public)
        .map_err(|_| "the public key is not a valid Ed25519 key".to_owned())?;
    key.verify_strict(manifest, &Signature::from_bytes(&sig))
        .map_err(|_| "the signature does not match manifest.json (the manifest was changed, or signed by another key)".to_owned())?;
    Ok(file.fingerprint)
}

/// Where the signing key lives unless configured: beside the evidence store.
pub fn default_key_path(store_dir: &Path) -> PathBuf {
    store_dir.join("pack-signing.key")
}
