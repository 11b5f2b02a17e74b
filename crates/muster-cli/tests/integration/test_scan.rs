//! `muster scan` over text, files, standard input and JSON Lines.

use std::io::Write;
use std::process::Stdio;

use crate::common::TestEnv;

fn lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn findings_are_json_lines_with_byte_offsets_into_the_input() {
    let env = TestEnv::new();
    let text = "Ring me on 07700 900123 — or write to jo.bloggs@example.com";
    let run = env.run(&["scan", "--text", text, "--only", "personal"]);
    assert_eq!(run.code, 1, "findings exit 1: {}", run.stderr);
    let found = lines(&run.stdout);
    let phone = found
        .iter()
        .find(|f| f["type"] == "phone")
        .unwrap_or_else(|| panic!("{found:?}"));
    let (start, end) = (
        phone["start"].as_u64().unwrap_or(0) as usize,
        phone["end"].as_u64().unwrap_or(0) as usize,
    );
    assert_eq!(&text[start..end], "07700 900123");
    assert_eq!(phone["id"], "text");
    let email = found
        .iter()
        .find(|f| f["type"] == "email")
        .unwrap_or_else(|| panic!("{found:?}"));
    let (start, end) = (
        email["start"].as_u64().unwrap_or(0) as usize,
        email["end"].as_u64().unwrap_or(0) as usize,
    );
    assert_eq!(
        &text[start..end],
        "jo.bloggs@example.com",
        "offsets are bytes, past the multi-byte dash"
    );

    let clean = env.run(&["scan", "--text", "What time do you open on Saturday?"]);
    assert_eq!((clean.code, clean.stdout.as_str()), (0, ""));
}

#[test]
fn jsonl_input_quarantines_malformed_lines_and_scans_the_rest() {
    let env = TestEnv::new();
    env.write(
        "messages.jsonl",
        "{\"id\": \"m1\", \"text\": \"my email is sam.taylor@example.org\"}\nthis is not json\n{\"id\": \"m3\"}\n{\"id\": 4, \"text\": \"call 07700 900456\"}\n",
    );
    let run = env.run(&["scan", "messages.jsonl"]);
    assert_eq!(run.code, 2, "malformed input exits 2 even with findings");
    let ids: Vec<String> = lines(&run.stdout)
        .iter()
        .map(|f| f["id"].to_string())
        .collect();
    assert_eq!(ids, ["\"m1\"", "\"4\""]);
    assert!(
        run.stderr
            .contains("messages.jsonl:2: quarantined: not JSON"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("messages.jsonl:3: quarantined: no string `text` field"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("2 malformed lines quarantined"),
        "{}",
        run.stderr
    );

    let redacted = env.run(&["scan", "messages.jsonl", "--redact", "--only", "personal"]);
    let texts: Vec<String> = lines(&redacted.stdout)
        .iter()
        .map(|l| l["text"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(texts, ["my email is [email]", "call [phone]"]);
}

#[test]
fn large_input_from_stdin_keeps_whole_input_offsets_across_blocks() {
    let env = TestEnv::new();
    let filler =
        "The router light is amber again and the line drops every evening.\n".repeat(30_000);
    let input = format!("{filler}Please send the refund form to pat.jones@example.net\n");
    let mut child = env
        .command(&["scan", "-", "--only", "personal"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut stdin = child.stdin.take().unwrap_or_else(|| panic!("stdin"));
    let to_write = input.clone();
    let writer = std::thread::spawn(move || stdin.write_all(to_write.as_bytes()));
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    let _ = writer.join();
    let found = lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(found.len(), 1, "{found:?}");
    let start = found[0]["start"].as_u64().unwrap_or(0) as usize;
    assert!(input.len() > 1 << 20, "the input spans more than one block");
    assert_eq!(&input[start..start + 21], "pat.jones@example.net");
}
