//! The exercise console end to end in headless Chromium, driven through WebDriver (chromedriver
//! and the `fantoccini` client), everything over loopback.
//!
//! One exercise is run by seven people, each signing in through the log-in form: the facilitator
//! creates and starts it and an inject is released on schedule; the incident lead logs a decision
//! with an open question that legal answers; the comms lead drafts and the incident lead approves;
//! an observer sees the drill's evidence redacted and cannot ask for it raw; the DPO reads it raw
//! with a reason; an auditor finds that read in the access audit.
//!
//! Needs `chromium` and `chromedriver` (Debian's `chromium` and `chromium-driver`, which
//! `scripts/test.sh` installs). Without them the test is skipped with a loud message, except
//! under `CI=true`, where a missing browser is a failure. `MUSTER_CHROMIUM` and
//! `MUSTER_CHROMEDRIVER` point at other binaries. With `MUSTER_SCREENSHOTS=DIR` (relative to the
//! workspace root) the test also saves the screenshots in `docs/images/` (`console-*.png`) into
//! DIR; `docs/console-screenshots.md` shows them.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::common::{TestEnv, repo};

/// How long any one thing may take to appear in the browser.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How often to look again.
const POLL: Duration = Duration::from_millis(100);
const WIDTH: u32 = 1400;
const HEIGHT: u32 = 1000;
/// Screenshots are cut off below this height (PNG size), and not shorter than the minimum.
const MAX_SHOT_HEIGHT: u64 = 2400;
const MIN_SHOT_HEIGHT: u64 = 480;
const PASSWORD: &str = "correct-horse-battery-staple";
/// A name in the drill's evidence: the planted note about another customer ("Ms Price").
const PERSONAL: &str = "Ms Price";

/// A child process (and its process group: chromedriver's browsers) killed when dropped, even
/// when the test fails. When the test fails, its log is printed.
struct Guard {
    name: &'static str,
    child: Child,
    group: bool,
    log: PathBuf,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.group {
            // chromedriver leads its own process group; Chromium's processes are in it.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!(
                "--- last lines of {}'s log ({}):",
                self.name,
                self.log.display()
            );
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The file the environment variable `var` names, else the first of `names` on PATH.
fn locate(var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(var) {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// Chromium and chromedriver, or `None` (after saying so loudly) when they are missing and this
/// is not CI.
fn browser() -> Option<(PathBuf, PathBuf)> {
    let chromium = locate("MUSTER_CHROMIUM", &["chromium", "chromium-browser"]);
    let driver = locate("MUSTER_CHROMEDRIVER", &["chromedriver"]);
    match (chromium, driver) {
        (Some(c), Some(d)) => Some((c, d)),
        (c, d) => {
            let missing = [
                c.is_none().then_some("chromium"),
                d.is_none().then_some("chromedriver"),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" and ");
            assert!(
                !is_ci(),
                "{missing} not found: the browser tests need them under CI=true \
                 (scripts/test.sh installs Debian's chromium and chromium-driver)"
            );
            // Straight to stderr, past the test harness's capture, so a skip is never silent.
            let _ = writeln!(
                std::io::stderr(),
                "\n\n!!! SKIPPING the console browser test: {missing} not found.\n\
                 !!! Install them (apt-get install chromium chromium-driver) or set \
                 MUSTER_CHROMIUM / MUSTER_CHROMEDRIVER. Under CI=true this is a failure.\n"
            );
            None
        }
    }
}

/// The lines a child writes to stdout, on a channel (the reader thread drains it to the end).
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    if let Some(out) = child.stdout.take() {
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    rx
}

/// Waits for a line containing `needle`; `None` if the child closed its output or time ran out.
fn wait_for_line(lines: &mpsc::Receiver<String>, needle: &str) -> Option<String> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return Some(line),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
}

fn log_file(env: &TestEnv, name: &str) -> (PathBuf, File) {
    let path = env.path().join(name);
    let file = File::create(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (path, file)
}

/// `chromedriver` on a free loopback port. It needs a fixed port, so one is picked by binding
/// port 0 first; should another process take it in between, a new one is tried.
fn start_chromedriver(env: &TestEnv, driver: &Path) -> (Guard, String) {
    for _attempt in 0..3 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("no free port: {e}"));
        let (log, err) = log_file(env, "chromedriver.log");
        let mut child = Command::new(driver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(err)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display()));
        let lines = lines_of(&mut child);
        let guard = Guard {
            name: "chromedriver",
            child,
            group: true,
            log,
        };
        if wait_for_line(&lines, "started successfully").is_some() {
            // Keep draining its output.
            std::thread::spawn(move || for _ in lines {});
            return (guard, format!("http://127.0.0.1:{port}"));
        }
    }
    panic!("chromedriver did not start (three ports tried)");
}

/// `muster serve --listen 127.0.0.1:0` on the store.
fn start_console(env: &TestEnv, store: &str) -> (Guard, String) {
    let (log, err) = log_file(env, "serve.log");
    let mut child = env
        .command(&["--store", store, "serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start muster serve: {e}"));
    let lines = lines_of(&mut child);
    let guard = Guard {
        name: "muster serve",
        child,
        group: false,
        log,
    };
    let line = wait_for_line(&lines, "muster console on http://")
        .unwrap_or_else(|| panic!("muster serve did not say where it listens"));
    std::thread::spawn(move || for _ in lines {});
    let at = line.find("http://").unwrap_or_default();
    let url = line[at..]
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_owned();
    (guard, url)
}

/// A sealed drill of one scenario against the reference agent, in `store`; returns its id.
fn drill_into(env: &TestEnv, store: &str) -> String {
    let agent = crate::test_drill::serve(env, &[]);
    let manifest = repo().join("library/reference/agent.yaml");
    let scenario = repo().join("library/scenarios/cross-account-billing-note.yaml");
    let run = env.run(&[
        "--store",
        store,
        "drill",
        "--agent",
        &manifest.display().to_string(),
        "--scenarios",
        &scenario.display().to_string(),
        "--base-url",
        &agent.url,
        "--repeat",
        "1",
        "--no-lock",
        "--json",
    ]);
    assert_eq!(
        run.code, 1,
        "the flawed agent leaks the note: {}",
        run.stderr
    );
    run.json()["drill_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no drill id: {}", run.stdout))
        .to_owned()
}

fn add_user(env: &TestEnv, store: &str, username: &str, name: &str, role: &str) {
    let mut args = vec![
        "--store", store, "console", "add-user", username, "--name", name, "--role", role,
    ];
    if role == "facilitator" {
        args.push("--admin");
    }
    let out = env
        .command(&args)
        .env("MUSTER_CONSOLE_PASSWORD", PASSWORD)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "add-user {username}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The browser session and where the console is.
struct Browser {
    client: Client,
    base: String,
    shots: Option<PathBuf>,
}

impl Browser {
    async fn connect(webdriver: &str, chromium: &Path, profile: &Path, base: String) -> Self {
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.display().to_string(),
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    "--disable-extensions",
                    "--hide-scrollbars",
                    "--force-device-scale-factor=1",
                    "--lang=en-GB",
                    format!("--window-size={WIDTH},{HEIGHT}"),
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        });
        let Value::Object(caps) = caps else {
            unreachable!("a JSON object")
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(webdriver)
            .await
            .unwrap_or_else(|e| panic!("cannot open a WebDriver session: {e}"));
        // A relative directory is taken from the workspace root (cargo runs tests in the crate's).
        let shots = std::env::var_os("MUSTER_SCREENSHOTS").map(|d| repo().join(d));
        if let Some(dir) = &shots {
            std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        }
        Self {
            client,
            base,
            shots,
        }
    }

    async fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    /// Polls `check` until it gives a value or [`TIMEOUT`] passes; every error counts as "not
    /// yet" (a page may be mid-navigation).
    async fn until<T>(&self, what: &str, mut check: impl AsyncFnMut(&Client) -> Option<T>) -> T {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(value) = check(&self.client).await {
                return value;
            }
            if Instant::now() >= deadline {
                let url = self
                    .client
                    .current_url()
                    .await
                    .map(|u| u.to_string())
                    .unwrap_or_default();
                let text = match self.client.find(Locator::Css("main")).await {
                    Ok(main) => main.text().await.unwrap_or_default(),
                    Err(_) => String::new(),
                };
                panic!("timed out after {TIMEOUT:?} waiting for {what}\nat {url}:\n{text}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The element `css` matches, once there is one.
    async fn find(&self, css: &str) -> Element {
        self.until(css, async |c| c.find(Locator::Css(css)).await.ok())
            .await
    }

    /// The first element `css` matches whose text contains `needle`.
    async fn find_text(&self, css: &str, needle: &str) -> Element {
        self.until(&format!("{css} containing {needle:?}"), async |c| {
            for e in c.find_all(Locator::Css(css)).await.ok()? {
                if e.text().await.is_ok_and(|t| t.contains(needle)) {
                    return Some(e);
                }
            }
            None
        })
        .await
    }

    async fn absent(&self, css: &str) -> bool {
        self.client
            .find_all(Locator::Css(css))
            .await
            .map(|all| all.is_empty())
            .unwrap_or_else(|e| panic!("{css}: {e}"))
    }

    async fn source(&self) -> String {
        self.client
            .source()
            .await
            .unwrap_or_else(|e| panic!("no page source: {e}"))
    }

    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        element
            .clear()
            .await
            .unwrap_or_else(|e| panic!("cannot clear {css}: {e}"));
        element
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("cannot type into {css}: {e}"));
    }

    async fn select(&self, css: &str, value: &str) {
        self.find(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("cannot select {value:?} in {css}: {e}"));
    }

    async fn sign_in(&self, username: &str) {
        self.goto("/login").await;
        self.type_into("#username", username).await;
        self.type_into("#password", PASSWORD).await;
        self.click("#sign-in").await;
        // Only signed-in pages have the sign-out form; a failed sign-in returns to /login.
        self.find("form.signout .who").await;
    }

    async fn sign_out(&self) {
        if self.absent("form.signout").await {
            // Error pages carry no header; any other page does.
            self.goto("/").await;
        }
        self.click("form.signout button").await;
        self.find("#sign-in").await;
    }

    /// With `MUSTER_SCREENSHOTS`, the page down to the bottom of `until` (the page's content
    /// when `None`), at most [`MAX_SHOT_HEIGHT`] high, as `DIR/name`.
    async fn shot(&self, name: &str, until: Option<&str>) {
        let Some(dir) = &self.shots else { return };
        let c = &self.client;
        let measured = c
            .execute(
                "const e = document.querySelector(arguments[0]);
                 return [Math.ceil(e.getBoundingClientRect().bottom + window.scrollY), window.innerHeight];",
                vec![json!(until.unwrap_or("main"))],
            )
            .await
            .unwrap_or_else(|e| panic!("cannot measure the page: {e}"));
        let bottom = measured[0].as_u64().unwrap_or(u64::from(HEIGHT)) + 16;
        let inner = measured[1].as_u64().unwrap_or(u64::from(HEIGHT));
        // The window is taller than the page it shows (headless Chromium keeps room for its UI).
        let frame = u64::from(HEIGHT).saturating_sub(inner);
        let tall =
            u32::try_from(bottom.clamp(MIN_SHOT_HEIGHT, MAX_SHOT_HEIGHT) + frame).unwrap_or(HEIGHT);
        c.set_window_size(WIDTH, tall)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let png = c.screenshot().await.unwrap_or_else(|e| panic!("{e}"));
        c.set_window_size(WIDTH, HEIGHT)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let path = dir.join(name);
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

#[test]
fn an_exercise_in_the_browser_from_sign_in_to_the_access_audit() {
    let Some((chromium, driver)) = browser() else {
        return;
    };
    let env = TestEnv::new();
    let store = "console.db";
    let drill_id = drill_into(&env, store);
    for (username, name, role) in [
        ("fay", "Fay Fairweather", "facilitator"),
        ("ivy", "Ivy Ingram", "incident-lead"),
        ("dee", "Dee Okafor", "dpo"),
        ("obi", "Obi Mensah", "observer"),
        ("col", "Col Byrne", "comms-lead"),
        ("leo", "Leo Hartley", "legal"),
        ("aud", "Ada Ulrich", "auditor"),
    ] {
        add_user(&env, store, username, name, role);
    }
    let (_console, base) = start_console(&env, store);
    let (_driver, webdriver) = start_chromedriver(&env, &driver);
    let profile = env.path().join("chromium-profile");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(async {
        let b = Browser::connect(&webdriver, &chromium, &profile, base).await;
        exercise(&b, &drill_id).await;
        pack_of_the_exercise(&b, &env, store, &drill_id).await;
        let _ = b.client.close().await;
    });
}

async fn exercise(b: &Browser, drill_id: &str) {
    // The facilitator signs in and creates an exercise that reviews the drill.
    b.goto("/").await;
    b.find("#sign-in").await; // signed out: sent to the log-in page
    b.type_into("#username", "fay").await;
    b.shot("console-login.png", None).await;
    b.sign_in("fay").await;
    b.select(
        "#new-exercise select[name=scenario]",
        "cross-account-billing-note",
    )
    .await;
    b.type_into(
        "#new-exercise input[name=title]",
        "INC-4519 tabletop: another customer's billing note",
    )
    .await;
    // 600 exercise minutes a minute: the inject at minute 10 falls due a second after the start.
    b.type_into("#new-exercise input[name=clock_speed]", "600")
        .await;
    b.type_into(
        "#new-exercise textarea[name=injects]",
        "10 | Journalist calls | A journalist asks for comment by 17:00",
    )
    .await;
    b.click("#new-exercise input[name=personal_data_breach]")
        .await;
    b.select("#new-exercise select[name=drill_id]", drill_id)
        .await;
    b.click("#create-exercise").await;
    let head = b.find("#exercise").await;
    let id = head
        .attr("data-exercise")
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("the exercise page names its exercise"));
    let inject = b.find("#injects li[data-inject]").await;
    let class = inject
        .attr("class")
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    assert!(!class.contains("released"), "not released before the start");
    let page = format!("/exercises/{id}");

    // Start: the inject is released by the scheduler, and reaches the open page.
    b.click("#clock-start").await;
    b.find("#clock-pause").await;
    let live = b
        .find_text("#timeline li", "Inject: Journalist calls")
        .await
        .attr("class")
        .await
        .ok()
        .flatten()
        .is_some_and(|c| c.contains("fresh"));
    eprintln!(
        "the inject reached the page {}",
        if live {
            "live (server-sent event)"
        } else {
            "with the page load"
        }
    );
    let timeline = b.find("#timeline").await.text().await.unwrap_or_default();
    assert!(
        !timeline.contains("released early"),
        "released on schedule, not by hand: {timeline}"
    );
    b.client.refresh().await.unwrap_or_else(|e| panic!("{e}"));
    let inject = b.find("#injects li[data-inject].released").await;
    let text = inject.text().await.unwrap_or_default();
    assert!(text.contains("released"), "{text}");
    assert!(
        text.contains("A journalist asks for comment by 17:00"),
        "{text}"
    );
    b.sign_out().await;

    // The incident lead logs a decision with an open question, sets severity, records awareness.
    b.sign_in("ivy").await;
    b.goto(&page).await;
    b.click("details#log-decision-form summary").await;
    b.type_into(
        "#decision-form input[name=title]",
        "Switch off note retrieval",
    )
    .await;
    b.type_into(
        "#decision-form textarea[name=decision]",
        "Disable the billing-notes tool in the assistant until the cross-account lookup is fixed",
    )
    .await;
    b.type_into(
        "#decision-form textarea[name=rationale]",
        "Stops further disclosure while we investigate",
    )
    .await;
    b.type_into(
        "#decision-form textarea[name=facts]",
        "The assistant showed one customer another customer's note",
    )
    .await;
    b.type_into(
        "#decision-form textarea[name=open_questions]",
        "Did other customers see notes that are not theirs?",
    )
    .await;
    b.type_into(
        "#decision-form textarea[name=assumptions]",
        "The fault is in retrieval, not in the notes themselves",
    )
    .await;
    b.click("#log-decision").await;
    let decision = b
        .find_text("article.decision", "Switch off note retrieval")
        .await;
    let text = decision.text().await.unwrap_or_default();
    assert!(text.contains("Incident lead"), "owner: {text}");
    assert!(
        text.contains("First 15 minutes"),
        "the phase by its title: {text}"
    );
    b.find_text(
        "article.decision li.question",
        "Did other customers see notes that are not theirs?",
    )
    .await;
    b.find_text(
        "#timeline li",
        "Decision: Switch off note retrieval (1 open question)",
    )
    .await;
    b.select("#severity select[name=level]", "SEV1").await;
    b.type_into(
        "#severity input[name=rationale]",
        "Personal data disclosed to another customer",
    )
    .await;
    b.click("#severity form button[type=submit]").await;
    b.find("#severity .badge.sev").await;
    b.type_into(
        "form[action$='/awareness'] input[name=basis]",
        "DPO confirmed the disclosure from the chat transcript",
    )
    .await;
    b.click("form[action$='/awareness'] button").await;
    b.find("#reg-clocks").await;
    b.sign_out().await;

    // Legal answers the open question; the answer and its stamp (clock · who) are shown.
    b.sign_in("leo").await;
    b.goto(&page).await;
    b.type_into(
        "li.question form input[name=answer]",
        "Yes: two other customers, both in the last 24 hours",
    )
    .await;
    b.click("li.question form button").await;
    let answer = b
        .find_text("li.question .answer", "two other customers")
        .await;
    let stamp = answer
        .find(Locator::Css(".stamp"))
        .await
        .unwrap_or_else(|e| panic!("the answer is stamped: {e}"))
        .text()
        .await
        .unwrap_or_default();
    assert!(stamp.starts_with("T+") && stamp.contains("leo"), "{stamp}");
    b.sign_out().await;

    // The comms lead drafts; the comms lead may not approve.
    b.sign_in("col").await;
    b.goto(&page).await;
    b.click("#comms details summary").await;
    b.type_into("#comms-form input[name=audience]", "Affected customers")
        .await;
    b.select("#comms-form select[name=channel]", "customer")
        .await;
    b.type_into(
        "#comms-form textarea[name=body]",
        "We are sorry: a fault in our assistant showed a note from your account to another \
         customer. We have switched the feature off and are contacting everyone affected.",
    )
    .await;
    b.click("#draft-comms").await;
    let draft = b.find_text("article.comms", "Affected customers").await;
    assert!(
        draft.text().await.unwrap_or_default().contains("draft"),
        "a draft first"
    );
    assert!(
        b.absent("article.comms button.approve").await,
        "the comms lead cannot approve"
    );
    b.sign_out().await;

    // The incident lead approves.
    b.sign_in("ivy").await;
    b.goto(&page).await;
    b.click("article.comms button.approve").await;
    b.find_text("article.comms .badge.ok", "approved").await;
    b.find_text("#timeline li", "approved").await;
    b.shot("console-exercise.png", Some("#comms")).await;
    b.sign_out().await;

    // The observer sees the evidence redacted and is not offered the raw content.
    b.sign_in("obi").await;
    b.goto(&format!("{page}/evidence")).await;
    b.find("#redacted-mode").await;
    b.find("#raw-denied").await;
    assert!(b.absent("#show-raw").await, "no raw button for an observer");
    b.find_text("#evidence td.content", "[person-name]").await;
    let source = b.source().await;
    assert!(
        !source.contains(PERSONAL),
        "the observer's page holds no personal data"
    );
    b.goto("/audit").await;
    b.find_text("main .error", "read-access-audit").await;
    b.sign_out().await;

    // The DPO reads it raw, with a reason.
    b.sign_in("dee").await;
    b.goto(&format!("{page}/evidence")).await;
    b.find("#redacted-mode").await;
    assert!(!b.source().await.contains(PERSONAL), "redacted until asked");
    let reason = "ICO notifiability assessment for INC-4519";
    b.type_into("#raw-reason", reason).await;
    b.shot("console-evidence-redacted.png", None).await;
    b.click("#show-raw").await;
    b.find("#raw-mode").await;
    b.find_text("#evidence td.content", PERSONAL).await;
    b.shot("console-evidence-raw.png", None).await;
    b.sign_out().await;

    // The auditor finds the read in the access audit: who, through what, and why.
    b.sign_in("aud").await;
    b.goto("/audit").await;
    let row = b.find_text("#access-audit tr", reason).await;
    let cells = row
        .find_all(Locator::Css("td"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut texts = Vec::new();
    for cell in cells {
        texts.push(cell.text().await.unwrap_or_default());
    }
    assert_eq!(texts.get(1).map(String::as_str), Some("dee"), "{texts:?}");
    assert_eq!(
        texts.get(2).map(String::as_str),
        Some("console"),
        "{texts:?}"
    );
    assert!(
        texts.get(3).is_some_and(|w| w.contains(drill_id)),
        "{texts:?}"
    );
    b.shot("console-access-audit.png", None).await;
    b.sign_out().await;

    // The facilitator's list of exercises, with the form for a new one.
    b.sign_in("fay").await;
    b.find_text("#exercises li", "INC-4519 tabletop").await;
    b.shot("console-exercises.png", None).await;
    b.sign_out().await;
}

/// The facilitator records a remediation action; then the drill is packed with the exercise
/// around it, and the pack's page is read in the same browser: every section present and not
/// empty, nothing fetched from anywhere, the exercise's decision and action in it. The PDF says
/// the verdict and every heading (`pdftotext`).
async fn pack_of_the_exercise(b: &Browser, env: &TestEnv, store: &str, drill_id: &str) {
    const ACTION: &str = "Put the conversation transcript in every handover ticket";
    let form = "#hotwash form[action$='/hotwash/actions']";
    b.sign_in("fay").await;
    b.click("#exercises li a").await;
    b.type_into(&format!("{form} input[name=title]"), ACTION)
        .await;
    b.type_into(&format!("{form} input[name=owner]"), "Contact Centre Lead")
        .await;
    b.client
        .execute(
            &format!("document.querySelector(\"{form} input[name=due]\").value = '2026-12-18';"),
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    b.click(&format!("{form} button")).await;
    b.find_text("#hotwash td", ACTION).await;
    b.sign_out().await;

    let out = env.path().join("pack");
    let run = env.run(&[
        "--store",
        store,
        "pack",
        drill_id,
        "-o",
        &out.display().to_string(),
        "--json",
    ]);
    assert_eq!(run.code, 0, "muster pack: {}{}", run.stdout, run.stderr);
    let written = run.json();
    assert_eq!(written["verdict"], "fail", "{written}");
    let signer = written["signer"].as_str().unwrap_or_default().to_owned();
    let verify = env.run(&["verify", &out.display().to_string(), "--key", &signer]);
    assert_eq!(verify.code, 0, "muster verify: {}", verify.stdout);
    assert!(
        verify.stdout.contains("ok   exercise log: "),
        "the exercise's log is in the pack and checked: {}",
        verify.stdout
    );

    let url = format!("file://{}", out.join("index.html").display());
    b.client
        .goto(&url)
        .await
        .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    for (id, heading) in muster_pack::SECTIONS {
        let section = b.find(&format!("section#{id}")).await;
        let text = section.text().await.unwrap_or_default();
        assert!(
            text.starts_with(heading),
            "section {id} should open with {heading:?}: {text:.200}"
        );
        assert!(
            text[heading.len()..].trim().len() > 20,
            "section {id} is empty: {text:?}"
        );
    }
    let fetched = b
        .client
        .execute(
            "return performance.getEntriesByType('resource').length;",
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(fetched, json!(0), "the pack's page fetched something");
    let decisions = b
        .find("section#decisions")
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(decisions.contains("exercise"), "{decisions}");
    let remediation = b
        .find("section#remediation")
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(remediation.contains(ACTION), "{remediation}");
    let people = b
        .find("section#people")
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(
        people.contains("fay") && people.contains("exercise seat"),
        "{people}"
    );
    let summary = b
        .find("section#summary")
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(
        summary.contains("FAIL") || summary.contains("fail"),
        "{summary}"
    );
    b.shot("pack-summary.png", Some("section#summary")).await;

    let pdf = out.join("pack.pdf");
    if !pdf.is_file() {
        assert!(
            !muster_pack::renders_pdf(),
            "no pack.pdf from a build with the pdf feature"
        );
        return;
    }
    let text = match std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&pdf)
        .arg("-")
        .output()
    {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => panic!("pdftotext failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) if !is_ci() => {
            eprintln!(
                "SKIPPED the PDF text check: pdftotext is not installed ({e}); Debian: poppler-utils"
            );
            return;
        }
        Err(e) => panic!("pdftotext is required under CI=true (Debian: poppler-utils): {e}"),
    };
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.to_lowercase().contains("verdict"), "{flat:.500}");
    assert!(
        flat.contains("FAIL") || flat.contains("fail"),
        "{flat:.500}"
    );
    for (_, heading) in muster_pack::SECTIONS {
        assert!(
            flat.contains(heading),
            "pack.pdf has no heading {heading:?}"
        );
    }
}
