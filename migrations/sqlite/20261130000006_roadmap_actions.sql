-- The académie's own objectives and the actions of its roadmap, with their milestones,
-- budget lines by funder, perimeter (JSON columns), partner organisations and dependencies
-- (tables, for their foreign keys); and the annual reviews (bilans). Child rows are
-- replaced whole when their action is saved (the action's version guards them).
-- SQLite flavour: booleans INTEGER 0/1, dates and timestamps ISO-8601 TEXT, amounts in cents.

CREATE TABLE roadmap_objective (
    id                     TEXT PRIMARY KEY NOT NULL,
    roadmap_id             TEXT NOT NULL REFERENCES roadmap (id),
    code                   TEXT NOT NULL,
    -- The axis as the académie names it (used when no national objective is linked).
    axis_title             TEXT NOT NULL,
    title                  TEXT NOT NULL,
    description            TEXT NOT NULL DEFAULT '',
    national_objective_id  TEXT REFERENCES strategy_objective (id),
    version                INTEGER NOT NULL DEFAULT 1,
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL,
    UNIQUE (roadmap_id, code)
);

CREATE TABLE roadmap_action (
    id              TEXT PRIMARY KEY NOT NULL,
    roadmap_id      TEXT NOT NULL REFERENCES roadmap (id),
    code            TEXT NOT NULL,
    -- Exactly one parent: a declined national project or an objective of the académie.
    declension_id   TEXT REFERENCES roadmap_item (id),
    objective_id    TEXT REFERENCES roadmap_objective (id),
    title           TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    pilote_user_id  TEXT REFERENCES app_user (id),
    pilote_team     TEXT,
    start_date      TEXT,
    end_date        TEXT,
    -- non-commence | en-cours | termine | en-retard | abandonne
    status          TEXT NOT NULL,
    progress        INTEGER NOT NULL DEFAULT 0,
    risks           TEXT NOT NULL DEFAULT '',
    -- Milestones [{label, due_date, done}], budget lines [{funder_kind, funder_label, year,
    -- amount_cents}] and perimeter [{kind, code, departement}] as JSON arrays: read whole with
    -- their action, never queried on their own.
    milestones      TEXT NOT NULL DEFAULT '[]',
    budget          TEXT NOT NULL DEFAULT '[]',
    scope           TEXT NOT NULL DEFAULT '[]',
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (roadmap_id, code),
    CHECK ((declension_id IS NULL) <> (objective_id IS NULL))
);
CREATE INDEX roadmap_action_pilote ON roadmap_action (pilote_user_id);
CREATE INDEX roadmap_action_declension ON roadmap_action (declension_id);
CREATE INDEX roadmap_action_objective ON roadmap_action (objective_id);

CREATE TABLE roadmap_action_partner (
    action_id        TEXT NOT NULL REFERENCES roadmap_action (id),
    organisation_id  TEXT NOT NULL REFERENCES organisation (id),
    PRIMARY KEY (action_id, organisation_id)
);

CREATE TABLE roadmap_action_dependency (
    action_id      TEXT NOT NULL REFERENCES roadmap_action (id),
    depends_on_id  TEXT NOT NULL REFERENCES roadmap_action (id),
    PRIMARY KEY (action_id, depends_on_id)
);
CREATE INDEX roadmap_action_dependency_target ON roadmap_action_dependency (depends_on_id);

-- The annual review of a roadmap: what was done in a year, written by the DAN.
CREATE TABLE roadmap_bilan (
    roadmap_id  TEXT NOT NULL REFERENCES roadmap (id),
    year        INTEGER NOT NULL,
    summary     TEXT NOT NULL,
    -- Counts of actions by status at the time of the review (JSON).
    figures     TEXT NOT NULL,
    author_id   TEXT NOT NULL REFERENCES app_user (id),
    created_at  TEXT NOT NULL,
    PRIMARY KEY (roadmap_id, year)
);
