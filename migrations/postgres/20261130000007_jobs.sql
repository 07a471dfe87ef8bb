-- The job queue: work done outside the request that caused it (mails first), written in the
-- caller's transaction and taken by workers one job at a time, with a lease. States, retries
-- and guarantees are described in crates/core/src/jobs.rs.
-- PostgreSQL flavour: BIGINT and TIMESTAMPTZ (whole seconds, as on SQLite); workers of
-- several instances claim with FOR UPDATE SKIP LOCKED.

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
    attempts      BIGINT NOT NULL DEFAULT 0,
    max_attempts  BIGINT NOT NULL,
    -- Not before this time.
    run_at        TIMESTAMPTZ NOT NULL,
    -- The lease of the current claim (running jobs), and the worker that holds it.
    locked_until  TIMESTAMPTZ,
    locked_by     TEXT,
    last_error    TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    -- When the job became done or dead.
    done_at       TIMESTAMPTZ,
    CHECK (status IN ('pending', 'running', 'done', 'dead'))
);
-- The claim's search: the jobs still to do, oldest due first.
CREATE INDEX job_due ON job (run_at, id) WHERE status IN ('pending', 'running');
