//! Operational actions from the manifest (fixtures now; kill switch and rollback later): an HTTP
//! request or a local command, each recorded.

use std::time::{Duration, Instant};

use muster_model::agent::Action;
use muster_model::template::{Vars, render_str};
use serde_json::{Value, json};

use crate::adapter::Target;
use crate::exchange::{Exchange, now_ns, send, truncate};

/// What an action did.
#[derive(Clone, Debug)]
pub struct ActionOutcome {
    pub ok: bool,
    /// The target answered (an HTTP status came back, or the command ran to an exit). A step that
    /// did not reach its target is inconclusive, never a failure of the thing it checks.
    pub reached: bool,
    /// The response document (HTTP JSON) or `{stdout, stderr, exit}` (command).
    pub output: Option<Value>,
    /// Evidence: the exchange or the command run.
    pub record: Value,
    pub error: Option<String>,
}

const COMMAND_DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_OUTPUT: usize = 16 * 1024;

/// Run one action with its placeholders filled.
pub async fn run_action(target: &Target, action: &Action, vars: &Vars) -> ActionOutcome {
    match action {
        Action::Http(h) => {
            let fail = |e: String| ActionOutcome {
                ok: false,
                reached: false,
                output: None,
                record: json!({"error": e}),
                error: Some(e),
            };
            let out = match target.render_request(
                h.method,
                &h.url,
                &h.headers,
                h.body.as_ref(),
                vars,
                false,
            ) {
                Ok(out) => out,
                Err(e) => return fail(e.to_string()),
            };
            let (exchanges, result) = send(
                target.client(),
                target.interlock(),
                target.secrets(),
                target.traffic(),
                out,
            )
            .await;
            let Some(exchange) = exchanges.last() else {
                return fail("no request was sent".to_owned());
            };
            let status_ok = exchange.status.is_some_and(|s| {
                if h.expect_status.is_empty() {
                    (200..300).contains(&s)
                } else {
                    h.expect_status.contains(&s)
                }
            });
            let error = if status_ok {
                None
            } else {
                Some(exchange.error.clone().unwrap_or_else(|| {
                    format!("unexpected HTTP status {}", exchange.status.unwrap_or(0))
                }))
            };
            // A 204 has no body: success without JSON is fine for actions.
            let output = result.ok();
            ActionOutcome {
                ok: status_ok,
                reached: exchange.status.is_some(),
                output,
                record: if exchanges.len() == 1 {
                    exchange.to_json()
                } else {
                    Value::Array(exchanges.iter().map(Exchange::to_json).collect())
                },
                error,
            }
        }
        Action::Command(c) => {
            let argv: Result<Vec<String>, _> = c.argv.iter().map(|a| render_str(a, vars)).collect();
            let argv = match argv {
                Ok(a) if !a.is_empty() => a,
                Ok(_) => {
                    return ActionOutcome {
                        ok: false,
                        reached: false,
                        output: None,
                        record: json!({}),
                        error: Some("empty command".into()),
                    };
                }
                Err(e) => {
                    return ActionOutcome {
                        ok: false,
                        reached: false,
                        output: None,
                        record: json!({}),
                        error: Some(e.to_string()),
                    };
                }
            };
            let timeout = c.timeout.map_or(COMMAND_DEFAULT_TIMEOUT, |t| t.0);
            let started_at_ns = now_ns();
            let started = Instant::now();
            let mut command = tokio::process::Command::new(&argv[0]);
            command
                .args(&argv[1..])
                .kill_on_drop(true)
                .stdin(std::process::Stdio::null());
            let run = tokio::time::timeout(timeout, command.output()).await;
            let elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            let (ok, output, error) = match run {
                Err(_) => (false, None, Some(format!("timed out after {timeout:?}"))),
                Ok(Err(e)) => (
                    false,
                    None,
                    Some(format!("could not start `{}`: {e}", argv[0])),
                ),
                Ok(Ok(out)) => {
                    let code = out.status.code();
                    let doc = json!({
                        "exit": code,
                        "stdout": truncate(&String::from_utf8_lossy(&out.stdout), MAX_OUTPUT),
                        "stderr": truncate(&String::from_utf8_lossy(&out.stderr), MAX_OUTPUT),
                    });
                    let ok = code == Some(c.expect_exit);
                    let error =
                        (!ok).then(|| format!("exit status {code:?}, expected {}", c.expect_exit));
                    (ok, Some(doc), error)
                }
            };
            let record = json!({"argv": argv, "started_at_ns": started_at_ns, "elapsed_us": elapsed_us, "output": output, "error": error});
            ActionOutcome {
                ok,
                reached: output.is_some(),
                output,
                record,
                error,
            }
        }
    }
}
