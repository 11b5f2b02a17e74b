-- Addenda: what is recorded about a drill after its seal (approvals of a customer notice, later
-- exercise decisions). Their own chain starts from the drill's root digest, so an addendum names
-- exactly the sealed drill it belongs to, and the sealed drill itself never changes.

CREATE TABLE addenda (
    rowid          INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    drill_id       TEXT NOT NULL REFERENCES drills (id),
    seq            INTEGER NOT NULL,
    time_ns        INTEGER NOT NULL,
    kind           TEXT NOT NULL,
    fields         TEXT NOT NULL,
    field_digests  TEXT NOT NULL,
    prev           TEXT NOT NULL,
    digest         TEXT NOT NULL,
    UNIQUE (drill_id, seq)
);

CREATE TRIGGER addenda_are_append_only_update BEFORE UPDATE ON addenda
BEGIN
    SELECT RAISE(ABORT, 'addenda are append-only: they cannot be changed');
END;

CREATE TRIGGER addenda_are_append_only_delete BEFORE DELETE ON addenda
BEGIN
    SELECT RAISE(ABORT, 'addenda are append-only: they cannot be deleted');
END;
