-- The exercise console: accounts, sessions, exercises and each exercise's append-only log.
-- Accounts and sessions are operational state (a password can change, a session ends); what
-- happened in an exercise is evidence and goes to `exercise_log`, chained like a drill's stream.

CREATE TABLE console_users (
    id             TEXT PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    display_name   TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL,
    is_admin       INTEGER NOT NULL DEFAULT 0,
    created_at_ns  INTEGER NOT NULL
);

-- Only a digest of the session token is stored: a copy of the file does not log anyone in.
CREATE TABLE console_sessions (
    token_digest   TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES console_users (id),
    csrf_token     TEXT NOT NULL,
    created_at_ns  INTEGER NOT NULL,
    expires_at_ns  INTEGER NOT NULL
);
CREATE INDEX console_sessions_by_user ON console_sessions (user_id);

CREATE TABLE exercises (
    id             TEXT PRIMARY KEY,
    title          TEXT NOT NULL,
    created_at_ns  INTEGER NOT NULL,
    created_by     TEXT NOT NULL,
    definition     TEXT NOT NULL
);

CREATE TABLE exercise_log (
    rowid          INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    exercise_id    TEXT NOT NULL REFERENCES exercises (id),
    seq            INTEGER NOT NULL,
    time_ns        INTEGER NOT NULL,
    kind           TEXT NOT NULL,
    fields         TEXT NOT NULL,
    field_digests  TEXT NOT NULL,
    prev           TEXT NOT NULL,
    digest         TEXT NOT NULL,
    -- Set for entries that must happen once (an inject's release): a second writer's copy is refused.
    once_key       TEXT,
    UNIQUE (exercise_id, seq),
    UNIQUE (exercise_id, once_key)
);

CREATE TRIGGER exercise_log_is_append_only_update BEFORE UPDATE ON exercise_log
BEGIN
    SELECT RAISE(ABORT, 'the exercise log is append-only: entries cannot be changed');
END;

CREATE TRIGGER exercise_log_is_append_only_delete BEFORE DELETE ON exercise_log
BEGIN
    SELECT RAISE(ABORT, 'the exercise log is append-only: entries cannot be deleted');
END;

-- The incident severity model (SEV1..SEV5 style), versioned: an edit adds a version, so a severity
-- recorded in an exercise names the definitions it was judged against.
CREATE TABLE severity_models (
    version        INTEGER PRIMARY KEY,
    levels         TEXT NOT NULL,
    edited_by      TEXT NOT NULL,
    edited_at_ns   INTEGER NOT NULL
);

CREATE TRIGGER severity_models_are_append_only_update BEFORE UPDATE ON severity_models
BEGIN
    SELECT RAISE(ABORT, 'severity model versions cannot be changed; save a new version');
END;
