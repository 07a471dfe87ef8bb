-- Roadmap lifecycle: consultation with invited organisations and their comments, and the
-- numbered versions frozen at each validation (for comparison).
-- PostgreSQL flavour: BIGINT, DATE and TIMESTAMPTZ.

-- Perimeters invited to the consultation (a collectivité, an organisation…): their members comment.
CREATE TABLE roadmap_invitation (
    roadmap_id      TEXT NOT NULL REFERENCES roadmap (id),
    perimeter_kind  TEXT NOT NULL,
    perimeter_code  TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (roadmap_id, perimeter_kind, perimeter_code)
);

CREATE TABLE roadmap_comment (
    id                TEXT PRIMARY KEY NOT NULL,
    roadmap_id        TEXT NOT NULL REFERENCES roadmap (id),
    declension_id     TEXT REFERENCES roadmap_item (id),
    author_id         TEXT NOT NULL REFERENCES app_user (id),
    body              TEXT NOT NULL,
    proposed_wording  TEXT,
    -- en-attente | acceptee | partielle | rejetee
    answer_status     TEXT NOT NULL,
    answer_text       TEXT,
    answered_by       TEXT REFERENCES app_user (id),
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX roadmap_comment_roadmap ON roadmap_comment (roadmap_id);

CREATE TABLE roadmap_version (
    id             TEXT PRIMARY KEY NOT NULL,
    roadmap_id     TEXT NOT NULL REFERENCES roadmap (id),
    number         BIGINT NOT NULL,
    committee_date DATE NOT NULL,
    validated_by   TEXT NOT NULL REFERENCES app_user (id),
    -- The roadmap as validated (JSON): one object per declension, keyed by project code.
    snapshot       TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (roadmap_id, number)
);
