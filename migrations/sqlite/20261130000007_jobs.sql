-- The job queue: work done outside the request that caused it (mails first), written in the
-- caller's transaction and taken by workers one job at a time, with a lease. States, retries
-- and guarantees are described in crates/core/src/jobs.rs.
-- SQLite flavour: integers INTEGER, times ISO-8601 TEXT in whole seconds (UTC), so that their
-- text order is their time order.

CREATE TABLE job (
    -- A UUIDv7: its text order is creation order (the tie-break between jobs due together).
    id            TEXT PRIMARY KEY NOT NULL,
    -- What to do: mail, …
    kind          TEXT NOT NULL,
    -- The input of the work, as JSON.
    payload       TEXT NOT NULL,
    -- Enqueueing a second job with the same key does nothing.
    dedupe_key    TEXT NOT NULL UNIQUE,
    -- pending | running | done | dead
    status        TEXT NOT NULL DEFAULT 'pending',
    attempts      INTEGER NOT NULL DEFAULT 0,
    max_attempts  INTEGER NOT NULL,
    -- Not before this time.
    run_at        TEXT NOT NULL,
    -- The lease of the current claim (running jobs), and the worker that holds it.
    locked_until  TEXT,
    locked_by     TEXT,
    last_error    TEXT,
    created_at    TEXT NOT NULL,
    -- When the job became done or dead.
    done_at       TEXT,
    CHECK (status IN ('pending', 'running', 'done', 'dead'))
);
-- The claim's search: the jobs still to do, oldest due first.
CREATE INDEX job_due ON job (run_at, id) WHERE status IN ('pending', 'running');
