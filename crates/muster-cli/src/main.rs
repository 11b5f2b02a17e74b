//! `muster`: the command-line edge. Parses arguments, runs one command, renders its errors for
//! people and maps them to exit codes. Everything else lives in the library crates.

mod cli;
mod commands;
mod context;
mod error;
mod exercise_feed;
mod load;
mod lockfile;
mod progress;
mod render;
mod runs;

use std::process::ExitCode;

/// Ingest and drills allocate and free many small JSON values across threads; glibc's malloc
/// spent about a quarter of ingest's CPU in allocation, free and consolidation (bench/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::context::Context;
use crate::error::CliError;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{e}");
            e.exit_code()
        }
    };
    ExitCode::from(code)
}

fn run(cli: Cli) -> Result<u8, CliError> {
    muster_target::install_crypto_provider();
    match &cli.command {
        Command::Schema(args) => return commands::schema::run(args),
        Command::Scan(args) => return commands::scan::run(args),
        Command::Refagent(cmd) => return runtime()?.block_on(commands::refagent::run(cmd)),
        _ => {}
    }
    let ctx = Context::new(&cli)?;
    match &cli.command {
        Command::Validate(args) => commands::validate::run(&ctx, args),
        Command::Demo(args) => runtime()?.block_on(commands::demo::run(&ctx, args)),
        Command::Drill(args) => runtime()?.block_on(commands::drill::run(&ctx, args)),
        Command::Worker(args) => runtime()?.block_on(commands::worker::run(&ctx, args)),
        Command::Serve(args) => runtime()?.block_on(commands::serve::run(&ctx, args)),
        Command::Console(cmd) => runtime()?.block_on(commands::console::run(&ctx, cmd)),
        Command::Replay(args) => runtime()?.block_on(commands::replay::run(&ctx, args)),
        Command::Store(cmd) => runtime()?.block_on(commands::store::run(&ctx, cmd)),
        Command::Db(cmd) => runtime()?.block_on(commands::db::run(&ctx, cmd)),
        Command::MigrateStore(args) => runtime()?.block_on(commands::db::migrate_store(&ctx, args)),
        Command::Assess(args) => commands::assess::run(&ctx, args),
        Command::Controls(args) => commands::controls::run(&ctx, args),
        Command::Scenarios(cmd) => commands::scenarios::run(&ctx, cmd),
        Command::Gate(args) => commands::gate::run(&ctx, args),
        Command::Accept(args) => commands::gate::accept(&ctx, args),
        Command::Approve(args) => runtime()?.block_on(commands::approve::run(&ctx, args)),
        Command::Pack(args) => runtime()?.block_on(commands::pack::run(&ctx, args)),
        Command::Verify(args) => commands::pack::verify(&ctx, args),
        Command::Ingest(args) => runtime()?.block_on(commands::ingest::run(&ctx, args)),
        Command::Reconstruct(args) => {
            runtime()?.block_on(commands::evidence::reconstruct(&ctx, args))
        }
        Command::Search(args) => runtime()?.block_on(commands::evidence::search(&ctx, args)),
        Command::AuditEvidence(args) => {
            runtime()?.block_on(commands::audit_evidence::run(&ctx, args))
        }
        Command::Schema(_) | Command::Refagent(_) | Command::Scan(_) => {
            Err(CliError::internal("command dispatched twice"))
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::runtime(format!("cannot start the async runtime: {e}")))
}
