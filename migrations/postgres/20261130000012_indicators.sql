-- Indicators (issue 5): the shared dictionary (national indicators and the académies' own),
-- their links to national projects and roadmap actions, baselines and targets, the values
-- collected per perimeter and period with their workflow (saisie → validee → verrouillee),
-- the period locks, and the reporting campaigns.
-- Numbers are exact decimals stored as BIGINT scaled by 10,000 (columns ending in `_e4`:
-- 12.5 is stored 125000); no floating point is stored. Perimeters are kind + code, as
-- elsewhere (`etablissement` + UAI, `academie` + code, `national` + '').
-- PostgreSQL flavour: BOOLEAN, DATE, TIMESTAMPTZ, BIGINT.

CREATE TABLE ind_indicator (
    id              TEXT PRIMARY KEY NOT NULL,
    code            TEXT NOT NULL UNIQUE,
    -- Who owns it: national (shared) or an académie (its own): national | academie
    owner_kind      TEXT NOT NULL,
    owner_code      TEXT NOT NULL DEFAULT '',
    label           TEXT NOT NULL,
    definition      TEXT NOT NULL DEFAULT '',
    unit            TEXT NOT NULL DEFAULT '',
    -- hausse (higher is better) | baisse
    direction       TEXT NOT NULL,
    -- nombre | montant | pourcentage | ratio
    kind            TEXT NOT NULL,
    -- somme | ratio-des-sommes | moyenne-ponderee | min | max | derniere
    aggregation     TEXT NOT NULL,
    -- annee | annee-scolaire | trimestre | mois
    periodicity     TEXT NOT NULL,
    -- etic | pix | magistere | inventaire-collectivite | saisie | calcul
    source          TEXT NOT NULL,
    -- etablissement | commune | departement | academie | region-academique | national
    capture_level   TEXT NOT NULL,
    -- A ratio's value is factor × numerator ÷ denominator (100 for "pour 100 élèves").
    factor          BIGINT NOT NULL DEFAULT 1,
    -- Thresholds of the status: green at or beyond green_e4, red short of red_e4 (in the
    -- indicator's direction), amber between; NULL: no status.
    green_e4        BIGINT,
    red_e4          BIGINT,
    public          BOOLEAN NOT NULL DEFAULT FALSE,
    version         BIGINT NOT NULL DEFAULT 1,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX ind_indicator_owner ON ind_indicator (owner_kind, owner_code);

-- What an indicator measures: national projects and roadmap actions.
CREATE TABLE ind_link (
    indicator_id    TEXT NOT NULL REFERENCES ind_indicator (id),
    -- projet | action
    ref_kind        TEXT NOT NULL,
    ref_id          TEXT NOT NULL,
    PRIMARY KEY (indicator_id, ref_kind, ref_id)
);
CREATE INDEX ind_link_ref ON ind_link (ref_kind, ref_id);

-- Baselines (reference) and targets (cible) per perimeter and period.
CREATE TABLE ind_target (
    indicator_id    TEXT NOT NULL REFERENCES ind_indicator (id),
    perimeter_kind  TEXT NOT NULL,
    perimeter_code  TEXT NOT NULL DEFAULT '',
    period          TEXT NOT NULL,
    -- reference | cible
    kind            TEXT NOT NULL,
    value_e4        BIGINT NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (indicator_id, perimeter_kind, perimeter_code, period, kind)
);

-- One value of an indicator for one perimeter and one period.
CREATE TABLE ind_value (
    id              TEXT PRIMARY KEY NOT NULL,
    indicator_id    TEXT NOT NULL REFERENCES ind_indicator (id),
    period          TEXT NOT NULL,
    perimeter_kind  TEXT NOT NULL,
    perimeter_code  TEXT NOT NULL DEFAULT '',
    -- The value (for a ratio: factor × numerator ÷ denominator, rounded to 4 decimals).
    value_e4        BIGINT NOT NULL,
    -- A ratio's parts; for a weighted mean, denominator_e4 is the weight.
    numerator_e4    BIGINT,
    denominator_e4  BIGINT,
    -- saisie | validee | verrouillee
    status          TEXT NOT NULL,
    -- saisie | import | calcul | api
    provenance      TEXT NOT NULL,
    comment         TEXT NOT NULL DEFAULT '',
    entered_by      TEXT,
    entered_label   TEXT NOT NULL DEFAULT '',
    entered_at      TIMESTAMPTZ NOT NULL,
    validated_by    TEXT,
    validated_at    TIMESTAMPTZ,
    -- Why a locked value was reopened (the last time).
    reopen_reason   TEXT,
    version         BIGINT NOT NULL DEFAULT 1,
    updated_at      TIMESTAMPTZ NOT NULL,
    -- Where a school's value is (school-level values only, NULL otherwise): copied from
    -- `etablissement` when the value is written and refreshed by the referential imports,
    -- so that the consolidation by académie, département or commune reads the values alone
    -- (no join to the 60,000 schools).
    code_academie    TEXT,
    code_departement TEXT,
    code_commune     TEXT,
    UNIQUE (indicator_id, period, perimeter_kind, perimeter_code)
);
-- Covering index of the consolidation (one indicator, one period, its capture level): for
-- school values one range scan per académie / département (the location leads), for the
-- other levels the perimeter code is there for the join up the referential.
CREATE INDEX ind_value_rollup ON ind_value (indicator_id, period, perimeter_kind, code_academie, code_departement, code_commune, perimeter_code, status, value_e4, numerator_e4, denominator_e4);
CREATE INDEX ind_value_perimeter ON ind_value (perimeter_kind, perimeter_code, indicator_id);

-- A period closed for an indicator, nationally (academie_code = '') or in one académie:
-- no value may be entered or changed there without reopening it.
CREATE TABLE ind_lock (
    indicator_id    TEXT NOT NULL REFERENCES ind_indicator (id),
    period          TEXT NOT NULL,
    academie_code   TEXT NOT NULL DEFAULT '',
    campaign_id     TEXT,
    locked_by       TEXT NOT NULL,
    locked_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (indicator_id, period, academie_code)
);

-- A reporting campaign: indicators × académies × one period, with a window and a grace.
CREATE TABLE ind_campaign (
    id              TEXT PRIMARY KEY NOT NULL,
    title           TEXT NOT NULL,
    -- national | academie (an académie runs one for its own perimeter)
    owner_kind      TEXT NOT NULL,
    owner_code      TEXT NOT NULL DEFAULT '',
    period          TEXT NOT NULL,
    opens_on        DATE NOT NULL,
    closes_on       DATE NOT NULL,
    grace_days      BIGINT NOT NULL DEFAULT 0,
    -- ouverte | close
    status          TEXT NOT NULL,
    instructions    TEXT NOT NULL DEFAULT '',
    created_by      TEXT,
    closed_at       TIMESTAMPTZ,
    version         BIGINT NOT NULL DEFAULT 1,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    CHECK (closes_on >= opens_on)
);

CREATE TABLE ind_campaign_indicator (
    campaign_id     TEXT NOT NULL REFERENCES ind_campaign (id),
    indicator_id    TEXT NOT NULL REFERENCES ind_indicator (id),
    PRIMARY KEY (campaign_id, indicator_id)
);

CREATE TABLE ind_campaign_academie (
    campaign_id     TEXT NOT NULL REFERENCES ind_campaign (id),
    academie_code   TEXT NOT NULL REFERENCES academie (code),
    PRIMARY KEY (campaign_id, academie_code)
);
