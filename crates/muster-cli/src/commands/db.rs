//! `muster db migrate|status` (a PostgreSQL store's schema) and `muster migrate-store` (an
//! embedded store copied into PostgreSQL and verified).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use muster_store::{
    PgStore, SchemaState, SqliteStore, StoreError, StoreLocation, known_schema_version,
};
use serde_json::json;

use crate::cli::{DbArgs, DbCommand, MigrateStoreArgs};
use crate::context::Context;
use crate::error::{CliError, exit};

pub async fn run(ctx: &Context, command: &DbCommand) -> Result<u8, CliError> {
    match command {
        DbCommand::Migrate(args) => migrate(ctx, args).await,
        DbCommand::Status(args) => status(ctx, args).await,
    }
}

async fn migrate(ctx: &Context, args: &DbArgs) -> Result<u8, CliError> {
    let location = ctx.store.describe();
    let (before, after, applied) = match &ctx.store {
        StoreLocation::Postgres(url) => {
            let report = PgStore::migrate(url).await?;
            (report.before, report.after, report.applied)
        }
        // The embedded store migrates itself when opened.
        StoreLocation::Sqlite(path) => {
            let version = sqlite_version(path).await?;
            (version, version, Vec::new())
        }
    };
    if args.json {
        println!(
            "{}",
            json!({"store": location, "before": before, "after": after, "applied": applied})
        );
    } else if applied.is_empty() {
        println!("{location}: schema version {after}, up to date");
    } else {
        println!(
            "{location}: schema version {before} → {after} ({} migration{} applied)",
            applied.len(),
            if applied.len() == 1 { "" } else { "s" }
        );
    }
    Ok(exit::OK)
}

/// An embedded store's schema version, after opening it (which applies every migration).
async fn sqlite_version(path: &std::path::Path) -> Result<i64, CliError> {
    let store = SqliteStore::open(path).await?;
    let version = store.schema_version().await;
    store.close().await;
    Ok(version?)
}

async fn status(ctx: &Context, args: &DbArgs) -> Result<u8, CliError> {
    let location = ctx.store.describe();
    let (state, code) = match &ctx.store {
        StoreLocation::Postgres(url) => match PgStore::schema(url).await {
            Ok(SchemaState::Current { version }) => (
                json!({"state": "current", "version": version, "known": known_schema_version()}),
                exit::OK,
            ),
            Ok(SchemaState::Behind { applied, pending }) => (
                json!({"state": "behind", "version": applied, "known": known_schema_version(), "pending": pending}),
                exit::FAILED,
            ),
            Err(StoreError::SchemaUnknown {
                version,
                known,
                why,
                ..
            }) => (
                json!({"state": "unknown", "version": version, "known": known, "why": why}),
                exit::INPUT,
            ),
            Err(e) => return Err(e.into()),
        },
        StoreLocation::Sqlite(path) => {
            ctx.require_store()?;
            let version = sqlite_version(path).await?;
            (
                json!({"state": "current", "version": version, "known": version}),
                exit::OK,
            )
        }
    };
    if args.json {
        let mut out = state;
        out["store"] = json!(location);
        println!("{out}");
    } else {
        let version = state["version"].as_i64().unwrap_or(0);
        let known = state["known"].as_i64().unwrap_or(0);
        match state["state"].as_str() {
            Some("current") => println!("{location}: schema version {version}, current"),
            Some("behind") => println!(
                "{location}: schema version {version}, behind this muster's {known}: run `muster db migrate`"
            ),
            _ => println!(
                "{location}: schema version {version}, unknown to this muster (it knows up to {known}): {}",
                state["why"].as_str().unwrap_or("")
            ),
        }
    }
    Ok(code)
}

pub async fn migrate_store(ctx: &Context, args: &MigrateStoreArgs) -> Result<u8, CliError> {
    let from_path = match (&args.from, &ctx.store) {
        (Some(path), _) => path.clone(),
        (None, StoreLocation::Sqlite(path)) => path.clone(),
        (None, StoreLocation::Postgres(_)) => {
            return Err(CliError::input(
                "the project's store is already PostgreSQL: there is no embedded store to copy",
            )
            .hint("pass --from PATH to copy a SQLite store"));
        }
    };
    if !from_path.exists() {
        return Err(CliError::input(format!(
            "there is no evidence store at {}",
            from_path.display()
        ))
        .hint("pass --from PATH (a SQLite store, e.g. .muster/evidence.db)"));
    }
    let StoreLocation::Postgres(url) = StoreLocation::parse(&args.to) else {
        return Err(
            CliError::input(format!("`{}` is not a PostgreSQL URL", args.to))
                .hint("use postgres://HOST/DATABASE (a password goes in PGPASSWORD)"),
        );
    };
    let from = SqliteStore::open(&from_path).await?;
    let to = PgStore::connect(&url).await?;
    let total = muster_store::rows_to_copy(&from).await?;
    let bar = ProgressBar::with_draw_target(
        Some(total),
        if ctx.stderr_is_terminal && !args.json {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    let style = ProgressStyle::with_template("copying [{bar:30}] {pos}/{len} rows {per_sec}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style.progress_chars("=> "));
    let copied = muster_store::copy_store(&from, &to, |n| bar.set_position(n)).await;
    bar.finish_and_clear();
    from.close().await;
    to.close().await;
    let report = match copied {
        Ok(report) => report,
        Err(StoreError::Conflict(message)) => {
            return Err(CliError::input(message)
                .hint("create a new database and run `muster db migrate` on it first"));
        }
        Err(e) => return Err(e.into()),
    };
    let ok = report.problems.is_empty();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "from": from_path.display().to_string(),
                "to": to.location(),
                "rows": report.rows(),
                "tables": report.tables.iter().map(|t| json!({"table": t.table, "rows": t.rows})).collect::<Vec<_>>(),
                "verified": {"drills": report.drills_verified, "sources": report.sources_verified, "exercise_logs": report.exercise_logs_verified},
                "problems": report.problems,
                "ok": ok,
            }))
            .unwrap_or_default()
        );
    } else {
        println!(
            "copied {} rows from {} to {}",
            report.rows(),
            from_path.display(),
            to.location()
        );
        for table in report.tables.iter().filter(|t| t.rows > 0) {
            println!("  {:<18} {:>10}", table.table, table.rows);
        }
        println!(
            "verified on the copy: {} drill{}, {} source{}, {} exercise log{}",
            report.drills_verified,
            if report.drills_verified == 1 { "" } else { "s" },
            report.sources_verified,
            if report.sources_verified == 1 {
                ""
            } else {
                "s"
            },
            report.exercise_logs_verified,
            if report.exercise_logs_verified == 1 {
                ""
            } else {
                "s"
            },
        );
        if ok {
            println!("every chain intact; roots and heads match the original's");
        } else {
            println!(
                "problems ({}), copied as they are in the original:",
                report.problems.len()
            );
            for problem in &report.problems {
                println!("  {problem}");
            }
        }
    }
    Ok(if ok { exit::OK } else { exit::FAILED })
}
