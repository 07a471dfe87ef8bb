-- Equipment, acquisition and maintenance: the inventory of each school by category (ETIC
-- style counts, each figure with its date and source, history kept), the pupil and class
-- counts imported from the ministry's open data, the collectivités' acquisition and
-- maintenance plans (lines per year and school, maintenance contracts, links to convention
-- commitments), the needs declared by national projects and roadmap actions, and the
-- comments of the académie. The gap analysis is computed from these tables in SQL
-- (crates/core/src/equipment/repo.rs), never stored.
-- Amounts are exact euro cents (INTEGER).
-- SQLite flavour: dates and timestamps ISO-8601 TEXT.

-- The head of a school's inventory: its version guards concurrent declarations.
CREATE TABLE equip_school (
    uai             TEXT PRIMARY KEY NOT NULL REFERENCES etablissement (uai),
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

-- One figure of one category for one school. A new declaration supersedes the current one
-- (superseded_at set), which stays for the history.
CREATE TABLE equip_declaration (
    id              TEXT PRIMARY KEY NOT NULL,
    uai             TEXT NOT NULL REFERENCES etablissement (uai),
    -- poste-fixe | poste-mobile | tablette | equipement-individuel | ecran-interactif |
    -- videoprojecteur | classe-mobile (counts); wifi (% of classrooms) | debit (Mb/s) |
    -- ent (0/1) | maintenance (arrangement, no count)
    category        TEXT NOT NULL,
    quantity        INTEGER,
    -- Of the quantity, the units older than the renewal age (5 years).
    quantity_old    INTEGER,
    -- Maintenance: collectivite | prestataire | gip | academie | etablissement
    maintainer      TEXT,
    service_level   TEXT,
    response_hours  INTEGER,
    -- The day the figure describes, and where it comes from.
    as_of           TEXT NOT NULL,
    source          TEXT NOT NULL,
    note            TEXT NOT NULL DEFAULT '',
    declared_by     TEXT REFERENCES app_user (id),
    created_at      TEXT NOT NULL,
    superseded_at   TEXT,
    CHECK (quantity IS NULL OR quantity >= 0),
    CHECK (quantity_old IS NULL OR (quantity_old >= 0 AND quantity IS NOT NULL AND quantity_old <= quantity)),
    CHECK (response_hours IS NULL OR response_hours >= 0)
);
CREATE UNIQUE INDEX equip_declaration_current ON equip_declaration (uai, category) WHERE superseded_at IS NULL;
CREATE INDEX equip_declaration_history ON equip_declaration (uai, category, as_of);

-- Classes and pupils of a school for a school year (the year of the rentrée).
CREATE TABLE equip_pupils (
    uai             TEXT NOT NULL REFERENCES etablissement (uai),
    school_year     INTEGER NOT NULL,
    classes         INTEGER NOT NULL,
    pupils          INTEGER NOT NULL,
    -- CM1 + CM2 (écoles), when the source gives them.
    pupils_cm       INTEGER,
    source          TEXT NOT NULL,
    imported_by     TEXT REFERENCES app_user (id),
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (uai, school_year),
    CHECK (classes >= 0 AND pupils >= 0 AND (pupils_cm IS NULL OR pupils_cm >= 0))
);

-- A collectivité's acquisition and maintenance plan.
CREATE TABLE equip_plan (
    id                  TEXT PRIMARY KEY NOT NULL,
    collectivite_siren  TEXT NOT NULL REFERENCES collectivite (siren),
    title               TEXT NOT NULL,
    first_year          INTEGER NOT NULL,
    last_year           INTEGER NOT NULL,
    note                TEXT NOT NULL DEFAULT '',
    created_by          TEXT REFERENCES app_user (id),
    version             INTEGER NOT NULL DEFAULT 1,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    CHECK (last_year >= first_year)
);
CREATE INDEX equip_plan_collectivite ON equip_plan (collectivite_siren);

-- What the plan buys or renews, per year and per school (or for a group of schools).
-- Replaced whole when the plan is saved (the plan's version guards them).
CREATE TABLE equip_plan_line (
    id                  TEXT PRIMARY KEY NOT NULL,
    plan_id             TEXT NOT NULL REFERENCES equip_plan (id),
    position            INTEGER NOT NULL,
    year                INTEGER NOT NULL,
    -- The delivery expected by (the stated date, else 31 December of the year).
    due_date            TEXT NOT NULL,
    uai                 TEXT REFERENCES etablissement (uai),
    group_label         TEXT,
    -- acquisition | renouvellement | maintenance
    action              TEXT NOT NULL,
    category            TEXT NOT NULL,
    quantity            INTEGER NOT NULL,
    budget_cents        INTEGER NOT NULL,
    -- fonds-propres | etat | ue | autre
    funding             TEXT NOT NULL,
    programme           TEXT NOT NULL DEFAULT '',
    -- The part paid by the co-funder (State, EU…).
    cofunded_cents      INTEGER NOT NULL DEFAULT 0,
    commitment_id       TEXT REFERENCES convention_commitment (id),
    -- prevu | livre | annule
    status              TEXT NOT NULL,
    delivered_on        TEXT,
    CHECK (quantity >= 0 AND budget_cents >= 0 AND cofunded_cents >= 0 AND cofunded_cents <= budget_cents),
    CHECK ((uai IS NULL) <> (group_label IS NULL))
);
CREATE INDEX equip_plan_line_plan ON equip_plan_line (plan_id, position);
CREATE INDEX equip_plan_line_uai ON equip_plan_line (uai, status, due_date);
CREATE INDEX equip_plan_line_commitment ON equip_plan_line (commitment_id);

-- The plan's maintenance contracts (replaced whole with the plan).
CREATE TABLE equip_contract (
    id                  TEXT PRIMARY KEY NOT NULL,
    plan_id             TEXT NOT NULL REFERENCES equip_plan (id),
    position            INTEGER NOT NULL,
    contractor          TEXT NOT NULL,
    object              TEXT NOT NULL,
    start_date          TEXT NOT NULL,
    end_date            TEXT NOT NULL,
    service_level       TEXT NOT NULL DEFAULT '',
    response_hours      INTEGER,
    annual_cents        INTEGER NOT NULL DEFAULT 0,
    commitment_id       TEXT REFERENCES convention_commitment (id),
    CHECK (end_date >= start_date),
    CHECK (annual_cents >= 0 AND (response_hours IS NULL OR response_hours >= 0))
);
CREATE INDEX equip_contract_plan ON equip_contract (plan_id, position);

-- What a national project or a roadmap action needs in the schools it targets.
CREATE TABLE equip_need (
    id              TEXT PRIMARY KEY NOT NULL,
    -- projet | action
    subject_kind    TEXT NOT NULL,
    subject_id      TEXT NOT NULL,
    subject_label   TEXT NOT NULL,
    -- The académie of an action's roadmap (its writers and readers); NULL for a project.
    academie_code   TEXT REFERENCES academie (code),
    -- The schools targeted: national | academie | departement | collectivite | etablissement,
    -- and their family (ecole | college | lycee; NULL: all).
    target_kind     TEXT NOT NULL,
    target_code     TEXT NOT NULL,
    famille         TEXT,
    -- A count category, terminaux (fixed + mobile + tablets + individual), or wifi, debit, ent.
    category        TEXT NOT NULL,
    -- par-etablissement | eleves-par-unite | eleves-cm-par-unite | par-classe | minimum
    rule            TEXT NOT NULL,
    threshold       INTEGER NOT NULL,
    needed_by       TEXT,
    training        TEXT NOT NULL DEFAULT '',
    note            TEXT NOT NULL DEFAULT '',
    created_by      TEXT REFERENCES app_user (id),
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    CHECK (threshold >= 0)
);
CREATE INDEX equip_need_subject ON equip_need (subject_kind, subject_id);
CREATE INDEX equip_need_target ON equip_need (target_kind, target_code);

-- Comments of the académie (or others who may) on a school's equipment or on a plan.
CREATE TABLE equip_comment (
    id              TEXT PRIMARY KEY NOT NULL,
    uai             TEXT REFERENCES etablissement (uai),
    plan_id         TEXT REFERENCES equip_plan (id),
    body            TEXT NOT NULL,
    author_id       TEXT REFERENCES app_user (id),
    author_label    TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    CHECK ((uai IS NULL) <> (plan_id IS NULL))
);
CREATE INDEX equip_comment_uai ON equip_comment (uai, created_at);
CREATE INDEX equip_comment_plan ON equip_comment (plan_id, created_at);
