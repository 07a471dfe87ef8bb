-- Identity, perimeters and the audit trail.
-- PostgreSQL flavour: native BOOLEAN, BIGINT, DATE and TIMESTAMPTZ.

-- Organisations that can be a perimeter: operators, INSPE, Canopé, companies, associations.
CREATE TABLE organisation (
    id          TEXT PRIMARY KEY NOT NULL,
    nom         TEXT NOT NULL,
    kind        TEXT NOT NULL,
    siren       TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE app_user (
    id             TEXT PRIMARY KEY NOT NULL,
    email          TEXT NOT NULL UNIQUE,
    display_name   TEXT NOT NULL,
    -- argon2id PHC string; NULL for accounts that only sign in through SSO.
    password_hash  TEXT,
    -- active | pending (first SSO login, awaiting an administrator) | disabled
    status         TEXT NOT NULL CHECK (status IN ('active', 'pending', 'disabled')),
    oidc_subject   TEXT UNIQUE,
    siret          TEXT,
    erased_at      TIMESTAMPTZ,
    version        BIGINT NOT NULL DEFAULT 1,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);

-- A role held by a person on a perimeter for a period [valid_from, valid_until).
CREATE TABLE role_assignment (
    id              TEXT PRIMARY KEY NOT NULL,
    user_id         TEXT NOT NULL REFERENCES app_user (id),
    role            TEXT NOT NULL,
    perimeter_kind  TEXT NOT NULL,
    perimeter_code  TEXT NOT NULL,
    valid_from      DATE NOT NULL,
    valid_until     DATE,
    granted_by      TEXT REFERENCES app_user (id),
    ended_by        TEXT REFERENCES app_user (id),
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX role_assignment_user ON role_assignment (user_id);
CREATE INDEX role_assignment_perimeter ON role_assignment (perimeter_kind, perimeter_code);

-- Server-side sessions; the cookie carries a random secret, the table its SHA-256.
CREATE TABLE user_session (
    id_hash       TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES app_user (id),
    created_at    TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX user_session_user ON user_session (user_id);

CREATE TABLE api_token (
    id            TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES app_user (id),
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    read_only     BOOLEAN NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL,
    revoked_at    TIMESTAMPTZ,
    last_used_at  TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX api_token_user ON api_token (user_id);

-- Failed logins, per account and per address, for throttling across instances.
CREATE TABLE login_failure (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject  TEXT NOT NULL,
    at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_failure_subject ON login_failure (subject, at);

-- OpenID Connect logins in progress (state, nonce, PKCE verifier), single use.
CREATE TABLE oidc_pending (
    state          TEXT PRIMARY KEY NOT NULL,
    nonce          TEXT NOT NULL,
    pkce_verifier  TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL
);

-- The audit trail: one entry per change, chained by hash.
-- `payload_digest` is the SHA-256 of the personal and descriptive part (actor label,
-- before, after); the chain covers the digest, so that erasing a person's data (RGPD)
-- replaces the payload without breaking the chain.
CREATE TABLE audit_entry (
    seq             BIGINT PRIMARY KEY NOT NULL,
    at              TIMESTAMPTZ NOT NULL,
    actor_id        TEXT,
    actor_label     TEXT NOT NULL,
    action          TEXT NOT NULL,
    object_kind     TEXT NOT NULL,
    object_id       TEXT NOT NULL,
    before_json     TEXT,
    after_json      TEXT,
    payload_digest  TEXT NOT NULL,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL,
    erased          BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX audit_entry_object ON audit_entry (object_kind, object_id);
CREATE INDEX audit_entry_actor ON audit_entry (actor_id);

-- The head of the chain, one row: updating it serialises writers on both engines.
CREATE TABLE audit_head (
    id         BIGINT PRIMARY KEY NOT NULL CHECK (id = 1),
    last_seq   BIGINT NOT NULL,
    last_hash  TEXT NOT NULL
);
INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
