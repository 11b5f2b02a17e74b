use muster_model::{Kind, schema};

use crate::cli::{SchemaArgs, SchemaFormat};
use crate::error::{CliError, exit};

pub fn run(args: &SchemaArgs) -> Result<u8, CliError> {
    let pretty = |kind: Kind| {
        serde_json::to_string_pretty(&schema(kind))
            .map(|s| s + "\n")
            .map_err(|e| CliError::internal(e.to_string()))
    };
    match (&args.out, args.format) {
        (Some(dir), _) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| CliError::runtime(format!("cannot create {}: {e}", dir.display())))?;
            for kind in Kind::ALL {
                let path = dir.join(format!("{}.schema.json", kind.as_str()));
                std::fs::write(&path, pretty(kind)?).map_err(|e| {
                    CliError::runtime(format!("cannot write {}: {e}", path.display()))
                })?;
                eprintln!("wrote {}", path.display());
            }
            let path = dir.join("pack.schema.json");
            std::fs::write(&path, pack_schema()?)
                .map_err(|e| CliError::runtime(format!("cannot write {}: {e}", path.display())))?;
            eprintln!("wrote {}", path.display());
        }
        (None, Some(format)) => {
            let kind = match format {
                SchemaFormat::Agent => Kind::Agent,
                SchemaFormat::Scenario => Kind::Scenario,
                SchemaFormat::Config => Kind::Config,
                SchemaFormat::ControlMap => Kind::ControlMap,
                SchemaFormat::Pack => {
                    print!("{}", pack_schema()?);
                    return Ok(exit::OK);
                }
            };
            print!("{}", pretty(kind)?);
        }
        (None, None) => {
            return Err(CliError::input(
                "name a format (agent, scenario, config, control-map, pack) or pass --out DIR",
            )
            .hint("e.g. `muster schema scenario`"));
        }
    }
    Ok(exit::OK)
}

/// The schema of an evidence pack's `pack.json` (an output, so it lives with `muster-pack`).
fn pack_schema() -> Result<String, CliError> {
    serde_json::to_string_pretty(&muster_pack::schema())
        .map(|s| s + "\n")
        .map_err(|e| CliError::internal(e.to_string()))
}
