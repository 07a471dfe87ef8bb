-- The current figures of each school, pivoted into one row (one column per category) with
-- its latest pupil counts, so that the gap analysis and the ratios read one row per school
-- instead of aggregating every current declaration. Written in the transaction that
-- declares, imports or replaces a figure or a pupil count (equipment/repo.rs,
-- refresh_figures); never edited by hand. NULL means "not declared".
CREATE TABLE equip_figures (
    uai                   TEXT PRIMARY KEY NOT NULL REFERENCES etablissement (uai),
    poste_fixe            INTEGER,
    poste_mobile          INTEGER,
    tablette              INTEGER,
    equipement_individuel INTEGER,
    ecran_interactif      INTEGER,
    videoprojecteur       INTEGER,
    classe_mobile         INTEGER,
    wifi                  INTEGER,
    debit                 INTEGER,
    ent                   INTEGER,
    -- Units older than the renewal age, over the count categories.
    old_units             INTEGER NOT NULL DEFAULT 0,
    -- The latest imported school year's counts.
    school_year           INTEGER,
    classes               INTEGER,
    pupils                INTEGER,
    pupils_cm             INTEGER
);

INSERT INTO equip_figures (uai, poste_fixe, poste_mobile, tablette, equipement_individuel, ecran_interactif,
    videoprojecteur, classe_mobile, wifi, debit, ent, old_units, school_year, classes, pupils, pupils_cm)
SELECT u.uai, d.poste_fixe, d.poste_mobile, d.tablette, d.equipement_individuel, d.ecran_interactif,
    d.videoprojecteur, d.classe_mobile, d.wifi, d.debit, d.ent, COALESCE(d.old_units, 0),
    p.school_year, p.classes, p.pupils, p.pupils_cm
FROM (SELECT uai FROM equip_declaration WHERE superseded_at IS NULL UNION SELECT uai FROM equip_pupils) u
LEFT JOIN (SELECT uai,
    MAX(CASE WHEN category = 'poste-fixe' THEN quantity END) AS poste_fixe,
    MAX(CASE WHEN category = 'poste-mobile' THEN quantity END) AS poste_mobile,
    MAX(CASE WHEN category = 'tablette' THEN quantity END) AS tablette,
    MAX(CASE WHEN category = 'equipement-individuel' THEN quantity END) AS equipement_individuel,
    MAX(CASE WHEN category = 'ecran-interactif' THEN quantity END) AS ecran_interactif,
    MAX(CASE WHEN category = 'videoprojecteur' THEN quantity END) AS videoprojecteur,
    MAX(CASE WHEN category = 'classe-mobile' THEN quantity END) AS classe_mobile,
    MAX(CASE WHEN category = 'wifi' THEN quantity END) AS wifi,
    MAX(CASE WHEN category = 'debit' THEN quantity END) AS debit,
    MAX(CASE WHEN category = 'ent' THEN quantity END) AS ent,
    SUM(CASE WHEN category IN ('poste-fixe', 'poste-mobile', 'tablette', 'equipement-individuel',
        'ecran-interactif', 'videoprojecteur', 'classe-mobile') THEN COALESCE(quantity_old, 0) ELSE 0 END) AS old_units
    FROM equip_declaration WHERE superseded_at IS NULL GROUP BY uai) d ON d.uai = u.uai
LEFT JOIN equip_pupils p ON p.uai = u.uai
    AND p.school_year = (SELECT MAX(q.school_year) FROM equip_pupils q WHERE q.uai = u.uai);
