-- Ingested evidence: events read from the real stack (agent traces, helpdesk, CRM, monitoring).
-- Append-only like drill events: triggers refuse UPDATE and DELETE, and each source's events form
-- one hash chain (muster-evidence's StreamChain, drill id `evidence`, stream = the source name),
-- extended in the same transaction that stores them. Verification never relies on the triggers.

-- One row per source: its chain's length and head. Updated in the transaction that appends.
CREATE TABLE evidence_sources (
    name    TEXT PRIMARY KEY,
    length  INTEGER NOT NULL,
    head    TEXT NOT NULL
);

CREATE TABLE evidence (
    rowid            INTEGER PRIMARY KEY,
    source           TEXT NOT NULL,
    seq              INTEGER NOT NULL,
    time_ns          INTEGER NOT NULL,
    observed_ns      INTEGER NOT NULL,
    system           TEXT NOT NULL,
    format           TEXT NOT NULL,
    kind             TEXT NOT NULL,
    conversation_id  TEXT,
    customer_ref     TEXT,
    trace_id         TEXT,
    span_id          TEXT,
    ticket_id        TEXT,
    case_id          TEXT,
    actor            TEXT,
    -- Two fields kept in their own columns (searched and shown); every other field of the event's
    -- JSON shape is in `fields`. Together they rebuild the event and its sealed form.
    content          TEXT,
    attributes       TEXT,
    fields           TEXT NOT NULL,
    field_digests    TEXT NOT NULL,
    -- The record's place in its input (`RawPointer` as JSON) and the digest of the event's
    -- contents: together with the source, the record's identity for idempotent re-ingest.
    raw_pointer      TEXT NOT NULL,
    content_digest   TEXT NOT NULL,
    prev             TEXT NOT NULL,
    digest           TEXT NOT NULL,
    UNIQUE (source, seq)
);

CREATE UNIQUE INDEX evidence_identity ON evidence (source, raw_pointer, content_digest);
CREATE INDEX evidence_by_conversation ON evidence (conversation_id, time_ns) WHERE conversation_id IS NOT NULL;
CREATE INDEX evidence_by_customer ON evidence (customer_ref, time_ns) WHERE customer_ref IS NOT NULL;
CREATE INDEX evidence_by_trace ON evidence (trace_id, time_ns) WHERE trace_id IS NOT NULL;
CREATE INDEX evidence_by_span ON evidence (span_id) WHERE span_id IS NOT NULL;
CREATE INDEX evidence_by_ticket ON evidence (ticket_id) WHERE ticket_id IS NOT NULL;
CREATE INDEX evidence_by_case ON evidence (case_id) WHERE case_id IS NOT NULL;
CREATE INDEX evidence_by_time ON evidence (time_ns);

-- Full text over content. External content (no second copy of the text); filled by a trigger, so
-- the index is always updated in the transaction that inserts the event, never later.
CREATE VIRTUAL TABLE evidence_fts USING fts5 (content, content = 'evidence', content_rowid = 'rowid');

CREATE TRIGGER evidence_fts_insert AFTER INSERT ON evidence
WHEN NEW.content IS NOT NULL
BEGIN
    INSERT INTO evidence_fts (rowid, content) VALUES (NEW.rowid, NEW.content);
END;

CREATE TRIGGER evidence_is_append_only_update BEFORE UPDATE ON evidence
BEGIN
    SELECT RAISE(ABORT, 'evidence is append-only: ingested events cannot be changed');
END;

CREATE TRIGGER evidence_is_append_only_delete BEFORE DELETE ON evidence
BEGIN
    SELECT RAISE(ABORT, 'evidence is append-only: ingested events cannot be deleted');
END;

-- Records a reader could not read, with why. The same record quarantined twice is kept once.
CREATE TABLE quarantine (
    rowid          INTEGER PRIMARY KEY,
    source         TEXT NOT NULL,
    format         TEXT NOT NULL,
    raw_pointer    TEXT NOT NULL,
    reason         TEXT NOT NULL,
    raw_excerpt    TEXT NOT NULL,
    recorded_ns    INTEGER NOT NULL,
    UNIQUE (source, raw_pointer, reason)
);

CREATE TRIGGER quarantine_is_append_only_update BEFORE UPDATE ON quarantine
BEGIN
    SELECT RAISE(ABORT, 'the quarantine is append-only: records cannot be changed');
END;

CREATE TRIGGER quarantine_is_append_only_delete BEFORE DELETE ON quarantine
BEGIN
    SELECT RAISE(ABORT, 'the quarantine is append-only: records cannot be deleted');
END;

-- One row per committed ingest batch: what was read and how far. The largest `offset_reached` for
-- a (source, input) is where an interrupted ingest resumes; `complete` marks an input read to its end.
CREATE TABLE ingest_batches (
    rowid          INTEGER PRIMARY KEY,
    source         TEXT NOT NULL,
    input          TEXT NOT NULL,
    offset_reached INTEGER,
    complete       INTEGER NOT NULL,
    events         INTEGER NOT NULL,
    duplicates     INTEGER NOT NULL,
    quarantined    INTEGER NOT NULL,
    committed_ns   INTEGER NOT NULL
);

CREATE INDEX ingest_batches_by_input ON ingest_batches (source, input);

CREATE TRIGGER ingest_batches_are_append_only_update BEFORE UPDATE ON ingest_batches
BEGIN
    SELECT RAISE(ABORT, 'ingest batches are append-only');
END;

CREATE TRIGGER ingest_batches_are_append_only_delete BEFORE DELETE ON ingest_batches
BEGIN
    SELECT RAISE(ABORT, 'ingest batches are append-only');
END;

-- Who read personal data unredacted (`--raw`), when, what and why.
CREATE TABLE access_audit (
    rowid     INTEGER PRIMARY KEY,
    at_ns     INTEGER NOT NULL,
    who       TEXT NOT NULL,
    command   TEXT NOT NULL,
    what      TEXT NOT NULL,
    why       TEXT NOT NULL
);

CREATE TRIGGER access_audit_is_append_only_update BEFORE UPDATE ON access_audit
BEGIN
    SELECT RAISE(ABORT, 'the access audit is append-only');
END;

CREATE TRIGGER access_audit_is_append_only_delete BEFORE DELETE ON access_audit
BEGIN
    SELECT RAISE(ABORT, 'the access audit is append-only');
END;
