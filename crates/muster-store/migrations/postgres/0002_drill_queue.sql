-- Distributed drills: a drill's conversations as a queue in the shared store, taken by `muster
-- worker` processes on any number of machines (`FOR UPDATE SKIP LOCKED`), and a request-slot row
-- per target so a rate limit holds across every worker.
--
-- Times that decide ownership (leases, request slots) are read from the database's clock
-- (`muster_now_ns`), never a worker's, so machines whose clocks disagree still agree on who owns
-- a conversation and when a target may be sent the next request.

CREATE FUNCTION muster_now_ns() RETURNS BIGINT LANGUAGE sql VOLATILE AS $$
    SELECT (extract(epoch FROM clock_timestamp()) * 1000000000)::BIGINT
$$;

-- What a worker needs to run any conversation of a drill: the plan's texts (rebuilt and checked
-- against their digests by the worker) and the run options. Closed once the coordinator has
-- counted every conversation (or stopped): nothing of a closed job is taken.
CREATE TABLE drill_jobs (
    drill_id         TEXT PRIMARY KEY REFERENCES drills (id),
    manifest_source  TEXT NOT NULL,
    manifest_text    TEXT NOT NULL,
    manifest_digest  TEXT NOT NULL,
    -- JSON: [{"source", "text", "digest"}] in plan order.
    scenarios        TEXT NOT NULL,
    -- JSON: the run options workers apply (rewording, …).
    options          TEXT NOT NULL,
    base_url         TEXT,
    created_ns       BIGINT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('open', 'closed'))
);

-- One row per conversation (planned scenario, run). `attempt` counts the times it was taken; a
-- result is accepted only from the attempt that holds the row, so a worker that lost its lease
-- (dead, or too slow to renew) is never counted.
CREATE TABLE drill_queue (
    id               BIGSERIAL PRIMARY KEY,
    drill_id         TEXT NOT NULL REFERENCES drill_jobs (drill_id),
    scenario_index   INT NOT NULL,
    run              INT NOT NULL,
    -- Runs of a scenario that plants test data never overlap (they would plant and remove the
    -- same record under each other): one such row runs at a time per scenario, on any worker.
    exclusive        BOOLEAN NOT NULL DEFAULT FALSE,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done')),
    attempt          INT NOT NULL DEFAULT 0,
    worker           TEXT,
    -- Every worker that took it, in order.
    workers          TEXT[] NOT NULL DEFAULT '{}',
    lease_until_ns   BIGINT,
    -- Why the last attempt gave the row back (a worker's own error), if it did.
    last_error       TEXT,
    -- JSON: the conversation's outcome, from the attempt that completed it.
    result           TEXT,
    finished_ns      BIGINT,
    UNIQUE (drill_id, scenario_index, run)
);

CREATE INDEX drill_queue_unfinished ON drill_queue (id) WHERE state <> 'done';

-- A conversation is counted once: a finished row never changes again.
CREATE TRIGGER finished_conversations_stay_finished BEFORE UPDATE OR DELETE ON drill_queue
FOR EACH ROW WHEN (OLD.state = 'done')
EXECUTE FUNCTION muster_refuse_change('a finished conversation cannot be changed');

-- The next free request slot per target (ns, database clock), shared by every worker.
CREATE TABLE target_rate (
    target        TEXT PRIMARY KEY,
    next_slot_ns  BIGINT NOT NULL
);
