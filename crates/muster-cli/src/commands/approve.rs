//! `muster approve`: record an approver's decision on a drill's customer correction notice.

use crate::cli::ApproveArgs;
use crate::context::Context;
use crate::error::{CliError, exit};
use muster_control::ApprovalError;
use muster_drill::Verdict;

pub async fn run(ctx: &Context, args: &ApproveArgs) -> Result<u8, CliError> {
    if args.name.trim().is_empty() {
        return Err(CliError::input("`--name` must say who approves"));
    }
    let store = ctx.open_store().await?;
    let (notice, row) = muster_control::approve(
        &*store,
        &args.drill,
        &args.role,
        args.name.trim(),
        !args.reject,
        args.note.as_deref(),
    )
    .await
    .map_err(|e| match e {
        ApprovalError::Store(e) => CliError::from(e),
        ApprovalError::NoNotice(_) => CliError::input(e.to_string())
            .hint("declare `controls.comms_approval` and run `muster drill --controls`"),
        ApprovalError::NotAnApprover { .. } => CliError::input(e.to_string()),
    })?;
    if args.json {
        let out = serde_json::json!({
            "drill": args.drill,
            "notice_digest": notice.digest,
            "role": args.role,
            "approver": args.name.trim(),
            "approved": !args.reject,
            "control": row,
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        println!(
            "{} the notice (sha256 {}…) as {} ({}).",
            if args.reject { "Rejected" } else { "Approved" },
            &notice.digest[..12.min(notice.digest.len())],
            args.name.trim(),
            args.role
        );
        println!(
            "{}",
            crate::render::controls::readiness_table(
                std::slice::from_ref(&row),
                ctx.color,
                crate::commands::drill::terminal_width()
            )
        );
    }
    Ok(match row.verdict {
        Verdict::Pass => exit::OK,
        Verdict::Fail => exit::FAILED,
        Verdict::Inconclusive => exit::INCONCLUSIVE,
    })
}
