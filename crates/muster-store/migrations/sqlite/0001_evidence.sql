-- The evidence store, version 1. Append-only: triggers refuse UPDATE and DELETE of events, and
-- verification never relies on them (a file edited by other tools is still caught by the digests).

CREATE TABLE drills (
    id              TEXT PRIMARY KEY,
    started_at_ns   INTEGER NOT NULL,
    finished_at_ns  INTEGER,
    agent           TEXT NOT NULL,
    environment     TEXT NOT NULL,
    manifest_digest TEXT NOT NULL,
    muster_version  TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('running', 'sealed', 'interrupted')),
    root_digest     TEXT,
    summary         TEXT
);

CREATE TABLE streams (
    drill_id  TEXT NOT NULL REFERENCES drills (id),
    stream    TEXT NOT NULL,
    length    INTEGER NOT NULL,
    head      TEXT NOT NULL,
    PRIMARY KEY (drill_id, stream)
);

CREATE TABLE events (
    rowid          INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    drill_id       TEXT NOT NULL REFERENCES drills (id),
    stream         TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    time_ns        INTEGER NOT NULL,
    kind           TEXT NOT NULL,
    fields         TEXT NOT NULL,
    field_digests  TEXT NOT NULL,
    prev           TEXT NOT NULL,
    digest         TEXT NOT NULL
);

CREATE INDEX events_by_stream ON events (drill_id, stream, seq);
CREATE INDEX events_by_kind ON events (drill_id, kind);

CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'evidence is append-only: events cannot be changed');
END;

CREATE TRIGGER events_are_append_only_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'evidence is append-only: events cannot be deleted');
END;

CREATE TRIGGER sealed_drills_stay_sealed BEFORE UPDATE ON drills
WHEN OLD.status <> 'running'
BEGIN
    SELECT RAISE(ABORT, 'a sealed drill cannot be changed');
END;
