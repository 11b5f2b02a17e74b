//! `muster console add-user | users`: the console's accounts, managed from the shell (the first
//! account has to come from somewhere).

use std::io::{BufRead, IsTerminal};

use muster_console::api::new_user;
use muster_console::roles::Role;
use serde_json::json;

use crate::cli::{AddUserArgs, ConsoleCommand};
use crate::context::Context;
use crate::error::{CliError, exit};

const PASSWORD_ENV: &str = "MUSTER_CONSOLE_PASSWORD";

pub async fn run(ctx: &Context, cmd: &ConsoleCommand) -> Result<u8, CliError> {
    match cmd {
        ConsoleCommand::AddUser(args) => add_user(ctx, args).await,
        ConsoleCommand::Users { json } => users(ctx, *json).await,
    }
}

fn password() -> Result<String, CliError> {
    if let Ok(p) = std::env::var(PASSWORD_ENV) {
        return Ok(p);
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err(CliError::input("no password given").hint(format!(
            "set {PASSWORD_ENV}, or pipe the password on standard input"
        )));
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line).map_err(|e| {
        CliError::input(format!("cannot read the password from standard input: {e}"))
    })?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn add_user(ctx: &Context, args: &AddUserArgs) -> Result<u8, CliError> {
    let role = Role::parse(&args.role).ok_or_else(|| {
        CliError::input(format!("unknown role `{}`", args.role)).hint(format!(
            "use one of: {}",
            Role::ALL.map(Role::key).join(", ")
        ))
    })?;
    let user = new_user(&args.username, &args.name, role, &password()?, args.admin)?;
    let store = ctx.open_store().await?;
    store.create_user(&user).await?;
    if args.json {
        println!(
            "{}",
            json!({"username": user.username, "display_name": user.display_name, "role": user.role, "is_admin": user.is_admin})
        );
    } else {
        println!(
            "added {} ({}){} to {}",
            user.username,
            role.label(),
            if user.is_admin { ", administrator" } else { "" },
            ctx.store.describe()
        );
    }
    Ok(exit::OK)
}

async fn users(ctx: &Context, as_json: bool) -> Result<u8, CliError> {
    let store = ctx.open_store().await?;
    let users = store.users().await?;
    if as_json {
        let list: Vec<_> = users
            .iter()
            .map(|u| json!({"username": u.username, "display_name": u.display_name, "role": u.role, "is_admin": u.is_admin}))
            .collect();
        println!("{}", serde_json::Value::Array(list));
    } else if users.is_empty() {
        println!(
            "no accounts yet: muster console add-user NAME --name \"…\" --role facilitator --admin"
        );
    } else {
        for u in users {
            println!(
                "{:<20} {:<22} {}{}",
                u.username,
                u.role,
                u.display_name,
                if u.is_admin { " (admin)" } else { "" }
            );
        }
    }
    Ok(exit::OK)
}
