//! Load generator for the exercise console (a benchmark, not a test): event-stream clients held
//! open while API requests arrive at a constant rate, over loopback.
//!
//! ```sh
//! bench/console-load.sh                     # builds, starts `muster serve`, runs this, writes bench/results/console-load.json
//! cargo bench -p muster-console --bench console_load -- --url http://127.0.0.1:PORT \
//!     --username NAME --password '…' [--duration 60 --rps 500 --clients 200] [--json]
//! ```
//!
//! Against a running console (`muster serve`) and an account that may create exercises and log
//! decisions (a facilitator), it:
//!
//! 1. signs in `--sessions` times (each a session cookie and CSRF token), reads the scenarios and
//!    creates `--exercises` exercises (clock speed 1) and starts their clocks;
//! 2. opens `--clients` event streams (`GET /api/exercises/{id}/stream`, spread over the
//!    exercises and sessions) and waits until every one has its response headers;
//! 3. sends `--rps` requests a second for `--duration` seconds **open loop**: request `i` is due at
//!    `start + i / rps` whatever happened to the ones before it, and its latency is measured from
//!    that due time (so a stalled server is charged for the requests that queued behind it — no
//!    coordinated omission). The mix (`--mix`) is reads of the exercise state, its log and the
//!    exercise list, and decisions logged (writes, with the CSRF header); every request carries a
//!    session cookie;
//! 4. waits `--drain-ms` for the last events, closes the streams and reports: requests, errors
//!    (non-2xx, timeouts, transport), latency p50/p90/p99/max overall, per route and per 10 s
//!    window; stream clients connected and dropped, `entry` events each received, decisions each
//!    missed, and the delivery latency of every decision to every stream (from the moment the
//!    POST that logged it was sent until the stream carried it).
//!
//! Every option also reads an environment variable (`MUSTER_CONSOLE_URL`, `MUSTER_CONSOLE_USER`,
//! `MUSTER_CONSOLE_PASSWORD`, `MUSTER_LOAD_*`). Without a URL it prints how to run it and exits 0,
//! so `cargo bench` over the workspace does not fail on it. Loopback only: it refuses any other
//! host.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use tokio::sync::watch;

#[derive(Debug, Parser)]
#[command(
    name = "console_load",
    about = "Load generator for the muster exercise console"
)]
struct Args {
    /// The console's base URL, e.g. http://127.0.0.1:8080 (loopback only).
    #[arg(long, env = "MUSTER_CONSOLE_URL")]
    url: Option<String>,
    #[arg(long, env = "MUSTER_CONSOLE_USER", default_value = "loadtest")]
    username: String,
    #[arg(long, env = "MUSTER_CONSOLE_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Seconds of load.
    #[arg(long, env = "MUSTER_LOAD_DURATION", default_value_t = 60.0)]
    duration: f64,
    /// API requests per second (open loop).
    #[arg(long, env = "MUSTER_LOAD_RPS", default_value_t = 500.0)]
    rps: f64,
    /// Event-stream clients held open for the whole run.
    #[arg(long, env = "MUSTER_LOAD_CLIENTS", default_value_t = 200)]
    clients: usize,
    /// Exercises created; streams and requests are spread over them round robin.
    #[arg(long, env = "MUSTER_LOAD_EXERCISES", default_value_t = 1)]
    exercises: usize,
    /// Decisions logged into each exercise before the load starts (not measured): the log a
    /// long-running exercise would already have.
    #[arg(long, env = "MUSTER_LOAD_PRELOAD", default_value_t = 0)]
    preload: usize,
    /// Sessions signed in (each sign-in is a password hash on the server).
    #[arg(long, env = "MUSTER_LOAD_SESSIONS", default_value_t = 10)]
    sessions: usize,
    /// Request mix in percent: state (GET /api/exercises/{id}), log (…/log), list
    /// (GET /api/exercises), decision (POST …/decisions).
    #[arg(
        long,
        env = "MUSTER_LOAD_MIX",
        default_value = "state=50,log=20,list=20,decision=10"
    )]
    mix: String,
    /// A request not answered within this is counted as a timeout.
    #[arg(long, env = "MUSTER_LOAD_TIMEOUT_MS", default_value_t = 5000)]
    timeout_ms: u64,
    /// After the last request is answered, how long to wait for the streams to deliver.
    #[arg(long, env = "MUSTER_LOAD_DRAIN_MS", default_value_t = 3000)]
    drain_ms: u64,
    /// How long to wait for every stream to connect before starting anyway.
    #[arg(long, env = "MUSTER_LOAD_CONNECT_TIMEOUT_S", default_value_t = 30)]
    connect_timeout_s: u64,
    /// The p99 the run is judged against, in milliseconds.
    #[arg(long, env = "MUSTER_LOAD_TARGET_P99_MS", default_value_t = 100.0)]
    target_p99_ms: f64,
    /// Worker threads of the generator's runtime.
    #[arg(long, env = "MUSTER_LOAD_WORKERS", default_value_t = 2)]
    workers: usize,
    /// The server's process id (same machine): its CPU time during the load is reported.
    #[arg(long, env = "MUSTER_LOAD_SERVER_PID")]
    server_pid: Option<u32>,
    /// Seed of the request mix.
    #[arg(long, env = "MUSTER_LOAD_SEED", default_value_t = 1)]
    seed: u64,
    /// Print the report as JSON on stdout (the table then goes to stderr).
    #[arg(long)]
    json: bool,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Route {
    State,
    Log,
    List,
    Decision,
}

impl Route {
    const ALL: [Route; 4] = [Route::State, Route::Log, Route::List, Route::Decision];

    fn label(self) -> &'static str {
        match self {
            Route::State => "GET /api/exercises/{id}",
            Route::Log => "GET /api/exercises/{id}/log",
            Route::List => "GET /api/exercises",
            Route::Decision => "POST /api/exercises/{id}/decisions",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Route::State => "state",
            Route::Log => "log",
            Route::List => "list",
            Route::Decision => "decision",
        }
    }
}

fn parse_mix(text: &str) -> Result<Vec<(Route, u32)>, String> {
    let mut mix = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, weight) = part
            .split_once('=')
            .ok_or_else(|| format!("mix `{part}`: write it as name=percent"))?;
        let route = Route::ALL
            .into_iter()
            .find(|r| r.key() == name.trim())
            .ok_or_else(|| format!("mix `{name}`: use state, log, list or decision"))?;
        let weight: u32 = weight
            .trim()
            .parse()
            .map_err(|_| format!("mix `{part}`: not a whole number"))?;
        mix.push((route, weight));
    }
    if mix.iter().map(|(_, w)| w).sum::<u32>() == 0 {
        return Err("the mix has no weight".into());
    }
    Ok(mix)
}

/// splitmix64: the route of request `i` is a pure function of the seed and `i`.
fn mix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn pick(mix: &[(Route, u32)], seed: u64, i: u64) -> Route {
    let total: u32 = mix.iter().map(|(_, w)| w).sum();
    let mut roll = (mix64(seed ^ mix64(i)) % u64::from(total)) as u32;
    for &(route, weight) in mix {
        if roll < weight {
            return route;
        }
        roll -= weight;
    }
    mix[0].0
}

#[derive(Clone, Debug)]
struct Session {
    cookie: String,
    csrf: String,
}

#[derive(Clone, Debug)]
enum Outcome {
    Ok,
    Status(u16),
    Timeout,
    Transport(String),
}

#[derive(Clone, Debug)]
struct Sample {
    route: Route,
    exercise: usize,
    /// The request's place in the schedule: due at `start + index / rps`.
    index: u64,
    /// From the due time to the whole response read.
    latency_us: u64,
    /// From the moment the request was handed to the client to the whole response read.
    service_us: u64,
    bytes: usize,
    outcome: Outcome,
}

/// What one event-stream client saw.
#[derive(Debug, Default)]
struct StreamResult {
    exercise: usize,
    connected: bool,
    connect_us: u64,
    /// The stream ended or failed before the run was over.
    dropped: Option<String>,
    entries: u64,
    resyncs: u64,
    /// Decisions (request indices) received.
    tags: Vec<u32>,
    /// Delivery latency of each decision received, microseconds.
    delivery_us: Vec<u64>,
}

struct Shared {
    /// When the load started.
    epoch: Instant,
    /// Per request index: nanoseconds from `epoch` when its POST was sent, plus one (0 = never).
    decision_sent: Vec<AtomicU64>,
    connected: AtomicU64,
    stop: watch::Receiver<bool>,
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(us: u64) -> f64 {
    (us as f64 / 1000.0 * 100.0).round() / 100.0
}

fn summary(values: &mut [u64]) -> Value {
    values.sort_unstable();
    let mean = if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<u64>() as f64 / values.len() as f64
    };
    json!({
        "count": values.len(),
        "p50": ms(percentile(values, 50.0)),
        "p90": ms(percentile(values, 90.0)),
        "p99": ms(percentile(values, 99.0)),
        "p999": ms(percentile(values, 99.9)),
        "max": ms(values.last().copied().unwrap_or(0)),
        "mean": ms(mean.round() as u64),
    })
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn cpu_seconds_of_self() -> (f64, f64) {
    cpu_seconds_of("self")
}

/// User and system CPU seconds of a process, from /proc/PID/stat (fields 14 and 15, in USER_HZ,
/// which is 100 on Linux).
fn cpu_seconds_of(pid: &str) -> (f64, f64) {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return (0.0, 0.0);
    };
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 100.0
    };
    (tick(11), tick(12))
}

async fn sign_in(
    http: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> Result<Session, String> {
    let response = http
        .post(format!("{base}/api/session"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .map_err(|e| format!("sign in: {e}"))?;
    let status = response.status();
    let cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|c| c.starts_with("muster_session="))
        .map(str::to_owned);
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if status != StatusCode::OK {
        return Err(format!("sign in as {username}: {status} {body}"));
    }
    let cookie = cookie.ok_or("sign in: no muster_session cookie in the answer")?;
    let csrf = body["csrf_token"]
        .as_str()
        .ok_or("sign in: no csrf_token in the answer")?
        .to_owned();
    Ok(Session { cookie, csrf })
}

async fn post_json(
    http: &reqwest::Client,
    base: &str,
    session: &Session,
    path: &str,
    body: &Value,
) -> Result<Value, String> {
    let response = http
        .post(format!("{base}{path}"))
        .header(COOKIE, &session.cookie)
        .header("x-csrf-token", &session.csrf)
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| format!("POST {path}: {e}"))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(format!("POST {path}: {status} {text}"));
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn get_json(
    http: &reqwest::Client,
    base: &str,
    session: &Session,
    path: &str,
) -> Result<(Value, usize), String> {
    let response = http
        .get(format!("{base}{path}"))
        .header(COOKIE, &session.cookie)
        .send()
        .await
        .map_err(|e| format!("GET {path}: {e}"))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(format!("GET {path}: {status} {text}"));
    }
    let len = text.len();
    Ok((serde_json::from_str(&text).unwrap_or(Value::Null), len))
}

/// Finds the request index a decision's title carries (`lg#123#`) in an event's data.
fn tag_of(frame: &str) -> Option<u32> {
    let at = frame.find("lg#")? + 3;
    let rest = &frame[at..];
    let end = rest.find('#')?;
    rest[..end].parse().ok()
}

/// One event-stream client: holds the stream open until told to stop.
async fn stream_client(
    http: reqwest::Client,
    url: String,
    cookie: String,
    exercise: usize,
    shared: Arc<Shared>,
) -> StreamResult {
    let mut result = StreamResult {
        exercise,
        ..StreamResult::default()
    };
    let mut stop = shared.stop.clone();
    let opened = Instant::now();
    let response = tokio::select! {
        r = http.get(&url).header(COOKIE, &cookie).header("accept", "text/event-stream").send() => r,
        _ = stop.changed() => return result,
    };
    let mut response = match response {
        Ok(r) if r.status().is_success() => r,
        Ok(r) => {
            result.dropped = Some(format!("status {}", r.status()));
            return result;
        }
        Err(e) => {
            result.dropped = Some(format!("connect: {e}"));
            return result;
        }
    };
    result.connected = true;
    result.connect_us = opened.elapsed().as_micros() as u64;
    shared.connected.fetch_add(1, Ordering::SeqCst);
    let mut buffer = String::new();
    loop {
        let chunk = tokio::select! {
            c = response.chunk() => c,
            _ = stop.changed() => break,
        };
        let received = Instant::now();
        match chunk {
            Ok(Some(bytes)) => buffer.push_str(&String::from_utf8_lossy(&bytes)),
            Ok(None) => {
                if !*stop.borrow() {
                    result.dropped = Some("the server ended the stream".into());
                }
                break;
            }
            Err(e) => {
                if !*stop.borrow() {
                    result.dropped = Some(format!("read: {e}"));
                }
                break;
            }
        }
        while let Some(end) = buffer.find("\n\n") {
            let frame = &buffer[..end];
            if frame.contains("event: entry") {
                result.entries += 1;
                if let Some(tag) = tag_of(frame) {
                    result.tags.push(tag);
                    let sent = shared
                        .decision_sent
                        .get(tag as usize)
                        .map_or(0, |s| s.load(Ordering::Acquire));
                    if sent > 0 {
                        let now_ns = received.duration_since(shared.epoch).as_nanos() as u64;
                        result
                            .delivery_us
                            .push(now_ns.saturating_sub(sent - 1) / 1000);
                    }
                }
            } else if frame.contains("event: resync") {
                result.resyncs += 1;
            }
            buffer.drain(..end + 2);
        }
    }
    result
}

struct Plan {
    base: String,
    sessions: Vec<Session>,
    exercises: Vec<String>,
    mix: Vec<(Route, u32)>,
    seed: u64,
    timeout: Duration,
}

async fn one_request(
    http: reqwest::Client,
    plan: Arc<Plan>,
    shared: Arc<Shared>,
    index: u64,
    due: Instant,
) -> Sample {
    let route = pick(&plan.mix, plan.seed, index);
    let session = &plan.sessions[index as usize % plan.sessions.len()];
    let exercise = (index as usize / plan.sessions.len().max(1)) % plan.exercises.len();
    let id = &plan.exercises[exercise];
    let base = &plan.base;
    let request = match route {
        Route::State => http.get(format!("{base}/api/exercises/{id}")),
        Route::Log => http.get(format!("{base}/api/exercises/{id}/log")),
        Route::List => http.get(format!("{base}/api/exercises")),
        Route::Decision => http
            .post(format!("{base}/api/exercises/{id}/decisions"))
            .header("x-csrf-token", &session.csrf)
            .header(CONTENT_TYPE, "application/json")
            .body(
                json!({
                    "title": format!("Load decision lg#{index}#"),
                    "decision": "Pause automated refunds until the policy text is checked",
                    "owner": "facilitator",
                    "rationale": "The agent quoted a 30-day window; the policy says 14 days",
                    "facts": ["Three customers were promised refunds outside the window"],
                    "open_questions": ["How many conversations are affected?"],
                })
                .to_string(),
            ),
    }
    .header(COOKIE, &session.cookie)
    .timeout(plan.timeout);
    let sent = Instant::now();
    if route == Route::Decision
        && let Some(slot) = shared.decision_sent.get(index as usize)
    {
        slot.store(
            sent.duration_since(shared.epoch).as_nanos() as u64 + 1,
            Ordering::Release,
        );
    }
    let result = async {
        let response = request.send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        Ok::<_, reqwest::Error>((status, body.len()))
    }
    .await;
    let done = Instant::now();
    let (outcome, bytes) = match result {
        Ok((status, len)) if status.is_success() => (Outcome::Ok, len),
        Ok((status, len)) => (Outcome::Status(status.as_u16()), len),
        Err(e) if e.is_timeout() => (Outcome::Timeout, 0),
        Err(e) => (Outcome::Transport(format!("{e:?}")), 0),
    };
    Sample {
        route,
        exercise,
        index,
        latency_us: done.saturating_duration_since(due).as_micros() as u64,
        service_us: done.duration_since(sent).as_micros() as u64,
        bytes,
        outcome,
    }
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let Some(url) = args.url.clone() else {
        eprintln!(
            "console_load: no console to load (set MUSTER_CONSOLE_URL or --url); \
             bench/console-load.sh builds and starts one and runs this against it"
        );
        return std::process::ExitCode::SUCCESS;
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.workers.max(1))
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("console_load: cannot start the runtime: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match runtime.block_on(run(args, url)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("console_load: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn run(args: Args, url: String) -> Result<(), String> {
    let parsed = reqwest::Url::parse(&url).map_err(|e| format!("--url {url}: {e}"))?;
    if !is_loopback(&parsed) {
        return Err(format!(
            "--url {url} is not a loopback address; this generator only loads 127.0.0.0/8, [::1] or localhost"
        ));
    }
    let base = url.trim_end_matches('/').to_owned();
    let password = args
        .password
        .clone()
        .ok_or("no password (--password or MUSTER_CONSOLE_PASSWORD)")?;
    let mix = parse_mix(&args.mix)?;
    if args.exercises == 0 || args.sessions == 0 || args.rps <= 0.0 || args.duration <= 0.0 {
        return Err("--exercises, --sessions, --rps and --duration must be above 0".into());
    }

    // reqwest is built with `rustls-no-provider`; plain HTTP needs none, but building a client does.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let api = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(1024)
        .tcp_nodelay(true)
        .build()
        .map_err(|e| format!("client: {e}"))?;
    let streams_http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| format!("client: {e}"))?;

    // ---- setup ----
    let mut sessions = Vec::with_capacity(args.sessions);
    for _ in 0..args.sessions {
        sessions.push(sign_in(&api, &base, &args.username, &password).await?);
    }
    let (scenarios, _) = get_json(&api, &base, &sessions[0], "/api/scenarios").await?;
    let scenario = scenarios
        .as_array()
        .and_then(|list| list.first())
        .and_then(|s| s["id"].as_str())
        .ok_or("GET /api/scenarios listed no scenario")?
        .to_owned();
    let mut exercises = Vec::with_capacity(args.exercises);
    for n in 0..args.exercises {
        let created = post_json(
            &api,
            &base,
            &sessions[0],
            "/api/exercises",
            &json!({"scenario": scenario, "clock_speed": 1, "title": format!("Load test {n}")}),
        )
        .await?;
        let id = created["id"]
            .as_str()
            .ok_or("POST /api/exercises returned no id")?
            .to_owned();
        post_json(
            &api,
            &base,
            &sessions[0],
            &format!("/api/exercises/{id}/clock"),
            &json!({"action": "start"}),
        )
        .await?;
        exercises.push(id);
    }
    if args.preload > 0 {
        eprintln!(
            "console_load: logging {} decisions into each exercise before the load",
            args.preload
        );
        let started = Instant::now();
        for id in &exercises {
            for n in 0..args.preload {
                post_json(
                    &api,
                    &base,
                    &sessions[n % sessions.len()],
                    &format!("/api/exercises/{id}/decisions"),
                    &json!({
                        "title": format!("Earlier decision {n}"),
                        "decision": "Pause automated refunds until the policy text is checked",
                        "owner": "facilitator",
                        "rationale": "The agent quoted a 30-day window; the policy says 14 days",
                        "facts": ["Three customers were promised refunds outside the window"],
                        "open_questions": ["How many conversations are affected?"],
                    }),
                )
                .await?;
            }
        }
        eprintln!(
            "console_load: preloaded in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }

    let total = (args.rps * args.duration).round() as u64;
    let (stop_tx, stop_rx) = watch::channel(false);
    let shared = Arc::new(Shared {
        epoch: Instant::now(),
        decision_sent: (0..total).map(|_| AtomicU64::new(0)).collect(),
        connected: AtomicU64::new(0),
        stop: stop_rx,
    });

    // ---- event streams ----
    eprintln!(
        "console_load: {} exercise(s) on {base}; opening {} event streams",
        exercises.len(),
        args.clients
    );
    let mut streams = Vec::with_capacity(args.clients);
    for c in 0..args.clients {
        let exercise = c % exercises.len();
        let session = &sessions[c % sessions.len()];
        streams.push(tokio::spawn(stream_client(
            streams_http.clone(),
            format!("{base}/api/exercises/{}/stream", exercises[exercise]),
            session.cookie.clone(),
            exercise,
            shared.clone(),
        )));
    }
    let connect_deadline = Instant::now() + Duration::from_secs(args.connect_timeout_s);
    while shared.connected.load(Ordering::SeqCst) < args.clients as u64
        && Instant::now() < connect_deadline
        && !streams.iter().all(tokio::task::JoinHandle::is_finished)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let connected_before_load = shared.connected.load(Ordering::SeqCst);
    eprintln!(
        "console_load: {connected_before_load}/{} streams connected; {total} requests at {} a second for {} s",
        args.clients, args.rps, args.duration
    );

    // ---- open-loop load ----
    let plan = Arc::new(Plan {
        base: base.clone(),
        sessions: sessions.clone(),
        exercises: exercises.clone(),
        mix,
        seed: args.seed,
        timeout: Duration::from_millis(args.timeout_ms),
    });
    let server_pid = args.server_pid.map(|p| p.to_string());
    let server_before = server_pid.as_deref().map(cpu_seconds_of);
    let cpu_before = cpu_seconds_of_self();
    let start = Instant::now() + Duration::from_millis(50);
    let interval_ns = 1e9 / args.rps;
    let mut tasks = Vec::with_capacity(total as usize);
    let mut max_lag = Duration::ZERO;
    for i in 0..total {
        let due = start + Duration::from_nanos((i as f64 * interval_ns) as u64);
        tokio::time::sleep_until(due.into()).await;
        max_lag = max_lag.max(Instant::now().saturating_duration_since(due));
        tasks.push(tokio::spawn(one_request(
            api.clone(),
            plan.clone(),
            shared.clone(),
            i,
            due,
        )));
    }
    let dispatched_in = start.elapsed();
    let mut samples = Vec::with_capacity(tasks.len());
    for task in tasks {
        if let Ok(sample) = task.await {
            samples.push(sample);
        }
    }
    let load_wall = start.elapsed();
    let cpu_after = cpu_seconds_of_self();
    let server_cpu = server_pid
        .as_deref()
        .map(cpu_seconds_of)
        .zip(server_before)
        .map(|(after, before)| (after.0 - before.0, after.1 - before.1));
    tokio::time::sleep(Duration::from_millis(args.drain_ms)).await;
    let _ = stop_tx.send(true);
    let mut results = Vec::with_capacity(streams.len());
    for s in streams {
        if let Ok(r) = s.await {
            results.push(r);
        }
    }

    // ---- what the exercises hold now ----
    let mut final_logs = Vec::new();
    for id in &exercises {
        let (log, bytes) = get_json(
            &api,
            &base,
            &sessions[0],
            &format!("/api/exercises/{id}/log"),
        )
        .await
        .unwrap_or((Value::Null, 0));
        let (state, state_bytes) =
            get_json(&api, &base, &sessions[0], &format!("/api/exercises/{id}"))
                .await
                .unwrap_or((Value::Null, 0));
        // The state says how many entries the log holds; the log route may page them.
        let entries = state["entry_count"]
            .as_u64()
            .unwrap_or_else(|| log["entries"].as_array().map_or(0, |e| e.len() as u64));
        final_logs.push(json!({
            "id": id,
            "entries": entries,
            "log_response_bytes": bytes,
            "state_response_bytes": state_bytes,
        }));
    }

    let report = build_report(
        &args,
        &samples,
        &results,
        Figures {
            total,
            connected_before_load,
            dispatched_in,
            load_wall,
            max_lag,
            cpu: (cpu_after.0 - cpu_before.0, cpu_after.1 - cpu_before.1),
            server_cpu,
            final_logs,
            exercises: exercises.len(),
        },
    );
    let table = render_table(&report);
    if args.json {
        eprintln!("{table}");
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        );
    } else {
        println!("{table}");
    }
    Ok(())
}

struct Figures {
    total: u64,
    connected_before_load: u64,
    dispatched_in: Duration,
    load_wall: Duration,
    max_lag: Duration,
    cpu: (f64, f64),
    server_cpu: Option<(f64, f64)>,
    final_logs: Vec<Value>,
    exercises: usize,
}

fn build_report(args: &Args, samples: &[Sample], streams: &[StreamResult], f: Figures) -> Value {
    let ok = samples
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::Ok))
        .count();
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    let mut timeouts = 0u64;
    let mut transport = 0u64;
    let mut examples: Vec<String> = Vec::new();
    for s in samples {
        match &s.outcome {
            Outcome::Ok => {}
            Outcome::Status(code) => *by_status.entry(code.to_string()).or_default() += 1,
            Outcome::Timeout => timeouts += 1,
            Outcome::Transport(e) => {
                transport += 1;
                if examples.len() < 5 {
                    examples.push(e.clone());
                }
            }
        }
    }
    let errors = samples.len() - ok;

    let mut all: Vec<u64> = samples.iter().map(|s| s.latency_us).collect();
    let mut service: Vec<u64> = samples.iter().map(|s| s.service_us).collect();
    let mut by_route = serde_json::Map::new();
    for route in Route::ALL {
        let of: Vec<&Sample> = samples.iter().filter(|s| s.route == route).collect();
        if of.is_empty() {
            continue;
        }
        let mut lat: Vec<u64> = of.iter().map(|s| s.latency_us).collect();
        let errs = of
            .iter()
            .filter(|s| !matches!(s.outcome, Outcome::Ok))
            .count();
        let bytes: Vec<usize> = of.iter().map(|s| s.bytes).collect();
        let mut entry = summary(&mut lat);
        entry["errors"] = json!(errs);
        entry["mean_response_bytes"] = json!(bytes.iter().sum::<usize>() / bytes.len().max(1));
        entry["max_response_bytes"] = json!(bytes.iter().max().copied().unwrap_or(0));
        by_route.insert(route.label().to_owned(), entry);
    }

    // 10-second windows by due time.
    let per_window = (args.rps * 10.0).max(1.0);
    let windows_n = (args.duration / 10.0).ceil().max(1.0) as u64;
    let mut windows = Vec::new();
    for w in 0..windows_n {
        let of: Vec<&Sample> = samples
            .iter()
            .filter(|s| ((s.index as f64 / per_window) as u64).min(windows_n - 1) == w)
            .collect();
        let mut lat: Vec<u64> = of.iter().map(|s| s.latency_us).collect();
        let mut state_lat: Vec<u64> = of
            .iter()
            .filter(|s| s.route == Route::State)
            .map(|s| s.latency_us)
            .collect();
        let state_bytes = of
            .iter()
            .filter(|s| s.route == Route::State && matches!(s.outcome, Outcome::Ok))
            .map(|s| s.bytes)
            .max()
            .unwrap_or(0);
        let errs = of
            .iter()
            .filter(|s| !matches!(s.outcome, Outcome::Ok))
            .count();
        let all_summary = summary(&mut lat);
        let state_summary = summary(&mut state_lat);
        windows.push(json!({
            "from_s": w * 10,
            "to_s": (w + 1) * 10,
            "requests": of.len(),
            "errors": errs,
            "p50": all_summary["p50"],
            "p99": all_summary["p99"],
            "max": all_summary["max"],
            "state_p99": state_summary["p99"],
            "state_response_bytes_max": state_bytes,
        }));
    }

    // Second by second (due time): where stalls are.
    let seconds = args.duration.ceil().max(1.0) as usize;
    let mut per_second: Vec<Vec<u64>> = vec![Vec::new(); seconds];
    let mut errors_per_second = vec![0u64; seconds];
    for s in samples {
        let second = ((s.index as f64 / args.rps) as usize).min(seconds - 1);
        per_second[second].push(s.latency_us);
        if !matches!(s.outcome, Outcome::Ok) {
            errors_per_second[second] += 1;
        }
    }
    let timeline: Vec<Value> = per_second
        .iter_mut()
        .zip(&errors_per_second)
        .enumerate()
        .map(|(second, (lat, errs))| {
            lat.sort_unstable();
            json!({
                "s": second,
                "requests": lat.len(),
                "errors": errs,
                "p50": ms(percentile(lat, 50.0)),
                "p99": ms(percentile(lat, 99.0)),
                "max": ms(lat.last().copied().unwrap_or(0)),
            })
        })
        .collect();

    // Streams: which decisions each exercise logged, and which each stream received.
    let mut logged: Vec<Vec<u64>> = vec![Vec::new(); f.exercises];
    for s in samples {
        if s.route == Route::Decision && matches!(s.outcome, Outcome::Ok) {
            logged[s.exercise].push(s.index);
        }
    }
    let connected = streams.iter().filter(|r| r.connected).count();
    let dropped: Vec<&StreamResult> = streams.iter().filter(|r| r.dropped.is_some()).collect();
    let mut entries: Vec<u64> = streams.iter().map(|r| r.entries).collect();
    entries.sort_unstable();
    let mut missed_total = 0u64;
    let mut missing_any = 0usize;
    let mut duplicates = 0u64;
    for r in streams.iter().filter(|r| r.connected) {
        let mut got: Vec<u32> = r.tags.clone();
        got.sort_unstable();
        let before = got.len();
        got.dedup();
        duplicates += (before - got.len()) as u64;
        let missed = logged[r.exercise]
            .iter()
            .filter(|i| got.binary_search(&(**i as u32)).is_err())
            .count() as u64;
        missed_total += missed;
        if missed > 0 {
            missing_any += 1;
        }
    }
    let mut delivery: Vec<u64> = streams
        .iter()
        .flat_map(|r| r.delivery_us.iter().copied())
        .collect();
    let mut connect: Vec<u64> = streams
        .iter()
        .filter(|r| r.connected)
        .map(|r| r.connect_us)
        .collect();
    let resyncs: u64 = streams.iter().map(|r| r.resyncs).sum();
    let drop_reasons: Vec<String> = dropped
        .iter()
        .filter_map(|r| r.dropped.clone())
        .take(5)
        .collect();

    let overall = summary(&mut all);
    let delivery_summary = summary(&mut delivery);
    let p99 = overall["p99"].as_f64().unwrap_or(f64::INFINITY);
    let streams_clean = connected == args.clients && dropped.is_empty() && missed_total == 0;
    json!({
        "config": {
            "url": args.url,
            "duration_s": args.duration,
            "rps": args.rps,
            "clients": args.clients,
            "exercises": f.exercises,
            "preload_per_exercise": args.preload,
            "sessions": args.sessions,
            "mix": args.mix,
            "timeout_ms": args.timeout_ms,
            "drain_ms": args.drain_ms,
            "generator_workers": args.workers,
            "seed": args.seed,
        },
        "requests": {
            "scheduled": f.total,
            "completed": samples.len(),
            "ok": ok,
            "errors": errors,
            "errors_by_kind": {"status": by_status, "timeout": timeouts, "transport": transport},
            "transport_error_examples": examples,
            "sent_rps": (samples.len() as f64 / f.dispatched_in.as_secs_f64() * 10.0).round() / 10.0,
            "dispatch_s": (f.dispatched_in.as_secs_f64() * 1000.0).round() / 1000.0,
            "dispatcher_max_lag_ms": ms(f.max_lag.as_micros() as u64),
        },
        "latency_ms": overall,
        "service_latency_ms": summary(&mut service),
        "latency_by_route_ms": by_route,
        "windows": windows,
        "per_second": timeline,
        "sse": {
            "clients": args.clients,
            "connected_before_load": f.connected_before_load,
            "connected": connected,
            "dropped": dropped.len(),
            "drop_reasons": drop_reasons,
            "connect_ms": summary(&mut connect),
            "entries_per_client": {
                "min": entries.first().copied().unwrap_or(0),
                "median": entries.get(entries.len() / 2).copied().unwrap_or(0),
                "max": entries.last().copied().unwrap_or(0),
            },
            "decisions_logged_ok": logged.iter().map(Vec::len).sum::<usize>(),
            "decisions_missed": missed_total,
            "clients_missing_any": missing_any,
            "duplicates": duplicates,
            "resyncs": resyncs,
            "delivery_latency_ms": delivery_summary,
        },
        "exercises_after": f.final_logs,
        "generator_cpu_s": {"user": (f.cpu.0 * 100.0).round() / 100.0, "system": (f.cpu.1 * 100.0).round() / 100.0},
        "server_cpu_during_load": f.server_cpu.map(|(user, system)| json!({
            "user_s": (user * 100.0).round() / 100.0,
            "system_s": (system * 100.0).round() / 100.0,
            "cores": ((user + system) / f.load_wall.as_secs_f64() * 100.0).round() / 100.0,
            "ms_per_request": ((user + system) * 1000.0 / samples.len().max(1) as f64 * 100.0).round() / 100.0,
        })),
        "target": {
            "p99_ms": args.target_p99_ms,
            "p99_met": p99 < args.target_p99_ms,
            "no_errors": errors == 0,
            "streams_clean": streams_clean,
            "met": p99 < args.target_p99_ms && errors == 0 && streams_clean,
        },
    })
}

/// A JSON value as a table cell (`Value`'s `Display` ignores width); null is blank.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn render_table(r: &Value) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let c = &r["config"];
    let q = &r["requests"];
    let _ = writeln!(
        out,
        "console load: {} s, {} req/s open loop, {} event streams, {} exercise(s) ({} decisions each before the load), mix {}",
        c["duration_s"],
        c["rps"],
        c["clients"],
        c["exercises"],
        c["preload_per_exercise"],
        cell(&c["mix"])
    );
    let _ = writeln!(
        out,
        "requests: {} scheduled, {} completed, {} ok, {} errors (status {}, timeout {}, transport {}); sent at {} req/s; dispatcher max lag {} ms",
        q["scheduled"],
        q["completed"],
        q["ok"],
        q["errors"],
        q["errors_by_kind"]["status"],
        q["errors_by_kind"]["timeout"],
        q["errors_by_kind"]["transport"],
        q["sent_rps"],
        q["dispatcher_max_lag_ms"],
    );
    let _ = writeln!(
        out,
        "\n{:<36} {:>7} {:>6} {:>9} {:>9} {:>9} {:>9} {:>10}",
        "latency from due time (ms)", "count", "errors", "p50", "p90", "p99", "max", "mean bytes"
    );
    let row = |out: &mut String, name: &str, v: &Value| {
        let _ = writeln!(
            out,
            "{:<36} {:>7} {:>6} {:>9} {:>9} {:>9} {:>9} {:>10}",
            name,
            cell(&v["count"]),
            cell(&v["errors"]),
            cell(&v["p50"]),
            cell(&v["p90"]),
            cell(&v["p99"]),
            cell(&v["max"]),
            cell(&v["mean_response_bytes"]),
        );
    };
    if let Some(routes) = r["latency_by_route_ms"].as_object() {
        for (name, v) in routes {
            row(&mut out, name, v);
        }
    }
    let mut all = r["latency_ms"].clone();
    all["errors"] = q["errors"].clone();
    row(&mut out, "all", &all);
    row(
        &mut out,
        "all, from send (service time)",
        &r["service_latency_ms"],
    );
    let _ = writeln!(
        out,
        "\n{:<10} {:>8} {:>7} {:>9} {:>9} {:>9} {:>12} {:>14}",
        "window s", "requests", "errors", "p50", "p99", "max", "state p99", "state bytes"
    );
    if let Some(windows) = r["windows"].as_array() {
        for w in windows {
            let _ = writeln!(
                out,
                "{:<10} {:>8} {:>7} {:>9} {:>9} {:>9} {:>12} {:>14}",
                format!("{}-{}", w["from_s"], w["to_s"]),
                cell(&w["requests"]),
                cell(&w["errors"]),
                cell(&w["p50"]),
                cell(&w["p99"]),
                cell(&w["max"]),
                cell(&w["state_p99"]),
                cell(&w["state_response_bytes_max"]),
            );
        }
    }
    let s = &r["sse"];
    let _ = writeln!(
        out,
        "\nevent streams: {} clients, {} connected before the load, {} connected, {} dropped; connect p50 {} ms, max {} ms",
        s["clients"],
        s["connected_before_load"],
        s["connected"],
        s["dropped"],
        s["connect_ms"]["p50"],
        s["connect_ms"]["max"],
    );
    let _ = writeln!(
        out,
        "entries per client: min {}, median {}, max {}; decisions logged {}, missed {} (clients missing any: {}), duplicates {}, resyncs {}",
        s["entries_per_client"]["min"],
        s["entries_per_client"]["median"],
        s["entries_per_client"]["max"],
        s["decisions_logged_ok"],
        s["decisions_missed"],
        s["clients_missing_any"],
        s["duplicates"],
        s["resyncs"],
    );
    let d = &s["delivery_latency_ms"];
    let _ = writeln!(
        out,
        "delivery latency (POST sent -> event received), {} deliveries: p50 {} ms, p90 {} ms, p99 {} ms, max {} ms",
        d["count"], d["p50"], d["p90"], d["p99"], d["max"]
    );
    if let Some(reasons) = s["drop_reasons"].as_array()
        && !reasons.is_empty()
    {
        let _ = writeln!(out, "drop reasons (first 5): {reasons:?}");
    }
    if let Some(examples) = q["transport_error_examples"].as_array()
        && !examples.is_empty()
    {
        let _ = writeln!(out, "transport errors (first 5): {examples:?}");
    }
    if let Some(logs) = r["exercises_after"].as_array()
        && logs.len() > 3
    {
        let mut entries: Vec<u64> = logs.iter().filter_map(|l| l["entries"].as_u64()).collect();
        let mut state: Vec<u64> = logs
            .iter()
            .filter_map(|l| l["state_response_bytes"].as_u64())
            .collect();
        entries.sort_unstable();
        state.sort_unstable();
        let _ = writeln!(
            out,
            "{} exercises after the run: {}-{} log entries each (median {}); state response up to {} bytes",
            logs.len(),
            entries.first().copied().unwrap_or(0),
            entries.last().copied().unwrap_or(0),
            entries.get(entries.len() / 2).copied().unwrap_or(0),
            state.last().copied().unwrap_or(0),
        );
    } else if let Some(logs) = r["exercises_after"].as_array() {
        for l in logs {
            let _ = writeln!(
                out,
                "exercise {} after the run: {} log entries; state response {} bytes, log response {} bytes",
                l["id"], l["entries"], l["state_response_bytes"], l["log_response_bytes"]
            );
        }
    }
    let _ = writeln!(
        out,
        "generator CPU during the load: {} s user, {} s system",
        r["generator_cpu_s"]["user"], r["generator_cpu_s"]["system"]
    );
    let sc = &r["server_cpu_during_load"];
    if !sc.is_null() {
        let _ = writeln!(
            out,
            "server CPU during the load: {} s user, {} s system = {} cores, {} ms a request",
            sc["user_s"], sc["system_s"], sc["cores"], sc["ms_per_request"]
        );
    }
    let t = &r["target"];
    let _ = writeln!(
        out,
        "target p99 < {} ms, no errors, every stream clean: {} (p99 {}, errors {}, streams {})",
        t["p99_ms"],
        if t["met"].as_bool() == Some(true) {
            "MET"
        } else {
            "NOT MET"
        },
        if t["p99_met"].as_bool() == Some(true) {
            "ok"
        } else {
            "over"
        },
        if t["no_errors"].as_bool() == Some(true) {
            "none"
        } else {
            "some"
        },
        if t["streams_clean"].as_bool() == Some(true) {
            "ok"
        } else {
            "not clean"
        },
    );
    out
}
