-- The national strategy: strategies (versioned by period), axes, objectives (chantiers)
-- and national projects with their milestones.
-- PostgreSQL flavour: BIGINT, DATE and TIMESTAMPTZ.

CREATE TABLE strategy (
    id            TEXT PRIMARY KEY NOT NULL,
    code          TEXT NOT NULL UNIQUE,
    title         TEXT NOT NULL,
    summary       TEXT NOT NULL,
    period_start  DATE NOT NULL,
    period_end    DATE,
    -- brouillon | publiee | archivee
    status        TEXT NOT NULL CHECK (status IN ('brouillon', 'publiee', 'archivee')),
    version       BIGINT NOT NULL DEFAULT 1,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE strategy_axis (
    id           TEXT PRIMARY KEY NOT NULL,
    strategy_id  TEXT NOT NULL REFERENCES strategy (id),
    position     BIGINT NOT NULL,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX strategy_axis_strategy ON strategy_axis (strategy_id, position);

CREATE TABLE strategy_objective (
    id           TEXT PRIMARY KEY NOT NULL,
    axis_id      TEXT NOT NULL REFERENCES strategy_axis (id),
    position     BIGINT NOT NULL,
    code         TEXT NOT NULL,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX strategy_objective_axis ON strategy_objective (axis_id, position);

CREATE TABLE national_project (
    id                TEXT PRIMARY KEY NOT NULL,
    objective_id      TEXT NOT NULL REFERENCES strategy_objective (id),
    code              TEXT NOT NULL UNIQUE,
    title             TEXT NOT NULL,
    description       TEXT NOT NULL,
    goals             TEXT NOT NULL,
    pilote_team       TEXT NOT NULL,
    audiences         TEXT NOT NULL,
    -- Budget envelope in euro cents (exact, never floating point).
    budget_cents      BIGINT,
    -- Indicator codes, space-separated (defined by the indicators domain).
    indicator_codes   TEXT NOT NULL DEFAULT '',
    -- en-preparation | publie | en-cours | termine | abandonne
    status            TEXT NOT NULL CHECK (status IN ('en-preparation', 'publie', 'en-cours', 'termine', 'abandonne')),
    version           BIGINT NOT NULL DEFAULT 1,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX national_project_objective ON national_project (objective_id);

CREATE TABLE project_milestone (
    id          TEXT PRIMARY KEY NOT NULL,
    project_id  TEXT NOT NULL REFERENCES national_project (id),
    position    BIGINT NOT NULL,
    label       TEXT NOT NULL,
    due         DATE NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX project_milestone_project ON project_milestone (project_id, position);
