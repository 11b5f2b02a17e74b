//! `muster scan`: the detectors over text, a file, standard input or JSON Lines.

use std::io::{BufRead, BufReader, Read, Write};

use muster_detect::{Families, Family, Finding, redact, scan};
use serde_json::json;

use crate::cli::{ScanArgs, ScanFamily};
use crate::error::{CliError, exit};

/// Plain text is scanned in blocks of about this many bytes, cut at line ends, so memory stays
/// flat on large files while offsets stay those of the whole input.
const BLOCK_BYTES: usize = 1 << 20;

pub fn run(args: &ScanArgs) -> Result<u8, CliError> {
    let families = if args.only.is_empty() {
        Families::ALL
    } else {
        args.only.iter().fold(Families::NONE, |f, family| {
            f.with(match family {
                ScanFamily::Personal => Family::Personal,
                ScanFamily::Injection => Family::Injection,
                ScanFamily::Commitment => Family::Commitment,
                ScanFamily::Escalation => Family::Escalation,
            })
        })
    };
    if !(0.0..=1.0).contains(&args.min_confidence) {
        return Err(CliError::input("--min-confidence must be between 0 and 1"));
    }
    let mut scanner = Scanner {
        families,
        min_confidence: args.min_confidence,
        redact: args.redact,
        out: std::io::BufWriter::new(std::io::stdout().lock()),
        findings: 0,
        records: 0,
    };
    if let Some(text) = &args.text {
        scanner.records = 1;
        scanner.record("text", text, 0)?;
        scanner.flush_redacted_newline(text)?;
        return scanner.finish(0);
    }
    let (label, reader): (String, Box<dyn Read>) = match &args.input {
        None => ("stdin".into(), Box::new(std::io::stdin().lock())),
        Some(p) if p.as_os_str() == "-" => ("stdin".into(), Box::new(std::io::stdin().lock())),
        Some(p) => (
            p.display().to_string(),
            Box::new(
                std::fs::File::open(p)
                    .map_err(|e| CliError::input(format!("cannot read {}: {e}", p.display())))?,
            ),
        ),
    };
    let jsonl = args.jsonl
        || args
            .input
            .as_ref()
            .is_some_and(|p| p.extension().is_some_and(|e| e == "jsonl"));
    let reader = BufReader::new(reader);
    if jsonl {
        let malformed = scanner.jsonl(&label, reader)?;
        scanner.finish(malformed)
    } else {
        scanner.plain(&label, reader)?;
        scanner.finish(0)
    }
}

struct Scanner<W: Write> {
    families: Families,
    min_confidence: f32,
    redact: bool,
    out: W,
    findings: usize,
    records: usize,
}

impl<W: Write> Scanner<W> {
    /// Scans one record; `base` is the byte offset of `text` within the record.
    fn record(&mut self, id: &str, text: &str, base: usize) -> Result<(), CliError> {
        let found: Vec<Finding> = scan(text, self.families)
            .into_iter()
            .filter(|f| f.confidence >= self.min_confidence)
            .collect();
        self.findings += found.len();
        if self.redact {
            let masked = redact(text, &found);
            self.write(masked.as_bytes())?;
            return Ok(());
        }
        for f in &found {
            let line = json!({
                "id": id,
                "type": f.kind.name(),
                "start": base + f.start,
                "end": base + f.end,
                "text": f.text(text),
                "confidence": (f64::from(f.confidence) * 1000.0).round() / 1000.0,
                "validator": f.validator,
            });
            self.write(line.to_string().as_bytes())?;
            self.write(b"\n")?;
        }
        Ok(())
    }

    fn flush_redacted_newline(&mut self, text: &str) -> Result<(), CliError> {
        if self.redact && !text.ends_with('\n') {
            self.write(b"\n")?;
        }
        Ok(())
    }

    fn plain(&mut self, label: &str, mut reader: impl BufRead) -> Result<(), CliError> {
        let mut block = String::new();
        let mut base = 0usize;
        let mut line = Vec::new();
        self.records = 1;
        loop {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .map_err(|e| CliError::runtime(format!("cannot read {label}: {e}")))?;
            if n > 0 {
                match std::str::from_utf8(&line) {
                    Ok(s) => block.push_str(s),
                    Err(_) => block.push_str(&String::from_utf8_lossy(&line)),
                }
            }
            if (n == 0 || block.len() >= BLOCK_BYTES) && !block.is_empty() {
                self.record(label, &block, base)?;
                base += block.len();
                block.clear();
            }
            if n == 0 {
                return Ok(());
            }
        }
    }

    /// Scans each `{"id", "text"}` line; a line that is not one is reported on stderr with its
    /// number and reason, counted, and skipped.
    fn jsonl(&mut self, label: &str, reader: impl BufRead) -> Result<usize, CliError> {
        let mut malformed = 0;
        for (i, line) in reader.lines().enumerate() {
            let number = i + 1;
            let line = match line {
                Ok(l) => l,
                Err(e) => {
                    malformed += 1;
                    eprintln!("{label}:{number}: quarantined: not UTF-8 text ({e})");
                    continue;
                }
            };
            if line.trim().is_empty() {
                continue;
            }
            let value: serde_json::Value = match serde_json::from_str(&line) {
                Ok(v) => v,
                Err(e) => {
                    malformed += 1;
                    eprintln!("{label}:{number}: quarantined: not JSON ({e})");
                    continue;
                }
            };
            let Some(text) = value.get("text").and_then(serde_json::Value::as_str) else {
                malformed += 1;
                eprintln!("{label}:{number}: quarantined: no string `text` field");
                continue;
            };
            let id = match value.get("id") {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Number(n)) => n.to_string(),
                _ => number.to_string(),
            };
            self.records += 1;
            if self.redact {
                let found: Vec<Finding> = scan(text, self.families)
                    .into_iter()
                    .filter(|f| f.confidence >= self.min_confidence)
                    .collect();
                self.findings += found.len();
                let line = json!({"id": id, "text": redact(text, &found)});
                self.write(line.to_string().as_bytes())?;
                self.write(b"\n")?;
            } else {
                self.record(&id, text, 0)?;
            }
        }
        Ok(malformed)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), CliError> {
        self.out
            .write_all(bytes)
            .map_err(|e| CliError::runtime(format!("cannot write output: {e}")))
    }

    fn finish(mut self, malformed: usize) -> Result<u8, CliError> {
        self.out
            .flush()
            .map_err(|e| CliError::runtime(format!("cannot write output: {e}")))?;
        eprintln!(
            "{} finding{} in {} record{}{}",
            self.findings,
            if self.findings == 1 { "" } else { "s" },
            self.records,
            if self.records == 1 { "" } else { "s" },
            if malformed > 0 {
                format!(
                    "; {malformed} malformed line{} quarantined (listed above)",
                    if malformed == 1 { "" } else { "s" }
                )
            } else {
                String::new()
            }
        );
        Ok(if malformed > 0 {
            exit::INPUT
        } else if self.findings > 0 {
            exit::FAILED
        } else {
            exit::OK
        })
    }
}
