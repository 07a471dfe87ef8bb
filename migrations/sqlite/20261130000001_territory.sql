-- The territory referential: régions, régions académiques, académies (with history),
-- départements, communes, collectivités (with their school competences) and schools.
-- Codes are official identifiers kept as text (leading zeros, 2A/2B).
-- SQLite flavour: booleans are INTEGER 0/1, dates and timestamps ISO-8601 TEXT.

CREATE TABLE region (
    code        TEXT PRIMARY KEY NOT NULL,
    nom         TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE region_academique (
    code        TEXT PRIMARY KEY NOT NULL,
    nom         TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE academie (
    code                    TEXT PRIMARY KEY NOT NULL,
    nom                     TEXT NOT NULL,
    kind                    TEXT NOT NULL CHECK (kind IN ('academie', 'vice-rectorat', 'service-education-nationale', 'historique')),
    code_region_academique  TEXT REFERENCES region_academique (code),
    valid_from              TEXT,
    valid_until             TEXT,
    note                    TEXT,
    updated_at              TEXT NOT NULL
);

CREATE TABLE departement (
    code            TEXT PRIMARY KEY NOT NULL,
    nom             TEXT NOT NULL,
    code_region     TEXT,
    code_academie   TEXT REFERENCES academie (code),
    zone            TEXT,
    uai_prefix      TEXT,
    updated_at      TEXT NOT NULL
);
CREATE INDEX departement_academie ON departement (code_academie);

-- Which départements an académie covers, including historical académies (Caen, Rouen).
CREATE TABLE academie_departement (
    code_academie     TEXT NOT NULL REFERENCES academie (code),
    code_departement  TEXT NOT NULL REFERENCES departement (code),
    PRIMARY KEY (code_academie, code_departement)
);

CREATE TABLE commune (
    code              TEXT PRIMARY KEY NOT NULL,
    nom               TEXT NOT NULL,
    code_departement  TEXT NOT NULL REFERENCES departement (code),
    code_region       TEXT,
    siren             TEXT,
    population        INTEGER,
    codes_postaux     TEXT,
    search_key        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX commune_departement ON commune (code_departement, search_key);
CREATE INDEX commune_search ON commune (search_key);
CREATE INDEX commune_siren ON commune (siren);

-- Communes déléguées and associées and municipal arrondissements, with the current
-- commune they belong to: older files (the Annuaire de l'éducation) still use their codes.
CREATE TABLE commune_rattachee (
    code          TEXT PRIMARY KEY NOT NULL,
    nom           TEXT NOT NULL,
    kind          TEXT NOT NULL,
    code_commune  TEXT NOT NULL REFERENCES commune (code),
    updated_at    TEXT NOT NULL
);
CREATE INDEX commune_rattachee_commune ON commune_rattachee (code_commune);

CREATE TABLE collectivite (
    siren                TEXT PRIMARY KEY NOT NULL,
    kind                 TEXT NOT NULL,
    nom                  TEXT NOT NULL,
    code_territoire      TEXT,
    competence_ecoles    INTEGER NOT NULL DEFAULT 0,
    competence_colleges  INTEGER NOT NULL DEFAULT 0,
    competence_lycees    INTEGER NOT NULL DEFAULT 0,
    search_key           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
CREATE INDEX collectivite_kind ON collectivite (kind, search_key);
CREATE INDEX collectivite_search ON collectivite (search_key);

-- The départements a collectivité above the commune covers (région, département, CeA…).
CREATE TABLE collectivite_departement (
    siren             TEXT NOT NULL REFERENCES collectivite (siren),
    code_departement  TEXT NOT NULL REFERENCES departement (code),
    PRIMARY KEY (siren, code_departement)
);
CREATE INDEX collectivite_departement_dep ON collectivite_departement (code_departement);

-- Member communes of an EPCI (including the Métropole de Lyon).
CREATE TABLE epci_membre (
    siren_epci    TEXT NOT NULL REFERENCES collectivite (siren),
    code_commune  TEXT NOT NULL REFERENCES commune (code),
    PRIMARY KEY (siren_epci, code_commune)
);
CREATE INDEX epci_membre_commune ON epci_membre (code_commune);

CREATE TABLE etablissement (
    uai                    TEXT PRIMARY KEY NOT NULL,
    nom                    TEXT NOT NULL,
    famille                TEXT NOT NULL CHECK (famille IN ('ecole', 'college', 'lycee', 'erea', 'autre')),
    code_nature            TEXT NOT NULL,
    libelle_nature         TEXT,
    type_etablissement     TEXT,
    statut                 TEXT NOT NULL CHECK (statut IN ('public', 'prive')),
    code_commune           TEXT NOT NULL REFERENCES commune (code),
    code_departement       TEXT NOT NULL REFERENCES departement (code),
    code_academie          TEXT REFERENCES academie (code),
    collectivite_siren     TEXT REFERENCES collectivite (siren),
    siren_siret            TEXT,
    adresse                TEXT,
    code_postal            TEXT,
    nombre_eleves          INTEGER,
    latitude               REAL,
    longitude              REAL,
    date_ouverture         TEXT,
    date_maj               TEXT,
    etat                   TEXT,
    education_prioritaire  TEXT,
    fictif                 INTEGER NOT NULL DEFAULT 0,
    search_key             TEXT NOT NULL,
    updated_at             TEXT NOT NULL
);
CREATE INDEX etablissement_commune ON etablissement (code_commune);
CREATE INDEX etablissement_departement ON etablissement (code_departement, famille);
CREATE INDEX etablissement_academie ON etablissement (code_academie, famille);
CREATE INDEX etablissement_collectivite ON etablissement (collectivite_siren);
CREATE INDEX etablissement_search ON etablissement (search_key);
