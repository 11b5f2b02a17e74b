//! The `command` adapter: the agent is a local process speaking JSON Lines. muster starts one
//! process per conversation (no shell), writes one request line per customer turn on its standard
//! input and reads one reply line from its standard output.
//!
//! A request line is `{"type": "message", "conversation_id", "customer_ref", "turn", "message"}`.
//! The reply line is read with the manifest's `reply` mapping, as `http-json` reads a body. A
//! process that exits, closes its output, answers with something that is not JSON, or says
//! nothing within the target's timeout makes the turn inconclusive.

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use muster_model::agent::CommandTarget;
use muster_model::template::{Vars, render_str};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio::sync::Mutex;

use crate::TurnError;
use crate::exchange::{Exchange, Secrets, now_ns, truncate};

/// Longest reply line kept in evidence when it is not JSON.
const MAX_RECORDED_LINE: usize = 64 * 1024;

/// A running agent process and its pipes.
pub(crate) struct Process {
    program: String,
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl std::fmt::Debug for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Process({})", self.program)
    }
}

/// Shared by the clones of a conversation; one turn at a time.
pub(crate) type SharedProcess = Arc<Mutex<Process>>;

/// Starts the agent process for one conversation. Placeholders in the arguments are filled from
/// the conversation's variables; the process is killed when the conversation is dropped.
pub(crate) fn spawn(settings: &CommandTarget, vars: &Vars) -> Result<SharedProcess, TurnError> {
    let argv = settings
        .argv
        .iter()
        .map(|a| render_str(a, vars))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TurnError::Request(e.to_string()))?;
    let Some((program, args)) = argv.split_first() else {
        return Err(TurnError::Request("`command.argv` is empty".to_owned()));
    };
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .envs(&settings.env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| TurnError::Transport(format!("cannot start `{program}`: {e}")))?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(TurnError::Transport(format!(
            "`{program}` started without pipes"
        )));
    };
    Ok(Arc::new(Mutex::new(Process {
        program: program.clone(),
        child,
        stdin,
        stdout: BufReader::new(stdout).lines(),
    })))
}

/// One request line out, one reply line back, recorded as an exchange.
pub(crate) async fn exchange(
    process: &SharedProcess,
    request: &Value,
    timeout: Duration,
    secrets: &Secrets,
) -> (Exchange, Result<Value, TurnError>) {
    let mut p = process.lock().await;
    let mut exchange = Exchange {
        method: "PIPE".to_owned(),
        url: format!("command:{}", p.program),
        request_headers: Vec::new(),
        request_body: Some(secrets.redact_json(request)),
        status: None,
        response_body: None,
        started_at_ns: now_ns(),
        elapsed: Duration::ZERO,
        error: None,
    };
    let started = Instant::now();
    let line = read_reply(&mut p, request, timeout).await;
    exchange.elapsed = started.elapsed();
    let result = line.and_then(|text| {
        serde_json::from_str::<Value>(&text).map_err(|_| {
            exchange.response_body = Some(Value::String(
                secrets.redact(&truncate(&text, MAX_RECORDED_LINE)),
            ));
            TurnError::Malformed("the reply line is not JSON".to_owned())
        })
    });
    match result {
        Ok(doc) => {
            exchange.response_body = Some(secrets.redact_json(&doc));
            (exchange, Ok(doc))
        }
        Err(e) => {
            exchange.error = Some(e.to_string());
            (exchange, Err(e))
        }
    }
}

async fn read_reply(
    p: &mut Process,
    request: &Value,
    timeout: Duration,
) -> Result<String, TurnError> {
    let line = format!("{request}\n");
    let gone = |e: std::io::Error| TurnError::Transport(format!("the agent process is gone: {e}"));
    p.stdin.write_all(line.as_bytes()).await.map_err(gone)?;
    p.stdin.flush().await.map_err(gone)?;
    match tokio::time::timeout(timeout, p.stdout.next_line()).await {
        Err(_) => Err(TurnError::Timeout(timeout)),
        Ok(Err(e)) => Err(TurnError::Transport(format!(
            "cannot read the agent process's output: {e}"
        ))),
        Ok(Ok(None)) => {
            let status = match p.child.try_wait() {
                Ok(Some(status)) => format!(" ({status})"),
                _ => String::new(),
            };
            Err(TurnError::Transport(format!(
                "the agent process closed its output{status}"
            )))
        }
        Ok(Ok(Some(text))) => Ok(text),
    }
}
