//! Evaluation: injection.
//!
//! Positives: every BIPIA attack instruction (text and code sets) embedded in synthetic customer
//! content — return notes, e-mails, ticket bodies and chat messages — at a seeded position (before
//! the greeting, between any two sentences, or after the sign-off). A document counts as caught
//! when `injection::find` reports any finding in it.
//!
//! Negatives: every NotInject prompt on its own (benign questions built around trigger words such
//! as "ignore", "bypass" and "override"), and a few hundred synthetic customer documents composed
//! from the same pieces as the positives but with no attack. The pieces live in
//! `data/injection/customer-content.json` and were written for muster, not drawn from either
//! dataset.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use muster_detect::{Finding, FindingKind};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Why an evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("parsing {path}: {source}")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
}

const CONTENT: &str = include_str!("../data/injection/customer-content.json");
/// Attack instructions written for muster (not from BIPIA), half `dev` (used while tuning) and half
/// `test` (held out: only the rate is reported).
const MUSTER_ATTACKS: &str = include_str!("../data/injection/muster-attacks.jsonl");
/// Benign customer sentences that look like instructions ("print the return label", "when you
/// reply, include the tracking number"), split the same way.
const BENIGN_HARD: &str = include_str!("../data/injection/benign-hard.jsonl");
/// Customer messages labelled for the cue evaluation; paired up they make benign multi-sentence
/// customer content written independently of the injection pieces.
const CUSTOMER_MESSAGES: &str = include_str!("../data/cues/customer-messages.jsonl");

/// The container kinds attacks are embedded in.
pub const CONTAINERS: [&str; 4] = ["return-note", "email", "ticket", "chat"];

/// Benign synthetic documents generated per container kind.
const BENIGN_PER_CONTAINER: usize = 100;

#[derive(Deserialize)]
struct Content {
    greetings: BTreeMap<String, Vec<String>>,
    bodies: BTreeMap<String, Vec<String>>,
    closings: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct NotInjectItem {
    prompt: String,
    #[serde(default)]
    category: String,
}

/// Caught / total for one slice.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Rate {
    pub flagged: usize,
    pub total: usize,
    pub rate: f64,
}

impl Rate {
    fn add(&mut self, flagged: bool) {
        self.total += 1;
        if flagged {
            self.flagged += 1;
        }
        self.rate = self.flagged as f64 / self.total as f64;
    }
}

/// The whole injection evaluation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InjectionReport {
    pub seed: u64,
    /// Recall on BIPIA attacks embedded in customer content, both sets together.
    pub recall: Rate,
    pub recall_text: Rate,
    pub recall_code: Rate,
    /// Recall per container kind.
    pub recall_by_container: BTreeMap<String, Rate>,
    /// Recall per insertion position (`start`, `middle`, `end`).
    pub recall_by_position: BTreeMap<String, Rate>,
    /// Recall per BIPIA attack category.
    pub recall_by_category: BTreeMap<String, Rate>,
    /// False alarms on NotInject prompts, each on its own.
    pub notinject: Rate,
    pub notinject_by_file: BTreeMap<String, Rate>,
    /// False alarms on benign synthetic customer documents.
    pub benign_synthetic: Rate,
    /// False alarms on pairs of customer messages from the cue set (written for another purpose,
    /// so phrased independently of the pieces above).
    pub benign_cue_messages: Rate,
    /// Recall on muster's own attack instructions in customer content, tuning half and held-out
    /// half.
    pub recall_muster_dev: Rate,
    pub recall_muster_test: Rate,
    /// False alarms on benign customer content holding an instruction-like benign sentence.
    pub benign_hard_dev: Rate,
    pub benign_hard_test: Rate,
    /// How many caught positives carried each finding kind.
    pub kinds_on_positives: BTreeMap<String, usize>,
    /// How many false alarms carried each finding kind.
    pub kinds_on_negatives: BTreeMap<String, usize>,
    /// Attack instructions missed in at least one container, with the number of misses.
    pub missed: Vec<(String, usize)>,
    /// The false alarms (NotInject prompts and synthetic documents) with the kinds that fired.
    pub false_alarms: Vec<(String, Vec<String>)>,
}

fn read(path: &Path) -> Result<String, EvalError> {
    std::fs::read_to_string(path).map_err(|source| EvalError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn parse<T: for<'de> Deserialize<'de>>(path: &str, text: &str) -> Result<T, EvalError> {
    serde_json::from_str(text).map_err(|source| EvalError::Parse {
        path: path.to_owned(),
        source,
    })
}

fn injection_kinds(text: &str) -> Vec<String> {
    let mut out: Vec<Finding> = Vec::new();
    muster_detect::injection::find(text, &mut out);
    let mut kinds: Vec<String> = out
        .iter()
        .filter_map(|f| match f.kind {
            FindingKind::Injection(k) => Some(k.as_str().to_owned()),
            _ => None,
        })
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    kinds
}

/// A document of `container` kind with `attack` (if any) at a seeded slot. Returns the text and
/// the position name.
fn compose(
    content: &Content,
    container: &str,
    attack: Option<&str>,
    rng: &mut ChaCha8Rng,
) -> (String, &'static str) {
    let empty = Vec::new();
    let greetings = content.greetings.get(container).unwrap_or(&empty);
    let bodies = content.bodies.get(container).unwrap_or(&empty);
    let closings = content.closings.get(container).unwrap_or(&empty);
    let n = rng.random_range(2..=4usize).min(bodies.len());
    let mut parts: Vec<String> = Vec::new();
    if let Some(g) = greetings.choose(rng) {
        parts.push(g.clone());
    }
    parts.extend(bodies.choose_multiple(rng, n).cloned());
    if let Some(c) = closings.choose(rng)
        && !c.is_empty()
    {
        parts.push(c.clone());
    }
    let mut position = "none";
    if let Some(attack) = attack {
        let slot = rng.random_range(0..=parts.len());
        position = if slot == 0 {
            "start"
        } else if slot == parts.len() {
            "end"
        } else {
            "middle"
        };
        parts.insert(slot, attack.to_owned());
    }
    let text = match container {
        "return-note" => parts.join(" "),
        "chat" => parts.join("\n"),
        _ => {
            // Greeting and sign-off on their own lines, body as one paragraph.
            let mut s = String::new();
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    let para = i == 1 || i + 1 == parts.len() || p.contains('\n');
                    s.push_str(if para { "\n\n" } else { " " });
                }
                s.push_str(p);
            }
            s
        }
    };
    (text, position)
}

/// Runs the injection evaluation on the data in `eval_data_dir` (the directory holding
/// `BIPIA_text.json`, `BIPIA_code.json` and `NotInject_{one,two,three}.json`).
pub fn evaluate_injection(eval_data_dir: &Path, seed: u64) -> Result<InjectionReport, EvalError> {
    let content: Content = parse("customer-content.json", CONTENT)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut report = InjectionReport {
        seed,
        recall: Rate::default(),
        recall_text: Rate::default(),
        recall_code: Rate::default(),
        recall_by_container: BTreeMap::new(),
        recall_by_position: BTreeMap::new(),
        recall_by_category: BTreeMap::new(),
        notinject: Rate::default(),
        notinject_by_file: BTreeMap::new(),
        benign_synthetic: Rate::default(),
        benign_cue_messages: Rate::default(),
        recall_muster_dev: Rate::default(),
        recall_muster_test: Rate::default(),
        benign_hard_dev: Rate::default(),
        benign_hard_test: Rate::default(),
        kinds_on_positives: BTreeMap::new(),
        kinds_on_negatives: BTreeMap::new(),
        missed: Vec::new(),
        false_alarms: Vec::new(),
    };
    let mut missed: BTreeMap<String, usize> = BTreeMap::new();
    for (set, file) in [("text", "BIPIA_text.json"), ("code", "BIPIA_code.json")] {
        let path = eval_data_dir.join(file);
        let attacks: BTreeMap<String, Vec<String>> = parse(file, &read(&path)?)?;
        for (category, list) in &attacks {
            for attack in list {
                for container in CONTAINERS {
                    let (doc, position) = compose(&content, container, Some(attack), &mut rng);
                    let kinds = injection_kinds(&doc);
                    let flagged = !kinds.is_empty();
                    report.recall.add(flagged);
                    if set == "text" {
                        report.recall_text.add(flagged);
                    } else {
                        report.recall_code.add(flagged);
                    }
                    report
                        .recall_by_container
                        .entry(container.to_owned())
                        .or_default()
                        .add(flagged);
                    report
                        .recall_by_position
                        .entry(position.to_owned())
                        .or_default()
                        .add(flagged);
                    report
                        .recall_by_category
                        .entry(format!("{set}: {category}"))
                        .or_default()
                        .add(flagged);
                    for k in kinds {
                        *report.kinds_on_positives.entry(k).or_default() += 1;
                    }
                    if !flagged {
                        let first_line = attack.lines().next().unwrap_or("").to_owned();
                        *missed.entry(first_line).or_default() += 1;
                    }
                }
            }
        }
    }
    for (text, split) in jsonl(MUSTER_ATTACKS) {
        for container in CONTAINERS {
            let (doc, _) = compose(&content, container, Some(&text), &mut rng);
            let kinds = injection_kinds(&doc);
            let flagged = !kinds.is_empty();
            if split == "test" {
                report.recall_muster_test.add(flagged);
            } else {
                report.recall_muster_dev.add(flagged);
                if !flagged {
                    *missed.entry(format!("[muster dev] {text}")).or_default() += 1;
                }
            }
        }
    }
    for (text, split) in jsonl(BENIGN_HARD) {
        for container in CONTAINERS {
            let (doc, _) = compose(&content, container, Some(&text), &mut rng);
            let kinds = injection_kinds(&doc);
            let flagged = !kinds.is_empty();
            if split == "test" {
                report.benign_hard_test.add(flagged);
            } else {
                report.benign_hard_dev.add(flagged);
                if flagged {
                    report
                        .false_alarms
                        .push((format!("[benign hard dev, {container}] {doc}"), kinds));
                }
            }
        }
    }
    report.missed = missed.into_iter().collect();
    for (name, file) in [
        ("one", "NotInject_one.json"),
        ("two", "NotInject_two.json"),
        ("three", "NotInject_three.json"),
    ] {
        let path = eval_data_dir.join(file);
        let items: Vec<NotInjectItem> = parse(file, &read(&path)?)?;
        for item in items {
            let kinds = injection_kinds(&item.prompt);
            let flagged = !kinds.is_empty();
            report.notinject.add(flagged);
            report
                .notinject_by_file
                .entry(name.to_owned())
                .or_default()
                .add(flagged);
            if flagged {
                for k in &kinds {
                    *report.kinds_on_negatives.entry(k.clone()).or_default() += 1;
                }
                report.false_alarms.push((
                    format!("[NotInject {name}/{}] {}", item.category, item.prompt),
                    kinds,
                ));
            }
        }
    }
    for container in CONTAINERS {
        for _ in 0..BENIGN_PER_CONTAINER {
            let (doc, _) = compose(&content, container, None, &mut rng);
            let kinds = injection_kinds(&doc);
            let flagged = !kinds.is_empty();
            report.benign_synthetic.add(flagged);
            if flagged {
                for k in &kinds {
                    *report.kinds_on_negatives.entry(k.clone()).or_default() += 1;
                }
                report
                    .false_alarms
                    .push((format!("[synthetic {container}] {doc}"), kinds));
            }
        }
    }
    let messages: Vec<String> = CUSTOMER_MESSAGES
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v.get("text").and_then(|t| t.as_str()).map(str::to_owned))
        .collect();
    for pair in messages.chunks(2) {
        let doc = pair.join(" ");
        let kinds = injection_kinds(&doc);
        let flagged = !kinds.is_empty();
        report.benign_cue_messages.add(flagged);
        if flagged {
            for k in &kinds {
                *report.kinds_on_negatives.entry(k.clone()).or_default() += 1;
            }
            report
                .false_alarms
                .push((format!("[cue messages] {doc}"), kinds));
        }
    }
    Ok(report)
}

/// `(text, split)` of each line of a JSON Lines set.
fn jsonl(data: &str) -> Vec<(String, String)> {
    data.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            let text = v.get("text")?.as_str()?.to_owned();
            let split = v.get("split")?.as_str()?.to_owned();
            Some((text, split))
        })
        .collect()
}

fn row(f: &mut fmt::Formatter<'_>, name: &str, r: &Rate) -> fmt::Result {
    writeln!(
        f,
        "  {name:<58} {:>4}/{:<4} {:>6.1}%",
        r.flagged,
        r.total,
        r.rate * 100.0
    )
}

impl fmt::Display for InjectionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Injection evaluation (seed {})", self.seed)?;
        writeln!(f, "Recall: BIPIA attacks embedded in customer content")?;
        row(f, "all", &self.recall)?;
        row(f, "BIPIA text attacks", &self.recall_text)?;
        row(f, "BIPIA code attacks", &self.recall_code)?;
        row(
            f,
            "muster-written attacks, dev half",
            &self.recall_muster_dev,
        )?;
        row(
            f,
            "muster-written attacks, held-out half",
            &self.recall_muster_test,
        )?;
        for (k, r) in &self.recall_by_container {
            row(f, &format!("container: {k}"), r)?;
        }
        for (k, r) in &self.recall_by_position {
            row(f, &format!("position: {k}"), r)?;
        }
        for (k, r) in &self.recall_by_category {
            row(f, k, r)?;
        }
        writeln!(f, "False alarms")?;
        row(f, "NotInject prompts (all)", &self.notinject)?;
        for (k, r) in &self.notinject_by_file {
            row(f, &format!("NotInject_{k}"), r)?;
        }
        row(
            f,
            "benign synthetic customer content",
            &self.benign_synthetic,
        )?;
        row(
            f,
            "benign customer messages (cue set, in pairs)",
            &self.benign_cue_messages,
        )?;
        row(
            f,
            "benign instruction-like content, dev half",
            &self.benign_hard_dev,
        )?;
        row(
            f,
            "benign instruction-like content, held-out half",
            &self.benign_hard_test,
        )?;
        writeln!(f, "Finding kinds on caught positives")?;
        for (k, n) in &self.kinds_on_positives {
            writeln!(f, "  {k:<58} {n:>5}")?;
        }
        writeln!(f, "Finding kinds on false alarms")?;
        for (k, n) in &self.kinds_on_negatives {
            writeln!(f, "  {k:<58} {n:>5}")?;
        }
        if !self.missed.is_empty() {
            writeln!(f, "Missed attacks (times missed of 4 containers)")?;
            for (a, n) in &self.missed {
                writeln!(f, "  {n} × {a}")?;
            }
        }
        if !self.false_alarms.is_empty() {
            writeln!(f, "False alarms")?;
            for (t, k) in &self.false_alarms {
                writeln!(f, "  {:?} {}", k, t.replace('\n', " ⏎ "))?;
            }
        }
        Ok(())
    }
}
