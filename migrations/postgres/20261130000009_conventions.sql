-- Conventions and reciprocal commitments: the parties (organisations of the referential),
-- the places covered, the commitments each party owes and their follow-up, the financial
-- annex and its co-financing rules, the events of the convention's life (negotiation,
-- renewal, denunciation, termination), the amendments (avenants) and the versions of the
-- text they produce.
-- The status of a convention is NOT stored: it is computed from the signatures, dates and
-- events (crates/core/src/convention/model.rs, `standing`).
-- Amounts are exact euro cents (BIGINT), rates basis points (5000 = 50 %).
-- PostgreSQL flavour: native BOOLEAN, BIGINT, DATE and TIMESTAMPTZ.

CREATE TABLE convention (
    id                  TEXT PRIMARY KEY NOT NULL,
    -- convention-cadre | bipartite | tripartite | operationnelle | ent | financement |
    -- partenariat-prive | autre
    kind                TEXT NOT NULL,
    title               TEXT NOT NULL,
    object              TEXT NOT NULL DEFAULT '',
    -- The legal references (visas), a JSON array of strings.
    visas               TEXT NOT NULL DEFAULT '[]',
    -- The convention-cadre it sits under.
    parent_id           TEXT REFERENCES convention (id),
    -- Entry into force (NULL: the day of the last signature).
    effective_date      DATE,
    -- The last day in force of the first term (NULL: start + duration, or no end).
    end_date            DATE,
    duration_months     BIGINT,
    -- tacite | expresse | aucune
    renewal             TEXT NOT NULL,
    notice_months       BIGINT,
    -- The governance body that follows the convention.
    follow_up_body_id   TEXT REFERENCES gov_body (id),
    search_key          TEXT NOT NULL,
    created_by          TEXT REFERENCES app_user (id),
    version             BIGINT NOT NULL DEFAULT 1,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    CHECK (end_date IS NULL OR effective_date IS NULL OR end_date >= effective_date)
);
CREATE INDEX convention_parent ON convention (parent_id);
CREATE INDEX convention_search ON convention (search_key);

CREATE TABLE convention_party (
    id                  TEXT PRIMARY KEY NOT NULL,
    convention_id       TEXT NOT NULL REFERENCES convention (id),
    position            BIGINT NOT NULL,
    -- The organisation: academie:14, departement:35, collectivite:SIREN, etablissement:UAI,
    -- organisation:ID, entreprise:SIREN.
    reference           TEXT NOT NULL,
    -- The perimeter whose readers see the convention (a company: organisation:ID).
    perimeter           TEXT NOT NULL,
    name                TEXT NOT NULL,
    representative      TEXT NOT NULL DEFAULT '',
    capacity            TEXT NOT NULL DEFAULT '',
    deliberation_ref    TEXT,
    deliberation_date   DATE,
    signature_date      DATE,
    UNIQUE (convention_id, reference)
);
CREATE INDEX convention_party_reference ON convention_party (reference);

CREATE TABLE convention_scope (
    convention_id       TEXT NOT NULL REFERENCES convention (id),
    position            BIGINT NOT NULL,
    -- etablissement:UAI, commune:CODE, collectivite:SIREN, departement:CODE, academie:CODE,
    -- region-academique:CODE
    reference           TEXT NOT NULL,
    label               TEXT NOT NULL,
    PRIMARY KEY (convention_id, reference)
);
CREATE INDEX convention_scope_reference ON convention_scope (reference);

CREATE TABLE convention_commitment (
    id                  TEXT PRIMARY KEY NOT NULL,
    convention_id       TEXT NOT NULL REFERENCES convention (id),
    -- E1, E2…: kept across amendments.
    number              BIGINT NOT NULL,
    -- The party that owes it (a reference of convention_party).
    party_ref           TEXT NOT NULL,
    -- equipement | connectivite | maintenance | ent | formation | ressources | financement |
    -- donnees-personnelles | referent | autre
    category            TEXT NOT NULL,
    description         TEXT NOT NULL,
    quantity            BIGINT,
    amount_cents        BIGINT,
    -- The due date, or the first occurrence of a recurring commitment.
    due_date            DATE,
    -- annuelle | trimestrielle (NULL: once)
    recurrence          TEXT,
    indicator           TEXT,
    -- As reported: prevu | en-cours | tenu | en-retard | non-tenu (lateness is also computed).
    status              TEXT NOT NULL,
    -- A recurring commitment: the last occurrence reported kept.
    kept_through        DATE,
    evidence_note       TEXT NOT NULL DEFAULT '',
    evidence_link       TEXT,
    evidence_document   TEXT,
    indicator_value     TEXT,
    reported_at         TIMESTAMPTZ,
    reported_by         TEXT REFERENCES app_user (id),
    version             BIGINT NOT NULL DEFAULT 1,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    UNIQUE (convention_id, number),
    CHECK (amount_cents IS NULL OR amount_cents >= 0),
    CHECK (quantity IS NULL OR quantity >= 0)
);
CREATE INDEX convention_commitment_party ON convention_commitment (party_ref);
CREATE INDEX convention_commitment_due ON convention_commitment (due_date);

CREATE TABLE convention_annex_line (
    id                  TEXT PRIMARY KEY NOT NULL,
    convention_id       TEXT NOT NULL REFERENCES convention (id),
    position            BIGINT NOT NULL,
    year                BIGINT NOT NULL,
    party_ref           TEXT NOT NULL,
    -- investissement | fonctionnement
    nature              TEXT NOT NULL,
    amount_cents        BIGINT NOT NULL,
    label               TEXT NOT NULL DEFAULT '',
    UNIQUE (convention_id, year, party_ref, nature),
    CHECK (amount_cents >= 0)
);

CREATE TABLE convention_cofinancing (
    id                  TEXT PRIMARY KEY NOT NULL,
    convention_id       TEXT NOT NULL REFERENCES convention (id),
    position            BIGINT NOT NULL,
    funder_ref          TEXT NOT NULL,
    -- taux | parite (1 € for 1 €)
    kind                TEXT NOT NULL,
    -- The funder's share of each year's total, in basis points.
    min_bp              BIGINT NOT NULL,
    max_bp              BIGINT NOT NULL,
    -- The most the funder gives in one year (NULL: no cap).
    cap_cents           BIGINT,
    -- Only the lines of this nature (NULL: all).
    nature              TEXT,
    CHECK (min_bp >= 0 AND min_bp <= max_bp AND max_bp <= 10000),
    CHECK (cap_cents IS NULL OR cap_cents >= 0)
);

CREATE TABLE convention_event (
    id                  TEXT PRIMARY KEY NOT NULL,
    convention_id       TEXT NOT NULL REFERENCES convention (id),
    -- negociation | renouvellement | denonciation | resiliation
    kind                TEXT NOT NULL,
    -- The day it takes effect (a termination: the first day without the convention).
    event_date          DATE NOT NULL,
    -- A renewal's new end.
    new_end             DATE,
    note                TEXT NOT NULL DEFAULT '',
    created_by          TEXT REFERENCES app_user (id),
    created_at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX convention_event_convention ON convention_event (convention_id, event_date);

CREATE TABLE convention_amendment (
    id                  TEXT PRIMARY KEY NOT NULL,
    convention_id       TEXT NOT NULL REFERENCES convention (id),
    number              BIGINT NOT NULL,
    signed_on           DATE NOT NULL,
    object              TEXT NOT NULL,
    created_by          TEXT REFERENCES app_user (id),
    created_at          TIMESTAMPTZ NOT NULL,
    UNIQUE (convention_id, number)
);

-- The texts: version 0 is the initial convention (rewritten while it is a draft, frozen once
-- signed), version n the text after amendment n. The snapshot is JSON.
CREATE TABLE convention_version (
    id                  TEXT PRIMARY KEY NOT NULL,
    convention_id       TEXT NOT NULL REFERENCES convention (id),
    number              BIGINT NOT NULL,
    amendment_id        TEXT REFERENCES convention_amendment (id),
    snapshot            TEXT NOT NULL,
    created_by          TEXT REFERENCES app_user (id),
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    UNIQUE (convention_id, number)
);
