//! `muster serve`: the exercise console on the project's evidence store.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use muster_console::{ConsoleConfig, DrillLauncher, ScenarioBrief};
use muster_model::load_scenario;

use muster_store::StoreLocation;

use crate::cli::ConsoleServeArgs;
use crate::context::Context;
use crate::error::{CliError, exit};
use crate::load::{expand, read};

fn brief(text: &str, source: &str) -> Result<Option<ScenarioBrief>, CliError> {
    let loaded = load_scenario(text);
    match loaded.value {
        Some(s) => Ok(Some(ScenarioBrief {
            id: s.id,
            title: s.title,
            ticket: s.ticket,
            severity: s.severity.as_str().to_owned(),
            mode: s.mode.as_str().to_owned(),
            journeys: s.journeys,
        })),
        None => Err(CliError::input(format!(
            "{source} is not a valid scenario ({} problems)",
            loaded.diagnostics.len()
        ))
        .hint(format!("`muster validate {source}` shows each problem"))),
    }
}

/// The scenarios offered for exercises: the given files, else the built-in library.
fn scenarios(paths: &[PathBuf]) -> Result<Vec<ScenarioBrief>, CliError> {
    let mut out = Vec::new();
    if paths.is_empty() {
        for file in muster_library::scenarios() {
            if let Some(b) = brief(file.text, file.path)? {
                out.push(b);
            }
        }
    } else {
        for path in expand(paths, false)? {
            let source = path.display().to_string();
            if let Some(b) = brief(&read(&path)?, &source)? {
                out.push(b);
            }
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

fn absolute(path: &Path) -> Result<PathBuf, CliError> {
    std::path::absolute(path)
        .map_err(|e| CliError::input(format!("cannot resolve {}: {e}", path.display())))
}

fn launcher(ctx: &Context, args: &ConsoleServeArgs) -> Result<Option<DrillLauncher>, CliError> {
    let Some(agent) = &args.agent else {
        return Ok(None);
    };
    let program = std::env::current_exe()
        .map_err(|e| CliError::runtime(format!("cannot find the muster executable: {e}")))?;
    let mut drill_args = vec!["drill".to_owned(), "--agent".to_owned()];
    drill_args.push(absolute(agent)?.display().to_string());
    for s in &args.scenarios {
        drill_args.push("--scenarios".into());
        drill_args.push(absolute(s)?.display().to_string());
    }
    if let Some(url) = &args.base_url {
        drill_args.extend(["--base-url".to_owned(), url.clone()]);
    }
    drill_args.extend(["--exercise".to_owned(), "{exercise}".to_owned()]);
    // The drill writes into the console's own store: a file by its absolute path, a database by
    // its URL in the environment (a password in it stays off the command line).
    let mut env = Vec::new();
    match &ctx.store {
        StoreLocation::Sqlite(path) => {
            drill_args.extend(["--store".to_owned(), absolute(path)?.display().to_string()]);
        }
        StoreLocation::Postgres(url) => env.push(("MUSTER_STORE".to_owned(), url.clone())),
    }
    Ok(Some(DrillLauncher {
        program,
        args: drill_args,
        working_dir: std::env::current_dir().ok(),
        env,
    }))
}

fn notifier(
    ctx: &Context,
    args: &ConsoleServeArgs,
) -> Result<Option<Arc<muster_notify::Notifier>>, CliError> {
    let configured = ctx.config.as_ref().map(|(_, c)| &c.console.notify);
    let slack = args
        .slack_webhook_env
        .clone()
        .or_else(|| configured.and_then(|n| n.slack_webhook_env.clone()));
    let teams = args
        .teams_webhook_env
        .clone()
        .or_else(|| configured.and_then(|n| n.teams_webhook_env.clone()));
    let channels = muster_notify::channels_from_env(slack.as_deref(), teams.as_deref())
        .map_err(|e| CliError::input(e.to_string()))?;
    if channels.is_empty() {
        return Ok(None);
    }
    let notifier = muster_notify::Notifier::new(channels, Duration::from_secs(10))
        .map_err(|e| CliError::runtime(e.to_string()))?;
    Ok(Some(Arc::new(notifier)))
}

pub async fn run(ctx: &Context, args: &ConsoleServeArgs) -> Result<u8, CliError> {
    if !args.listen.ip().is_loopback() && !args.public {
        return Err(CliError::input(format!(
            "{} is not a loopback address",
            args.listen
        ))
        .hint("the console listens on 127.0.0.1 by default; pass --public to listen elsewhere (behind TLS)"));
    }
    let store = ctx.open_store().await?;
    let mut config = ConsoleConfig::new(store);
    config.scenarios = scenarios(&args.scenarios)?;
    config.drill_launcher = launcher(ctx, args)?;
    config.notifier = notifier(ctx, args)?;
    config.secure_cookies = !args.insecure_cookies;
    config.public_url = args
        .public_url
        .clone()
        .or_else(|| Some(format!("http://{}", args.listen)));
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| CliError::runtime(format!("cannot listen on {}: {e}", args.listen)))?;
    let bound = listener
        .local_addr()
        .map_err(|e| CliError::runtime(format!("cannot read the bound address: {e}")))?;
    println!(
        "muster console on http://{bound}/ (store {})",
        ctx.store.describe()
    );
    println!("API: http://{bound}/api/openapi.json · Ctrl-C stops");
    muster_console::serve(config, listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .map_err(|e| CliError::runtime(format!("the console stopped: {e}")))?;
    Ok(exit::OK)
}
