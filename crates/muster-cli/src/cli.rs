//! The command-line interface: every command, flag and example.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "muster",
    version,
    about = "Rehearse AI incidents before a customer-facing agent goes live.",
    long_about = "muster drives a real customer-facing AI agent through ticket-like failure scenarios \
(advice, data, authority and escalation failures, and prompt injection), judges every turn, and keeps \
tamper-evident evidence of what happened.",
    after_help = "Start here:\n  muster demo                 drill the built-in reference agent end to end\n  muster drill --help         drill your own agent\n\nExit codes: 0 ok · 1 failures found · 2 bad input · 3 inconclusive · 4 refused by the safety interlock · 5 runtime problem"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Evidence store to use: a SQLite file's path, or a PostgreSQL URL (`postgres://HOST/DB`;
    /// give a password with PGPASSWORD, not in the URL). Default: `[store]` in muster.toml, else
    /// `.muster/evidence.db` beside muster.toml or in the current directory.
    #[arg(long, global = true, value_name = "PATH|URL", env = "MUSTER_STORE")]
    pub store: Option<String>,

    /// When to colour output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the reference agent, drill it with the built-in scenarios and check every planted flaw is caught.
    #[command(
        after_help = "Examples:\n  muster demo                   flawed agent: every planted flaw must be caught (exit 0 if so)\n  muster demo --hardened        hardened agent: every scenario must pass\n  muster demo --reword 2 --json rerun with the second rewording of each customer turn, as JSON"
    )]
    Demo(DemoArgs),

    /// Drill an agent: run scenarios against its manifest's pre-production target.
    #[command(
        after_help = "Examples:\n  muster drill --agent agent.yaml --scenarios scenarios/\n  muster drill --agent library/reference/agent.yaml --scenarios library/scenarios --base-url http://127.0.0.1:8787\n  muster drill --agent agent.yaml --scenarios s1.yaml --scenarios s2.yaml --json > result.json\n  muster drill --agent agent.yaml --scenarios scenarios/ --junit drill.xml --sarif drill.sarif\n  muster drill --agent agent.yaml --scenarios scenarios/ --dry-run     print the plan, send nothing\n  muster drill --agent agent.yaml --scenarios scenarios/ --controls    also prove the kill switch, handover, rollback…\n  muster drill --agent agent.yaml --controls kill-switch,handover       control drills only\n  muster drill --agent agent.yaml --scenarios scenarios/ --distributed --store postgres://db.internal/muster\n                                         queue the conversations for `muster worker` processes\n\nExit status: 0 when every scenario and control passed, 1 when any failed, 2 bad input (e.g. --distributed\nwithout a PostgreSQL store), 3 when none failed but some were inconclusive, 4 refused by the interlock,\n5 a runtime problem (the drill was interrupted, or evidence could not be recorded)."
    )]
    Drill(DrillArgs),

    /// Re-run recorded conversations (a drill's, or an ingested transcript) against an agent version, to show a fix holds.
    #[command(
        after_help = "Examples:\n  muster replay 0193a7 --agent agent-v2.yaml                      the drill's failed and inconclusive conversations\n  muster replay 0193a7 --agent agent-v2.yaml --all                every conversation of the drill\n  muster replay 0193a7 --conversation conv/bereavement-backdated-refund/3 --agent agent-v2.yaml --repeat 30\n  muster replay --transcript conv-4821 --scenario scenarios/refund.yaml --agent agent-v2.yaml\n\nThe customer turns are sent exactly as they were recorded (adaptive answers included, no rewording);\nthe scenario's customer, faults and expectations judge the new replies. The replay is a drill of its\nown in the evidence store, each conversation recording what it replays; it is not recorded in muster.lock.\nExit status: 0 every replayed conversation passed, 1 any failed, 2 bad input, 3 inconclusive, 4 refused by the interlock."
    )]
    Replay(ReplayArgs),

    /// Write a drill's (or an exercise's) signed evidence pack: pack.json, index.html, pack.pdf, redacted evidence, manifest, signature.
    #[command(
        after_help = "Examples:\n  muster pack 0193a7 -o pack/                     the drill, with any exercise that ran or reviewed it\n  muster pack ex-7c1f -o pack/                    an exercise (id from the console), with its drill\n  muster pack 0193a7 -o pack/ --include-raw       personal data NOT masked (the pack says so)\n  muster pack 0193a7 -o pack/ --json\n\nThe pack is signed with the Ed25519 key at --key, `[signing] key` in muster.toml, or\n.muster/pack-signing.key (made on first use); its fingerprint is printed and written in the pack.\nExit status: 0 written, 2 bad input (unknown id, directory not empty, unreadable key), 5 runtime error."
    )]
    Pack(PackArgs),

    /// Check an evidence pack: every file's digest, the signature, the signer, the evidence hash chain and muster.lock.
    #[command(
        after_help = "Examples:\n  muster verify pack/ --key SHA256:3f2a…        also require this signer\n  muster verify pack/ --lock muster.lock          also compare the drill's root digest with the lock\n  muster verify pack/ --json\n\nExit status: 0 every check passed, 1 any check failed (each failure is named), 2 not a pack."
    )]
    Verify(PackVerifyArgs),

    /// Check agent manifests, scenarios and muster.toml; report every problem at file:line:column.
    #[command(
        after_help = "Examples:\n  muster validate agent.yaml scenarios/*.yaml\n  muster validate --agent agent.yaml scenarios/   also check fixtures and tools against the manifest\n  muster validate muster.toml --json"
    )]
    Validate(ValidateArgs),

    /// Print the JSON Schema of a file format, for editors and CI.
    #[command(
        after_help = "Examples:\n  muster schema scenario > scenario.schema.json\n  muster schema --out docs/schema       write them all\n\nIn YAML files: # yaml-language-server: $schema=./scenario.schema.json"
    )]
    Schema(SchemaArgs),

    /// Run conversations of distributed drills: take them from the PostgreSQL store's queue until Ctrl-C.
    #[command(after_help = "Examples:
  muster worker --store postgres://db.internal/muster                  on every machine that is to drill
  muster worker --store postgres://db.internal/muster --concurrency 8 --id runner-3
  muster worker --exit-when-idle --json                                 stop when no drill has work left

Workers take the conversations `muster drill --distributed` queued (oldest first, each by one worker
at a time), run them here against the drill's target and write their evidence into the same drill.
Each worker rebuilds the plan from the files the drill stored, checks their digests, and passes the
safety interlock itself. A worker renews a lease on each conversation it holds; if it dies, the
conversation is taken again by another worker after the lease (a new attempt, recorded as
`conversation.retried`), and a late result from the lost attempt is never counted. The manifest's
`target.rate_limit` holds across all workers together.
Exit status: 0 stopped (Ctrl-C, or idle with --exit-when-idle), 2 bad input (not a PostgreSQL store,
a drill's files unreadable), 4 refused by the interlock on this machine, 5 a runtime problem (e.g. a
secret the manifest names is not set here). A conversation this worker could not run is given back.")]
    Worker(WorkerArgs),

    /// Run the reference agent (a fictional UK telecoms retailer with planted flaws).
    #[command(subcommand)]
    Refagent(RefagentCommand),

    /// Inspect and verify the evidence store.
    #[command(subcommand)]
    Store(StoreCommand),

    /// A PostgreSQL store's schema: apply muster's migrations, or show where it stands.
    #[command(subcommand)]
    Db(DbCommand),

    /// Copy an embedded (SQLite) store into a PostgreSQL one and verify every chain on the copy.
    #[command(after_help = "Examples:
  muster db migrate --store postgres://db.internal/muster        first, once per database
  muster migrate-store --to postgres://db.internal/muster       the project's .muster/evidence.db
  PGPASSWORD=… muster migrate-store --from old/evidence.db --to postgres://muster@db.internal/muster --json

The copy is one transaction: all of it or none. Every row keeps its ids, positions and digests; each
drill's root, each source's chain head and each exercise log are then verified on the copy and
compared with the original's. Console sessions are not copied (people sign in again).
Exit status: 0 copied and verified, 1 the copy's verification found problems (the original has them
too: it is copied as it is), 2 bad input (the target is not empty, not PostgreSQL, or not migrated),
5 a store problem.")]
    MigrateStore(MigrateStoreArgs),

    /// Which drill an agent owes: risk tier and why, required controls, the automated-decision boundary, cadence.
    #[command(
        after_help = "Examples:\n  muster assess agent.yaml\n  muster assess library/reference/agent.yaml --json\n\nExit status: 0 when every control the tier requires is declared, 1 when one is missing or incomplete, 2 for a manifest with problems."
    )]
    Assess(AssessArgs),

    /// The scenario library: list scenarios, show one, or scaffold a new one for a failure mode.
    #[command(subcommand)]
    Scenarios(ScenariosCommand),

    /// List and explain the control-map keys (`framework@edition:id`) scenarios, findings and controls carry.
    #[command(
        after_help = "Examples:\n  muster controls                          the frameworks and their entry counts\n  muster controls owasp-llm@2025           the entries of one framework edition\n  muster controls muster@1:failure-mode/data   one key: what it means and what maps to it\n  muster controls --json"
    )]
    Controls(ControlsArgs),

    /// CI gate: fail when the agent changed since its last drill, the cadence lapsed, a risk acceptance expired or critical findings are open.
    #[command(
        after_help = "Examples:\n  muster gate agent.yaml\n  muster gate agent.yaml --scenarios scenarios/ --json\n  muster gate agent.yaml --block-on high\n\nReads muster.lock (written by `muster drill`). Exit status: 0 clear to ship, 1 blocked (every reason is printed), 2 bad input."
    )]
    Gate(GateArgs),

    /// Find personal data, prompt-injection indicators, commitments and escalation cues in text.
    #[command(
        after_help = "Examples:\n  muster scan --text \"call me on 07700 900123\"\n  muster scan transcript.txt                      one finding per line, as JSON\n  muster scan messages.jsonl --jsonl --only personal,injection\n  muster scan notes.txt --redact > notes.redacted.txt\n  cat chat.log | muster scan -\n\nJSON Lines input: one {\"id\": …, \"text\": …} object per line; a line that is not one is reported\nwith its line number and counted, and the rest are still scanned.\nOutput: {\"id\",\"type\",\"start\",\"end\",\"text\",\"confidence\",\"validator\"} per finding (byte offsets).\nExit status: 0 nothing found, 1 findings, 2 bad input (including malformed lines)."
    )]
    Scan(ScanArgs),

    /// Record a risk acceptance of an open finding in muster.lock: who, why, until when.
    #[command(
        after_help = "Example:\n  muster accept agent.yaml bereavement-backdated-refund --owner \"Priya Shah\" \\\n    --reason \"Refund tool disabled in production until the fix ships\" --expires 2027-01-31"
    )]
    Accept(AcceptArgs),

    /// Read telemetry, helpdesk and monitoring records into the evidence store, idempotently and resumably.
    #[command(
        after_help = "Examples:\n  muster ingest traces.jsonl                      an OTLP JSON Lines file (the collector's file exporter)\n  muster ingest export/ --source prod-agent       every file in a folder, into one source\n  muster ingest logs.pb --format otlp-protobuf-logs --json\n  muster ingest tickets/ --format zendesk          Zendesk API bodies (tickets, audits, incremental exports)\n  muster ingest calls.jsonl --format model-logs   Chat Completions / Responses / Anthropic request-response pairs\n  muster ingest CaseHistory.csv --format salesforce-csv\n  muster ingest chat.jsonl --format generic-jsonl --mapping chat-log   fields from [ingest.mappings.chat-log] in muster.toml\n  muster ingest --listen                          receive OTLP/HTTP on 127.0.0.1:4318 until Ctrl-C\n    (point the agent's SDK at it: OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318)\n  muster ingest --from zendesk --agent agent.yaml  pull through the API of the manifest's escalation queue\n  ZENDESK_TOKEN=… muster ingest --from zendesk --url https://acme.zendesk.com --token-env ZENDESK_TOKEN --user ops@acme.com\n\nFormats: auto (OTLP, by file name), otlp-json, otlp-jsonl, otlp-protobuf[-traces|-logs], openai-agents,\nlangsmith, langfuse, zendesk, intercom, freshdesk, salesforce, salesforce-csv, model-logs, bedrock,\nsplunk-hec, datadog-logs, datadog-webhook, generic-jsonl, generic-csv. *.jsonl/*.ndjson files stream\nline by line.\nRe-ingesting an input adds nothing; an interrupted ingest resumes where its last batch committed;\na pull (--from) continues from the cursor stored with its last page.\nRecords that cannot be read are quarantined with their reason and counted, not fatal.\nExit status: 0 ingested (even with quarantined records), 2 bad input (a path that cannot be read, a\nmissing mapping), 5 store problem or a helpdesk API failure (pages stored before it are kept)."
    )]
    Ingest(IngestArgs),

    /// The merged timeline of a conversation or a customer across every ingested source.
    #[command(
        after_help = "Examples:\n  muster reconstruct --conversation conv-4821\n  muster reconstruct --customer LM-100004 --from 2026-11-01T00:00:00Z --to 2026-11-02T00:00:00Z\n  muster reconstruct --conversation conv-4821 --json\n  muster reconstruct --conversation conv-4821 --raw --reason \"complaint C-1182 review\"\n  muster reconstruct --conversation conv-4821 --agent agent.yaml --html incident.html\n\nEvents are linked through the identifiers systems share (conversation, trace, ticket, case ids) and\nmuster.toml's [[evidence.links]]; the same customer's records near the conversation that share none\nare shown as inferred. Gaps (a money tool with no account change, a handover with no ticket) are listed.\nPersonal data is redacted unless --raw; --raw needs --reason and is written to the store's access audit.\nExit status: 0 events found, 1 none found, 2 bad input."
    )]
    Reconstruct(ReconstructArgs),

    /// Serve the exercise console: the team's tabletop and live drill in the browser.
    #[command(
        after_help = "Examples:\n  muster console add-user alice --name \"Alice Shah\" --role facilitator --admin   the first account\n  muster serve                                    http://127.0.0.1:8080 on the project's store\n  muster serve --listen 127.0.0.1:9000 --agent agent.yaml --scenarios scenarios/   drills can start from the console\n  MUSTER_SLACK_WEBHOOK=https://hooks.slack.com/… muster serve --slack-webhook-env MUSTER_SLACK_WEBHOOK\n\nThe JSON API is described at /api/openapi.json. Passwords are read from MUSTER_CONSOLE_PASSWORD or a prompt.\nExit status: 0 after a clean shutdown (Ctrl-C), 2 bad input, 5 the server could not start."
    )]
    Serve(ConsoleServeArgs),

    /// Manage the console's accounts.
    #[command(subcommand)]
    Console(ConsoleCommand),

    /// The evidence-chain audit: is each artefact an incident review needs present, time-stamped, searchable, retained and access-controlled?
    #[command(
        name = "audit-evidence",
        after_help = "Examples:\n  muster audit-evidence --agent agent.yaml\n  muster audit-evidence --agent agent.yaml --json\n\nThe seven artefacts: prompt, retrieved documents, model response, tool calls, account changes,\nconfidence signals, escalation decision. The manifest's `logs:` say which system holds each; ingest\neach with `muster ingest … --source <log id>`. Each cell is measured from the ingested evidence where\nit can be (a drill canary found by search, the oldest record against the claimed retention, the\naccess audit), else shown as claimed and unverified.\nExit status: 0 no gaps, 1 gaps found, 2 bad input."
    )]
    AuditEvidence(AuditEvidenceArgs),

    /// Full-text search over ingested content.
    #[command(
        after_help = "Examples:\n  muster search \"refund approved\"\n  muster search refund --kind agent.message --source otlp --json\n  muster search \"cancel\" --conversation conv-4821\n\nEvery word must occur. Personal data is redacted unless --raw (which needs --reason and is audited).\nExit status: 0 matches found, 1 none, 2 bad input."
    )]
    Search(SearchArgs),

    /// Approve (or reject) a drill's customer correction notice, as one of its approver roles.
    #[command(
        after_help = "Examples:\n  muster approve 0193a7 --role comms-lead --name \"Sam Okafor\"\n  muster approve 0193a7 --role legal --name \"Ruth Grant\" --reject --note \"remove the promise of a refund\"\n\nThe approval is added to the sealed drill's addenda; the comms-approval control then reports\nthe time from the notice to the last approval against the manifest's claim.\nExit status: 0 when the notice is approved within its claim, 1 when rejected or late, 3 while\napprovals are still missing."
    )]
    Approve(ApproveArgs),
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Files, or folders of them (read in name order).
    #[arg(required_unless_present_any = ["listen", "from"], value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Receive OTLP/HTTP exports instead (`POST /v1/traces`, `/v1/logs`; protobuf or JSON,
    /// gzip or not) on this address until Ctrl-C. Default address: 127.0.0.1:4318.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = muster_receiver::DEFAULT_LISTEN, conflicts_with_all = ["paths", "from"])]
    pub listen: Option<std::net::SocketAddr>,
    /// Pull records through a helpdesk's API instead, incrementally: from where the last pull
    /// of this source stopped. Base URL and credentials from --agent's escalation queue or
    /// --url/--token-env.
    #[arg(long, value_enum, value_name = "VENDOR", conflicts_with = "paths")]
    pub from: Option<PullVendor>,
    /// The agent manifest whose `escalation.queue` names the helpdesk's URL and the environment
    /// variable holding its credentials (with --from).
    #[arg(long, value_name = "FILE", requires = "from")]
    pub agent: Option<PathBuf>,
    /// The helpdesk's API base URL (with --from; overrides the manifest's).
    #[arg(long, value_name = "URL", requires = "from")]
    pub url: Option<String>,
    /// The environment variable holding the API token (with --from; overrides the manifest's).
    /// Sent as `Authorization: Bearer …`, except Zendesk with --user (an API token in Basic
    /// auth) and Freshdesk (the API key in Basic auth).
    #[arg(long, value_name = "VAR", requires = "from")]
    pub token_env: Option<String>,
    /// Zendesk: the agent's email address the API token belongs to (with --from).
    #[arg(long, value_name = "EMAIL", requires = "from")]
    pub user: Option<String>,
    /// On a first pull, start at this time (RFC 3339); later pulls continue from the stored cursor.
    #[arg(long, value_name = "TIME", requires = "from")]
    pub since: Option<jiff::Timestamp>,
    /// How the input is encoded; `auto` decides OTLP by file name (`*.jsonl` JSON Lines,
    /// `*.json` one OTLP/JSON body, `*.pb`/`*.binpb` protobuf, logs when the name contains
    /// `logs`). Every other format is named outright.
    #[arg(long, value_enum, default_value_t = IngestFormat::Auto, conflicts_with_all = ["from", "listen"])]
    pub format: IngestFormat,
    /// With `generic-jsonl`/`generic-csv` (or to override `salesforce-csv`'s): the field mapping
    /// `[ingest.mappings.<NAME>]` of muster.toml.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["from", "listen"])]
    pub mapping: Option<String>,
    /// Helpdesk formats: where a record names the agent's conversation (a Zendesk custom field
    /// id, a Freshdesk `cf_…` field, an Intercom custom attribute, a Salesforce Case field).
    #[arg(long, value_name = "FIELD")]
    pub conversation_field: Option<String>,
    /// The source's name: its hash chain, and the scope in which re-ingest is recognised.
    /// Default: the format's (`otlp`, `zendesk`, `datadog`, the mapping's `system`…).
    #[arg(long)]
    pub source: Option<String>,
    /// Events per committed batch. Memory while ingesting grows with it: up to four batches are
    /// in hand at once (read, queued, being hashed, committing).
    #[arg(long, default_value_t = 2500, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub batch: u32,
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum IngestFormat {
    Auto,
    /// One OTLP/JSON export request (traces or logs) per file.
    OtlpJson,
    /// OTLP/JSON export requests, one per line.
    OtlpJsonl,
    /// One OTLP protobuf export request per file: traces, or logs when the name contains `logs`.
    OtlpProtobuf,
    OtlpProtobufTraces,
    OtlpProtobufLogs,
    /// OpenAI Agents SDK trace export bodies (`POST /v1/traces/ingest`).
    OpenaiAgents,
    /// LangSmith runs: a multipart body, a batch or query page as JSON, or JSON Lines of them.
    Langsmith,
    /// Langfuse public-API JSON: a trace with its observations and scores, a trace or
    /// observation page, or JSON Lines of them.
    Langfuse,
    /// Zendesk tickets, audits, incremental ticket or ticket-event exports (API JSON).
    Zendesk,
    /// Intercom conversations with their parts (API JSON).
    Intercom,
    /// Freshdesk tickets and conversations (API JSON).
    Freshdesk,
    /// Salesforce Case, CaseHistory and CaseComment as REST JSON (SOQL query results).
    Salesforce,
    /// A Salesforce CaseHistory CSV export (Data Loader / Bulk API layout).
    SalesforceCsv,
    /// Chat Completions, Responses or Anthropic Messages request/response pairs.
    ModelLogs,
    /// Amazon Bedrock model-invocation logs.
    Bedrock,
    /// Splunk HTTP Event Collector bodies.
    SplunkHec,
    /// Datadog logs (intake arrays, Logs API pages).
    DatadogLogs,
    /// Datadog monitor webhook payloads.
    DatadogWebhook,
    /// Any JSON Lines export, through --mapping.
    GenericJsonl,
    /// Any CSV export with a header row, through --mapping.
    GenericCsv,
}

/// The helpdesks `--from` pulls from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PullVendor {
    Zendesk,
    Intercom,
    Freshdesk,
    Salesforce,
}

/// Who may see personal data: redacted unless `--raw`, which is audited.
#[derive(Debug, Args)]
pub struct AccessArgs {
    /// Show personal data unredacted. Needs --reason; recorded in the store's access audit.
    #[arg(long, requires = "reason")]
    pub raw: bool,
    /// Why unredacted access is needed (recorded with --raw).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Who is reading, for the access audit (default: $USER).
    #[arg(long = "as", value_name = "NAME")]
    pub as_name: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("key").required(true).args(["conversation", "customer"])))]
pub struct ReconstructArgs {
    /// A conversation (session, thread) id.
    #[arg(long, value_name = "ID")]
    pub conversation: Option<String>,
    /// A customer reference (CRM contact, account, end-user id).
    #[arg(long, value_name = "REF")]
    pub customer: Option<String>,
    /// Only events at or after this time (RFC 3339, e.g. 2026-11-01T09:00:00Z).
    #[arg(long, value_name = "TIME")]
    pub from: Option<jiff::Timestamp>,
    /// Only events at or before this time (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub to: Option<jiff::Timestamp>,
    /// At most this many events (the earliest).
    #[arg(long, default_value_t = 10_000)]
    pub limit: u64,
    /// Also show the same customer's records this close to the conversation that share no
    /// identifier with it, marked inferred (default: the largest `window` of muster.toml's
    /// `[[evidence.links]]`, else 10m; 0s turns it off).
    #[arg(long, value_name = "DURATION")]
    pub window: Option<muster_model::common::Duration>,
    /// The agent manifest: which tools change records, so a tool call with no account change
    /// recorded is shown as a gap.
    #[arg(long, value_name = "FILE")]
    pub agent: Option<PathBuf>,
    /// Also write the timeline as a self-contained HTML page.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    #[command(flatten)]
    pub access: AccessArgs,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AuditEvidenceArgs {
    /// The agent manifest whose `logs:` claims are audited.
    #[arg(long, value_name = "FILE")]
    pub agent: PathBuf,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words that must all occur in an event's content.
    #[arg(value_name = "TEXT")]
    pub text: String,
    /// Only events of this kind (e.g. agent.message, tool.call).
    #[arg(long)]
    pub kind: Option<String>,
    /// Only events of this source.
    #[arg(long)]
    pub source: Option<String>,
    /// Only events of this conversation.
    #[arg(long, value_name = "ID")]
    pub conversation: Option<String>,
    /// At most this many matches (the earliest).
    #[arg(long, default_value_t = 100)]
    pub limit: u64,
    #[command(flatten)]
    pub access: AccessArgs,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// A file to scan, or `-` for standard input (the default when --text is not given).
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Scan this text instead of a file.
    #[arg(long, conflicts_with = "input")]
    pub text: Option<String>,
    /// Read JSON Lines, one `{"id": …, "text": …}` per line (the default for *.jsonl files).
    #[arg(long)]
    pub jsonl: bool,
    /// Detector families to run (default: all).
    #[arg(long, value_delimiter = ',', value_enum)]
    pub only: Vec<ScanFamily>,
    /// Drop findings below this confidence (0 to 1). The default keeps likely findings; 0 shows
    /// every candidate, e.g. a number shaped like a phone number after the word "order".
    #[arg(long, default_value_t = 0.5)]
    pub min_confidence: f32,
    /// Print the text with personal data masked (`[email]`, `[phone]`…) instead of findings.
    #[arg(long)]
    pub redact: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScanFamily {
    Personal,
    Injection,
    Commitment,
    Escalation,
}

#[derive(Debug, Args)]
pub struct AssessArgs {
    /// The agent manifest.
    #[arg(value_name = "AGENT")]
    pub agent: PathBuf,
    /// muster.lock to read the last drill from (default: beside muster.toml, else ./muster.lock).
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ControlsArgs {
    /// A framework (`owasp-llm`), an edition (`owasp-llm@2025`) or a key (`owasp-llm@2025:LLM01`).
    #[arg(value_name = "FRAMEWORK|KEY")]
    pub query: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct GateArgs {
    /// The agent manifest as it is now.
    #[arg(value_name = "AGENT")]
    pub agent: PathBuf,
    /// The scenario set the team drills; when given, a set that differs from the one drilled fails the gate.
    #[arg(long = "scenarios", value_name = "PATH")]
    pub scenarios: Vec<PathBuf>,
    /// Open findings at or above this severity block.
    #[arg(long, value_enum, default_value_t = BlockOn::Critical)]
    pub block_on: BlockOn,
    /// Judge as of this date (YYYY-MM-DD) instead of today (UTC).
    #[arg(long, value_name = "DATE")]
    pub today: Option<jiff::civil::Date>,
    /// muster.lock to read (default: beside muster.toml, else ./muster.lock).
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BlockOn {
    Critical,
    High,
    Medium,
    Low,
}

#[derive(Debug, Args)]
pub struct AcceptArgs {
    /// The agent manifest.
    #[arg(value_name = "AGENT")]
    pub agent: PathBuf,
    /// The finding (its scenario id), as `muster gate` names it.
    #[arg(value_name = "FINDING")]
    pub finding: String,
    /// Who accepts the risk (a named person).
    #[arg(long)]
    pub owner: String,
    /// Why launching with it open is acceptable, and what mitigates it.
    #[arg(long)]
    pub reason: String,
    /// Last day the acceptance holds (YYYY-MM-DD); at most a year ahead.
    #[arg(long, value_name = "DATE")]
    pub expires: jiff::civil::Date,
    /// Date the acceptance is recorded on (default: today, UTC).
    #[arg(long, value_name = "DATE")]
    pub today: Option<jiff::civil::Date>,
    /// muster.lock to amend (default: beside muster.toml, else ./muster.lock).
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Drill the hardened agent (every flaw off): every scenario must pass.
    #[arg(long)]
    pub hardened: bool,
    /// Which interface of the reference agent to drill through.
    #[arg(long, value_enum, default_value_t = Interface::Native)]
    pub interface: Interface,
    /// Seed for the reference agent's phrasing.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Rewording of the customer turns: 0 = as written, N = the scenario's N-th rewording.
    #[arg(long, default_value_t = 0)]
    pub reword: u32,
    /// Run every scenario this many times (default: the pass policy's minimum for its severity).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub repeat: Option<u32>,
    /// Conversations at once (default: `[drill] concurrency` in muster.toml, else 4).
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Pin the reference agent's calendar (YYYY-MM-DD) so its dates, and the report, are reproducible.
    #[arg(long, value_name = "DATE")]
    pub today: Option<jiff::civil::Date>,
    /// Print the full result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Interface {
    /// The native JSON API, through the `http-json` adapter.
    Native,
    /// The OpenAI-compatible endpoint, through the `openai-chat` adapter.
    Openai,
}

#[derive(Debug, Args)]
pub struct DrillArgs {
    /// The agent manifest (agent.yaml).
    #[arg(long, value_name = "FILE")]
    pub agent: PathBuf,
    /// Scenario files or folders of them (repeatable).
    #[arg(
        long = "scenarios",
        value_name = "PATH",
        required_unless_present = "controls"
    )]
    pub scenarios: Vec<PathBuf>,
    /// Also run the control drills the manifest declares, after the scenarios: all of them, or a
    /// comma-separated list of kill-switch, handover, content-rollback, comms-approval, experiments.
    #[arg(long, value_name = "CONTROL", num_args = 0.., value_delimiter = ',')]
    pub controls: Option<Vec<String>>,
    /// Override the manifest's target.base_url (the host must still be declared in `hosts`).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Conversations at once (default: `[drill] concurrency` in muster.toml, else 4).
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Run every scenario this many times (default: the scenario's `repeat`, else the pass
    /// policy's minimum for its severity: 30 critical, 10 high, 5 medium, 1 low).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub repeat: Option<u32>,
    /// Rewording of the customer turns: 0 = as written, N = the scenario's N-th rewording.
    #[arg(long, default_value_t = 0)]
    pub reword: u32,
    /// Print the full result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Print what would run (target, interlock decision, runs per scenario, fixtures) and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also write the result as JUnit XML (one test case per scenario) to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write the result as SARIF 2.1.0 (failed expectations at their line in the scenario) to this file.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Do not record the drill in muster.lock.
    #[arg(long)]
    pub no_lock: bool,
    /// muster.lock to record the drill in (default: beside muster.toml, else ./muster.lock).
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
    /// Stream the drill's verdicts and control timings into this console exercise's timeline.
    #[arg(long, value_name = "EXERCISE")]
    pub exercise: Option<String>,
    /// Queue the conversations in the (PostgreSQL) store for `muster worker` processes instead of
    /// running them here; wait for them and print the report as usual.
    #[arg(long)]
    pub distributed: bool,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// This worker's name in the record (default: HOSTNAME-PID).
    #[arg(long, value_name = "NAME")]
    pub id: Option<String>,
    /// Conversations at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub concurrency: u64,
    /// How long a conversation stays this worker's without a renewal (renewed every third of it);
    /// a worker that dies loses its conversations to others this long after.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub lease_seconds: u64,
    /// Exit once no open drill has a conversation left to run (instead of waiting for more).
    #[arg(long)]
    pub exit_when_idle: bool,
    /// Print a JSON summary on exit.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ConsoleServeArgs {
    /// Address to listen on. Anything other than a loopback address needs --public.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    /// Allow listening on a non-loopback address (put TLS in front of it).
    #[arg(long)]
    pub public: bool,
    /// The console's address as people reach it, for links in notifications.
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Agent manifest for drills started from the console.
    #[arg(long, value_name = "FILE", requires = "scenarios")]
    pub agent: Option<PathBuf>,
    /// Override the manifest's target.base_url for drills started from the console (the host
    /// must still be declared in `hosts`).
    #[arg(long, value_name = "URL", requires = "agent")]
    pub base_url: Option<String>,
    /// Scenario files or folders offered for exercises (and drilled from the console with
    /// --agent). Default: the built-in library.
    #[arg(long = "scenarios", value_name = "PATH")]
    pub scenarios: Vec<PathBuf>,
    /// Environment variable holding a Slack incoming-webhook URL (default: `[console.notify]
    /// slack_webhook_env` in muster.toml).
    #[arg(long, value_name = "VAR")]
    pub slack_webhook_env: Option<String>,
    /// Environment variable holding a Microsoft Teams incoming-webhook URL.
    #[arg(long, value_name = "VAR")]
    pub teams_webhook_env: Option<String>,
    /// Do not mark the session cookie Secure (only for plain HTTP on a non-loopback address).
    #[arg(long)]
    pub insecure_cookies: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConsoleCommand {
    /// Add a console account (the first one with --admin, before `muster serve`).
    #[command(
        after_help = "Examples:\n  MUSTER_CONSOLE_PASSWORD='a long passphrase' muster console add-user alice --name \"Alice Shah\" --role facilitator --admin\n  muster console add-user dan --name \"Dan Okafor\" --role dpo\n  muster console users --json\n\nRoles: facilitator, incident-lead, contact-centre-lead, product-owner, legal, dpo, security-lead, comms-lead, observer, auditor.\nThe password comes from MUSTER_CONSOLE_PASSWORD or is asked for on the terminal (12+ characters).\nExit status: 0 added, 2 bad input (taken username, short password, unknown role)."
    )]
    AddUser(AddUserArgs),
    /// List the console's accounts.
    Users {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct AddUserArgs {
    /// Letters, digits, `.`, `-` and `_`.
    pub username: String,
    /// The name shown to others.
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub role: String,
    /// Mark the account as an administrator.
    #[arg(long)]
    pub admin: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The drill whose conversations to replay (its id, or a unique prefix).
    #[arg(
        value_name = "DRILL",
        required_unless_present = "transcript",
        conflicts_with = "transcript"
    )]
    pub drill: Option<String>,
    /// Only this conversation of the drill (its stream, e.g. conv/bereavement-backdated-refund/3);
    /// repeatable.
    #[arg(long = "conversation", value_name = "STREAM")]
    pub conversations: Vec<String>,
    /// Replay every conversation of the drill, not only those that failed or were inconclusive.
    #[arg(long, conflicts_with = "conversations")]
    pub all: bool,
    /// Replay an ingested conversation instead: its customer messages, in time order.
    #[arg(long, value_name = "CONVERSATION_ID", requires = "scenario")]
    pub transcript: Option<String>,
    /// With --transcript: the ingested source whose customer messages to replay, when several
    /// sources recorded the conversation.
    #[arg(long, requires = "transcript")]
    pub source: Option<String>,
    /// The agent manifest of the version to replay against.
    #[arg(long, value_name = "FILE")]
    pub agent: PathBuf,
    /// The scenario to judge by (repeatable). Needed with --transcript; with a drill it replaces
    /// the drill's scenario of the same id (when that file moved or changed since the drill).
    #[arg(long, value_name = "FILE")]
    pub scenario: Vec<PathBuf>,
    /// Override the manifest's target.base_url (the host must still be declared in `hosts`).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Conversations at once (default: `[drill] concurrency` in muster.toml, else 4).
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Run each replayed conversation this many times (default: the pass policy's minimum for
    /// the scenario's severity, as a drill would).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub repeat: Option<u32>,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Also write the result as JUnit XML to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write the result as SARIF 2.1.0 to this file.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Files or folders (*.yaml, *.yml, muster.toml).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Also check scenarios against this agent manifest (fixtures and tools they name).
    #[arg(long, value_name = "FILE")]
    pub agent: Option<PathBuf>,
    /// Print problems as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which format; all of them with --out.
    #[arg(value_enum)]
    pub format: Option<SchemaFormat>,
    /// Write `agent.schema.json`, `scenario.schema.json`, `config.schema.json`,
    /// `control-map.schema.json` and `pack.schema.json` into this folder.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SchemaFormat {
    Agent,
    Scenario,
    Config,
    ControlMap,
    /// The evidence pack's `pack.json` (an output of `muster pack`).
    Pack,
}

#[derive(Debug, Subcommand)]
pub enum RefagentCommand {
    /// Serve the reference agent until Ctrl-C.
    #[command(
        after_help = "Examples:\n  muster refagent serve                         flawed, on 127.0.0.1:8787\n  muster refagent serve --hardened --port 9000\n  muster refagent serve --no-flaw cross-account-notes\n  muster refagent serve --otlp-endpoint http://127.0.0.1:4318   its traces to `muster ingest --listen`\n  muster refagent serve --latency-ms 200        each reply 200 ms late, like a model\n\nThen, from another terminal:\n  muster drill --agent library/reference/agent.yaml --scenarios library/scenarios"
    )]
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    #[arg(long, default_value_t = 8787)]
    pub port: u16,
    /// Turn every planted flaw off.
    #[arg(long)]
    pub hardened: bool,
    /// Turn only these flaws on (repeatable); the others are off.
    #[arg(long = "flaw", value_name = "ID")]
    pub flaws: Vec<String>,
    /// Turn these flaws off (repeatable).
    #[arg(long = "no-flaw", value_name = "ID")]
    pub no_flaws: Vec<String>,
    /// Seed for phrasing.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Let a real model behind an OpenAI-compatible API drive the same tools and policies.
    #[arg(long, value_name = "URL")]
    pub model_url: Option<String>,
    /// Model name for --model-url.
    #[arg(long, default_value = "gpt-4o-mini")]
    pub model: String,
    /// Pin the agent's calendar (YYYY-MM-DD); its CRM dates are relative to it.
    #[arg(long, value_name = "DATE")]
    pub today: Option<jiff::civil::Date>,
    /// Chance (0 to 1) that each flaw that is on is active in a given conversation: below 1 the
    /// agent is stochastic, like a real one, and a drill's repeats estimate the rate.
    #[arg(long, default_value_t = 1.0, value_parser = parse_rate)]
    pub flaw_rate: f64,
    /// Export every turn as OpenTelemetry GenAI spans to this OTLP/HTTP endpoint (spans go to
    /// URL/v1/traces), as an instrumented service would, e.g. to `muster ingest --listen`.
    #[arg(long, value_name = "URL")]
    pub otlp_endpoint: Option<String>,
    /// Append the same spans to this file, one OTLP/JSON export request per line (what
    /// `muster ingest FILE` reads).
    #[arg(long, value_name = "FILE")]
    pub otlp_file: Option<PathBuf>,
    /// Hold every conversation reply back this long (a fixed model latency, for benchmarks and
    /// tests of distributed drills).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// Print the flaws and exit.
    #[arg(long)]
    pub list_flaws: bool,
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Check every event's digest, every chain link and each drill's sealed root.
    #[command(
        after_help = "Examples:\n  muster store verify            every drill in the store\n  muster store verify 0196f3a2   one drill, by id prefix\n\nExit status: 0 intact, 1 tampering found."
    )]
    Verify(VerifyArgs),
    /// List the drills in the store.
    #[command(after_help = "Example:\n  muster store list --json")]
    List(ListArgs),
}

#[derive(Debug, Subcommand)]
pub enum ScenariosCommand {
    /// List scenarios: the built-in library, or the files and folders given.
    #[command(
        after_help = "Examples:\n  muster scenarios list                          the built-in library\n  muster scenarios list --mode escalation        one failure mode\n  muster scenarios list --journey bereavement --injection\n  muster scenarios list --scenarios scenarios/ --json\n\nExit status: 0 listed (even when nothing matches), 2 bad input (a file with problems is shown at file:line:column)."
    )]
    List(ScenariosListArgs),
    /// Show one scenario as a reader sees it: ticket, persona, turns, expectations, controls, sources.
    #[command(
        after_help = "Examples:\n  muster scenarios show bereavement-backdated-refund\n  muster scenarios show return-note-injection --yaml > my-injection.yaml   copy it to adapt\n  muster scenarios show my-scenario --scenarios scenarios/ --json\n\nExit status: 0 shown, 2 no scenario has that id (the nearest ids are suggested) or a file has problems."
    )]
    Show(ScenariosShowArgs),
    /// Write a new, commented scenario for a failure mode, valid as written, ready to edit.
    #[command(
        after_help = "Examples:\n  muster scenarios new --mode advice                              to stdout\n  muster scenarios new --mode escalation --id night-shift-handover -o scenarios/night-shift-handover.yaml\n\nThen edit every line marked EDIT and check it: muster validate --agent agent.yaml scenarios/\nExit status: 0 written, 2 bad input (an invalid id, or the file exists and --force was not given)."
    )]
    New(ScenariosNewArgs),
}

#[derive(Debug, Args)]
pub struct ScenariosListArgs {
    /// Scenario files or folders (default: the built-in library).
    #[arg(long = "scenarios", value_name = "PATH")]
    pub scenarios: Vec<PathBuf>,
    /// Only this failure mode.
    #[arg(long, value_enum)]
    pub mode: Option<ModeArg>,
    /// Only scenarios touching this customer journey (e.g. bereavement, refunds-and-returns).
    #[arg(long, value_name = "JOURNEY")]
    pub journey: Option<String>,
    /// Only prompt-injection scenarios.
    #[arg(long)]
    pub injection: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ScenariosShowArgs {
    /// The scenario's id.
    #[arg(value_name = "ID")]
    pub id: String,
    /// Scenario files or folders to look in (default: the built-in library).
    #[arg(long = "scenarios", value_name = "PATH")]
    pub scenarios: Vec<PathBuf>,
    /// Print the scenario file exactly as written.
    #[arg(long, conflicts_with = "json")]
    pub yaml: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ScenariosNewArgs {
    /// The failure mode the scenario rehearses.
    #[arg(long, value_enum)]
    pub mode: ModeArg,
    /// Its id: lower-case words joined by hyphens (default: my-<mode>-scenario).
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// Write to this file instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Overwrite the file if it exists.
    #[arg(long, requires = "output")]
    pub force: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    Advice,
    Data,
    Authority,
    Escalation,
}

impl ModeArg {
    pub fn mode(self) -> muster_model::common::Mode {
        use muster_model::common::Mode;
        match self {
            ModeArg::Advice => Mode::Advice,
            ModeArg::Data => Mode::Data,
            ModeArg::Authority => Mode::Authority,
            ModeArg::Escalation => Mode::Escalation,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Apply the migrations this muster carries to the store's database (PostgreSQL).
    #[command(
        after_help = "Examples:\n  muster db migrate --store postgres://db.internal/muster\n  MUSTER_STORE=postgres://db.internal/muster PGPASSWORD=… muster db migrate --json\n\nRun once per database when muster is installed or upgraded: servers and workers refuse a schema\nthat is behind (or one a newer muster made). An embedded SQLite store migrates itself when opened.\nExit status: 0 up to date, 2 bad input (a schema this muster does not know), 5 the database could\nnot be reached or migrated."
    )]
    Migrate(DbArgs),
    /// Show the schema version of the store and whether it is current.
    #[command(
        after_help = "Examples:\n  muster db status --store postgres://db.internal/muster\n  muster db status --json\n\nExit status: 0 current, 1 behind (run `muster db migrate`), 2 unknown to this muster, 5 unreachable."
    )]
    Status(DbArgs),
}

#[derive(Debug, Args)]
pub struct DbArgs {
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct MigrateStoreArgs {
    /// The PostgreSQL store to copy into (migrated, empty): `postgres://HOST/DATABASE`.
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// The SQLite store to copy. Default: the project's store (`--store`, muster.toml, or
    /// `.muster/evidence.db`).
    #[arg(long, value_name = "PATH")]
    pub from: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Drill id or unique prefix; every drill when omitted.
    pub drill: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[arg(long)]
    pub json: bool,
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(format!("`{text}` is not a probability between 0 and 1")),
    }
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The drill (id or unique prefix).
    pub drill: String,
    /// The approver role, one of the notice's `approvers` (e.g. comms-lead, legal).
    #[arg(long)]
    pub role: String,
    /// Who approves.
    #[arg(long)]
    pub name: String,
    /// Reject the notice instead.
    #[arg(long)]
    pub reject: bool,
    /// Why (shown with a rejection).
    #[arg(long)]
    pub note: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PackArgs {
    /// The drill (id or unique prefix) or the exercise to pack.
    pub id: String,
    /// Directory to write the pack to (new or empty). Default: pack-<first 8 characters of the drill id>.
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Include raw conversation content: personal data is NOT masked, and the pack warns so.
    #[arg(long)]
    pub include_raw: bool,
    /// The exercise to include (default: the latest exercise that ran or reviews the drill).
    #[arg(long, value_name = "ID")]
    pub exercise: Option<String>,
    /// The Ed25519 signing key file (made there if missing).
    #[arg(long, value_name = "PATH")]
    pub key: Option<PathBuf>,
    /// Skip pack.pdf.
    #[arg(long)]
    pub no_pdf: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PackVerifyArgs {
    /// The pack directory.
    pub dir: PathBuf,
    /// The signer you expect: its fingerprint (`SHA256:…`, as `muster pack` printed it).
    #[arg(long, value_name = "FINGERPRINT")]
    pub key: Option<String>,
    /// muster.lock to compare the drill's root digest with.
    #[arg(long, value_name = "PATH")]
    pub lock: Option<PathBuf>,
    /// List every file's digest check, not only failures.
    #[arg(long)]
    pub verbose: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}
