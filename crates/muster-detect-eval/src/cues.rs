//! Evaluation: escalation cues in customer messages and commitments in agent replies.
//!
//! Both sets are JSON Lines written by hand *before* the rules, independently of the lexicons:
//! `data/cues/customer-messages.jsonl` (customer messages labelled with cue kinds) and
//! `data/cues/commitment-replies.jsonl` (agent replies labelled with commitment topics). Each
//! carries hard negatives — refusals, hedges, conditionals, questions, third-party promises,
//! negated cues and everyday uses of trigger words. Every third line is `"split":"test"`, held out:
//! the rules were tuned on `train` only, and the report lists errors for `train` only so that
//! reading it never reveals the held-out items.
//!
//! Scores are per label: a true positive is a label both in the gold set and predicted for the
//! same item. Overall figures are micro-averaged over labels.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

const CUE_MESSAGES: &str = include_str!("../data/cues/customer-messages.jsonl");
const COMMITMENT_REPLIES: &str = include_str!("../data/cues/commitment-replies.jsonl");

#[derive(Deserialize)]
struct Item {
    text: String,
    labels: Vec<String>,
    split: String,
}

/// Precision and recall for one label.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct LabelScore {
    pub label: String,
    /// Items carrying the label in the gold set.
    pub support: usize,
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl LabelScore {
    fn finish(&mut self) {
        self.precision = ratio(self.tp, self.tp + self.fp);
        self.recall = ratio(self.tp, self.tp + self.fn_);
        self.f1 = if self.precision + self.recall > 0.0 {
            2.0 * self.precision * self.recall / (self.precision + self.recall)
        } else {
            0.0
        };
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// Scores on one slice of the set.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct SplitScores {
    pub items: usize,
    /// Items with no gold label.
    pub negatives: usize,
    /// Items whose predicted label set equals the gold set.
    pub exact: usize,
    pub per_label: Vec<LabelScore>,
    pub overall: LabelScore,
}

/// One mistake on a training item.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Mistake {
    pub text: String,
    pub gold: Vec<String>,
    pub predicted: Vec<String>,
}

/// Precision and recall of a detector on a labelled set.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LabelledReport {
    pub name: String,
    /// The held-out third, never looked at while tuning.
    pub test: SplitScores,
    pub all: SplitScores,
    /// Mistakes on the training split only.
    pub train_mistakes: Vec<Mistake>,
}

pub type CuesReport = LabelledReport;
pub type CommitmentReport = LabelledReport;

fn score<'a>(
    labels: &[&str],
    items: impl Iterator<Item = (&'a Item, &'a BTreeSet<String>)>,
) -> SplitScores {
    let mut per: BTreeMap<&str, LabelScore> = labels
        .iter()
        .map(|l| {
            (
                *l,
                LabelScore {
                    label: (*l).to_owned(),
                    ..LabelScore::default()
                },
            )
        })
        .collect();
    let mut out = SplitScores::default();
    for (item, predicted) in items {
        out.items += 1;
        let gold: BTreeSet<String> = item.labels.iter().cloned().collect();
        if gold.is_empty() {
            out.negatives += 1;
        }
        if &gold == predicted {
            out.exact += 1;
        }
        for label in labels {
            let g = gold.contains(*label);
            let p = predicted.contains(*label);
            let Some(s) = per.get_mut(label) else {
                continue;
            };
            if g {
                s.support += 1;
            }
            match (g, p) {
                (true, true) => s.tp += 1,
                (false, true) => s.fp += 1,
                (true, false) => s.fn_ += 1,
                (false, false) => {}
            }
        }
    }
    let mut overall = LabelScore {
        label: "overall (micro)".to_owned(),
        ..LabelScore::default()
    };
    for s in per.values_mut() {
        s.finish();
        overall.support += s.support;
        overall.tp += s.tp;
        overall.fp += s.fp;
        overall.fn_ += s.fn_;
    }
    overall.finish();
    out.per_label = per.into_values().collect();
    out.overall = overall;
    out
}

fn evaluate(
    name: &str,
    data: &str,
    labels: &[&str],
    predict: impl Fn(&str) -> BTreeSet<String>,
) -> LabelledReport {
    let items: Vec<Item> = data
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let predicted: Vec<BTreeSet<String>> = items.iter().map(|i| predict(&i.text)).collect();
    let test = score(
        labels,
        items
            .iter()
            .zip(&predicted)
            .filter(|(i, _)| i.split == "test"),
    );
    let all = score(labels, items.iter().zip(&predicted));
    let train_mistakes = items
        .iter()
        .zip(&predicted)
        .filter(|(i, p)| {
            i.split != "test" && i.labels.iter().cloned().collect::<BTreeSet<_>>() != **p
        })
        .map(|(i, p)| Mistake {
            text: i.text.clone(),
            gold: i.labels.clone(),
            predicted: p.iter().cloned().collect(),
        })
        .collect();
    LabelledReport {
        name: name.to_owned(),
        test,
        all,
        train_mistakes,
    }
}

/// Escalation cues on labelled customer messages.
pub fn evaluate_cues() -> CuesReport {
    let labels: Vec<&str> = muster_detect::CueKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect();
    evaluate(
        "escalation cues (customer messages)",
        CUE_MESSAGES,
        &labels,
        |text| {
            muster_detect::escalation::cues(text)
                .into_iter()
                .map(|k| k.as_str().to_owned())
                .collect()
        },
    )
}

/// Commitments on labelled agent replies.
pub fn evaluate_commitments() -> CommitmentReport {
    let labels: Vec<&str> = muster_detect::Topic::ALL
        .iter()
        .map(|t| t.as_str())
        .collect();
    evaluate(
        "commitments (agent replies)",
        COMMITMENT_REPLIES,
        &labels,
        |text| {
            muster_detect::commitments(text)
                .into_iter()
                .map(|c| c.topic.as_str().to_owned())
                .collect()
        },
    )
}

fn table(f: &mut fmt::Formatter<'_>, title: &str, s: &SplitScores) -> fmt::Result {
    writeln!(
        f,
        "{title}: {} items ({} with no label), exact label set on {} ({:.1}%)",
        s.items,
        s.negatives,
        s.exact,
        ratio(s.exact, s.items) * 100.0
    )?;
    writeln!(
        f,
        "  {:<28} {:>7} {:>4} {:>4} {:>4} {:>9} {:>7} {:>6}",
        "label", "support", "tp", "fp", "fn", "precision", "recall", "f1"
    )?;
    for l in s.per_label.iter().chain(std::iter::once(&s.overall)) {
        writeln!(
            f,
            "  {:<28} {:>7} {:>4} {:>4} {:>4} {:>9.3} {:>7.3} {:>6.3}",
            l.label, l.support, l.tp, l.fp, l.fn_, l.precision, l.recall, l.f1
        )?;
    }
    Ok(())
}

impl fmt::Display for LabelledReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "== {} ==", self.name)?;
        table(f, "Held-out (test split)", &self.test)?;
        table(f, "All", &self.all)?;
        if !self.train_mistakes.is_empty() {
            writeln!(
                f,
                "Mistakes on the training split ({})",
                self.train_mistakes.len()
            )?;
            for m in &self.train_mistakes {
                writeln!(
                    f,
                    "  gold {:?} predicted {:?}: {}",
                    m.gold, m.predicted, m.text
                )?;
            }
        }
        Ok(())
    }
}
