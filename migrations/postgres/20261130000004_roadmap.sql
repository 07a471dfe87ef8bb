-- Academic roadmaps (feuilles de route) and the declension of national projects.
-- An item declined from a national project keeps a live link to it: fields left NULL are
-- inherited; a filled field is a local adaptation. `national_version` is the version of
-- the project the académie last reviewed: a newer national version means "to review".
-- PostgreSQL flavour: BOOLEAN, BIGINT, DATE and TIMESTAMPTZ.

CREATE TABLE roadmap (
    id             TEXT PRIMARY KEY NOT NULL,
    academie_code  TEXT NOT NULL REFERENCES academie (code),
    strategy_id    TEXT NOT NULL REFERENCES strategy (id),
    title          TEXT NOT NULL,
    -- brouillon | consultation | validee | publiee | bilan
    status         TEXT NOT NULL,
    version        BIGINT NOT NULL DEFAULT 1,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (academie_code, strategy_id)
);

CREATE TABLE roadmap_item (
    id                   TEXT PRIMARY KEY NOT NULL,
    roadmap_id           TEXT NOT NULL REFERENCES roadmap (id),
    national_project_id  TEXT REFERENCES national_project (id),
    national_version     BIGINT,
    -- True: inherited fields follow the national project; false: frozen on the snapshot.
    follows_national     BOOLEAN NOT NULL DEFAULT TRUE,
    -- The national fields as last reviewed (JSON), for the side-by-side view.
    national_snapshot    TEXT,
    review_reason        TEXT,
    title                TEXT,
    local_pilote         TEXT,
    local_target         TEXT,
    start_date           DATE,
    end_date             DATE,
    not_applicable       BOOLEAN NOT NULL DEFAULT FALSE,
    justification        TEXT,
    -- non-commence | en-cours | termine | en-retard | abandonne
    status               TEXT NOT NULL,
    progress             BIGINT NOT NULL DEFAULT 0,
    version              BIGINT NOT NULL DEFAULT 1,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    UNIQUE (roadmap_id, national_project_id)
);
CREATE INDEX roadmap_item_project ON roadmap_item (national_project_id);
