use std::path::Path;

use muster_model::{Checker, Kind, schema};

#[test]
fn generated_schemas_only_use_keywords_the_validator_understands() {
    for kind in Kind::ALL {
        let unsupported = Checker::unsupported_keywords(&schema(kind));
        assert!(unsupported.is_empty(), "{}: {unsupported:?}", kind.as_str());
    }
}

/// `docs/schema/*.schema.json` are what editors load; they must match the model. Regenerate with
/// `MUSTER_UPDATE_SCHEMAS=1 cargo test -p muster-model` (or `muster schema --out docs/schema`).
#[test]
fn published_schemas_match_the_model() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/schema");
    let update = std::env::var_os("MUSTER_UPDATE_SCHEMAS").is_some();
    let mut stale = Vec::new();
    for kind in Kind::ALL {
        let path = dir.join(format!("{}.schema.json", kind.as_str()));
        let expected = serde_json::to_string_pretty(&schema(kind)).unwrap_or_default() + "\n";
        let found = std::fs::read_to_string(&path).unwrap_or_default();
        if found != expected {
            if update {
                let _ = std::fs::create_dir_all(&dir);
                if let Err(e) = std::fs::write(&path, &expected) {
                    panic!("cannot write {}: {e}", path.display());
                }
            } else {
                stale.push(path.display().to_string());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "stale schemas (run MUSTER_UPDATE_SCHEMAS=1 cargo test -p muster-model): {stale:?}"
    );
}
