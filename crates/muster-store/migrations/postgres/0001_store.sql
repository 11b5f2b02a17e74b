-- The evidence store on PostgreSQL, version 1: the same tables, guarantees and queries as the
-- embedded SQLite store (migrations/sqlite, 0001 to 0006), for a team's shared store.
--
-- Append-only: triggers refuse UPDATE and DELETE of evidence; verification never relies on them
-- (a row edited by a superuser with triggers off is still caught by the digests).
--
-- Chains are extended under a transaction-scoped advisory lock per chain (a drill's stream, an
-- ingested source), taken before its head is read: any number of processes may append, one at a
-- time per chain. The unique (drill_id, stream, seq) key on drill events backs that up; ingested
-- evidence is partitioned by time, where a unique key must include the partition key, so its
-- (source, seq) uniqueness rests on the lock and is checked by `store verify`.

CREATE FUNCTION muster_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TABLE drills (
    id              TEXT PRIMARY KEY,
    started_at_ns   BIGINT NOT NULL,
    finished_at_ns  BIGINT,
    agent           TEXT NOT NULL,
    environment     TEXT NOT NULL,
    manifest_digest TEXT NOT NULL,
    muster_version  TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('running', 'sealed', 'interrupted')),
    root_digest     TEXT,
    summary         TEXT
);

CREATE TRIGGER sealed_drills_stay_sealed BEFORE UPDATE ON drills
FOR EACH ROW WHEN (OLD.status <> 'running')
EXECUTE FUNCTION muster_refuse_change('a sealed drill cannot be changed');

CREATE TABLE streams (
    drill_id  TEXT NOT NULL REFERENCES drills (id),
    stream    TEXT NOT NULL,
    length    BIGINT NOT NULL,
    head      TEXT NOT NULL,
    PRIMARY KEY (drill_id, stream)
);

CREATE TABLE events (
    position       BIGSERIAL PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    drill_id       TEXT NOT NULL REFERENCES drills (id),
    stream         TEXT NOT NULL,
    seq            BIGINT NOT NULL,
    time_ns        BIGINT NOT NULL,
    kind           TEXT NOT NULL,
    fields         TEXT NOT NULL,
    field_digests  TEXT NOT NULL,
    prev           TEXT NOT NULL,
    digest         TEXT NOT NULL,
    UNIQUE (drill_id, stream, seq)
);

CREATE TRIGGER events_are_append_only BEFORE UPDATE OR DELETE ON events
FOR EACH ROW EXECUTE FUNCTION muster_refuse_change('evidence is append-only: events cannot be changed or deleted');

CREATE TABLE addenda (
    position       BIGSERIAL PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    drill_id       TEXT NOT NULL REFERENCES drills (id),
    seq            BIGINT NOT NULL,
    time_ns        BIGINT NOT NULL,
    kind           TEXT NOT NULL,
    fields         TEXT NOT NULL,
    field_digests  TEXT NOT NULL,
    prev           TEXT NOT NULL,
    digest         TEXT NOT NULL,
    UNIQUE (drill_id, seq)
);

CREATE TRIGGER addenda_are_append_only BEFORE UPDATE OR DELETE ON addenda
FOR EACH ROW EXECUTE FUNCTION muster_refuse_change('addenda are append-only: they cannot be changed or deleted');

-- Ingested evidence. One chain per source (drill id `evidence`, stream = the source name).
CREATE TABLE evidence_sources (
    name    TEXT PRIMARY KEY,
    length  BIGINT NOT NULL,
    head    TEXT NOT NULL
);

-- Insertion order across partitions (SQLite's rowid): the order `store verify` reads a chain in
-- when two rows claim one position, and the order of the quarantine and the audit.
CREATE SEQUENCE evidence_position;

-- Partitioned by calendar month (UTC) of the event's time: a month's partition is created by the
-- first batch that needs it (`muster-store` names it `evidence_pYYYYMM`). Old months can be
-- detached and archived whole; nothing here ever deletes a row.
CREATE TABLE evidence (
    position         BIGINT NOT NULL DEFAULT nextval('evidence_position'),
    source           TEXT NOT NULL,
    seq              BIGINT NOT NULL,
    time_ns          BIGINT NOT NULL,
    observed_ns      BIGINT NOT NULL,
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
    content          TEXT,
    attributes       TEXT,
    fields           TEXT NOT NULL,
    field_digests    TEXT NOT NULL,
    raw_pointer      TEXT NOT NULL,
    content_digest   TEXT NOT NULL,
    prev             TEXT NOT NULL,
    digest           TEXT NOT NULL,
    -- Full text: the `simple` configuration lower-cases and splits words without stemming or stop
    -- words, as SQLite's FTS5 `unicode61` tokenizer does.
    content_tsv      tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(content, ''))) STORED
) PARTITION BY RANGE (time_ns);

CREATE INDEX evidence_chain ON evidence (source, seq);
CREATE INDEX evidence_identity ON evidence (source, raw_pointer);
CREATE INDEX evidence_by_conversation ON evidence (conversation_id, time_ns) WHERE conversation_id IS NOT NULL;
CREATE INDEX evidence_by_customer ON evidence (customer_ref, time_ns) WHERE customer_ref IS NOT NULL;
CREATE INDEX evidence_by_trace ON evidence (trace_id, time_ns) WHERE trace_id IS NOT NULL;
CREATE INDEX evidence_by_span ON evidence (span_id) WHERE span_id IS NOT NULL;
CREATE INDEX evidence_by_ticket ON evidence (ticket_id) WHERE ticket_id IS NOT NULL;
CREATE INDEX evidence_by_case ON evidence (case_id) WHERE case_id IS NOT NULL;
CREATE INDEX evidence_by_time ON evidence (time_ns);
CREATE INDEX evidence_text ON evidence USING GIN (content_tsv);

CREATE TRIGGER evidence_is_append_only BEFORE UPDATE OR DELETE ON evidence
FOR EACH ROW EXECUTE FUNCTION muster_refuse_change('evidence is append-only: ingested events cannot be changed or deleted');

CREATE TABLE quarantine (
    position       BIGSERIAL PRIMARY KEY,
    source         TEXT NOT NULL,
    format         TEXT NOT NULL,
    raw_pointer    TEXT NOT NULL,
    reason         TEXT NOT NULL,
    raw_excerpt    TEXT NOT NULL,
    recorded_ns    BIGINT NOT NULL,
    UNIQUE (source, raw_pointer, reason)
);

CREATE TRIGGER quarantine_is_append_only BEFORE UPDATE OR DELETE ON quarantine
FOR EACH ROW EXECUTE FUNCTION muster_refuse_change('the quarantine is append-only: records cannot be changed or deleted');

CREATE TABLE ingest_batches (
    position       BIGSERIAL PRIMARY KEY,
    source         TEXT NOT NULL,
    input          TEXT NOT NULL,
    offset_reached BIGINT,
    complete       BOOLEAN NOT NULL,
    events         BIGINT NOT NULL,
    duplicates     BIGINT NOT NULL,
    quarantined    BIGINT NOT NULL,
    committed_ns   BIGINT NOT NULL,
    cursor         TEXT
);

CREATE INDEX ingest_batches_by_input ON ingest_batches (source, input);

CREATE TRIGGER ingest_batches_are_append_only BEFORE UPDATE OR DELETE ON ingest_batches
FOR EACH ROW EXECUTE FUNCTION muster_refuse_change('ingest batches are append-only');

CREATE TABLE access_audit (
    position  BIGSERIAL PRIMARY KEY,
    at_ns     BIGINT NOT NULL,
    who       TEXT NOT NULL,
    command   TEXT NOT NULL,
    what      TEXT NOT NULL,
    why       TEXT NOT NULL
);

CREATE TRIGGER access_audit_is_append_only BEFORE UPDATE OR DELETE ON access_audit
FOR EACH ROW EXECUTE FUNCTION muster_refuse_change('the access audit is append-only');

-- The exercise console.
CREATE TABLE console_users (
    id             TEXT PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    display_name   TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL,
    is_admin       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at_ns  BIGINT NOT NULL
);

CREATE TABLE console_sessions (
    token_digest   TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES console_users (id),
    csrf_token     TEXT NOT NULL,
    created_at_ns  BIGINT NOT NULL,
    expires_at_ns  BIGINT NOT NULL
);
CREATE INDEX console_sessions_by_user ON console_sessions (user_id);

CREATE TABLE exercises (
    id             TEXT PRIMARY KEY,
    title          TEXT NOT NULL,
    created_at_ns  BIGINT NOT NULL,
    created_by     TEXT NOT NULL,
    definition     TEXT NOT NULL
);

CREATE TABLE exercise_log (
    position       BIGSERIAL PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    exercise_id    TEXT NOT NULL REFERENCES exercises (id),
    seq            BIGINT NOT NULL,
    time_ns        BIGINT NOT NULL,
    kind           TEXT NOT NULL,
    fields         TEXT NOT NULL,
    field_digests  TEXT NOT NULL,
    prev           TEXT NOT NULL,
    digest         TEXT NOT NULL,
    once_key       TEXT,
    UNIQUE (exercise_id, seq),
    UNIQUE (exercise_id, once_key)
);

CREATE TRIGGER exercise_log_is_append_only BEFORE UPDATE OR DELETE ON exercise_log
FOR EACH ROW EXECUTE FUNCTION muster_refuse_change('the exercise log is append-only: entries cannot be changed or deleted');

CREATE TABLE severity_models (
    version        BIGINT PRIMARY KEY,
    levels         TEXT NOT NULL,
    edited_by      TEXT NOT NULL,
    edited_at_ns   BIGINT NOT NULL
);

CREATE TRIGGER severity_models_are_append_only BEFORE UPDATE ON severity_models
FOR EACH ROW EXECUTE FUNCTION muster_refuse_change('severity model versions cannot be changed; save a new version');
