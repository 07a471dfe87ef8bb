-- Governance bodies (instances), their members with mandates, meetings with an ordered
-- agenda, attendance and invitations, versioned minutes, decisions tracked until done, and
-- the private calendar feeds of the members.
-- SQLite flavour: booleans INTEGER 0/1, dates and timestamps ISO-8601 TEXT.

CREATE TABLE gov_body (
    id                TEXT PRIMARY KEY NOT NULL,
    -- comite-strategique-national | comite-des-partenaires | groupe-experts |
    -- comite-pilotage-academique | instance-academique-territoriale |
    -- instance-departementale | comite-suivi-convention | autre
    kind              TEXT NOT NULL,
    name              TEXT NOT NULL,
    -- Who sees the body (besides its members), as a perimeter: national, academie:14…
    perimeter_kind    TEXT NOT NULL,
    perimeter_code    TEXT NOT NULL DEFAULT '',
    mandate           TEXT NOT NULL DEFAULT '',
    version           INTEGER NOT NULL DEFAULT 1,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX gov_body_perimeter ON gov_body (perimeter_kind, perimeter_code);

CREATE TABLE gov_member (
    id                  TEXT PRIMARY KEY NOT NULL,
    body_id             TEXT NOT NULL REFERENCES gov_body (id),
    name                TEXT NOT NULL,
    email               TEXT NOT NULL,
    -- The account of the person when there is one (linked by e-mail).
    user_id             TEXT REFERENCES app_user (id),
    organisation        TEXT NOT NULL DEFAULT '',
    -- The organisation in the referential when known: collectivite:SIREN, organisation:ID…
    organisation_ref    TEXT,
    -- president | vice-president | secretaire | membre-de-droit | membre | invite
    position            TEXT NOT NULL,
    -- May write the minutes and organise the meetings with the secretary.
    delegate            INTEGER NOT NULL DEFAULT 0,
    start_date          TEXT NOT NULL,
    end_date            TEXT,
    version             INTEGER NOT NULL DEFAULT 1,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE INDEX gov_member_body ON gov_member (body_id);
CREATE INDEX gov_member_email ON gov_member (email);
CREATE INDEX gov_member_user ON gov_member (user_id);

CREATE TABLE gov_meeting (
    id            TEXT PRIMARY KEY NOT NULL,
    body_id       TEXT NOT NULL REFERENCES gov_body (id),
    number        INTEGER NOT NULL,
    title         TEXT NOT NULL,
    starts_at     TEXT NOT NULL,
    ends_at       TEXT NOT NULL,
    place         TEXT NOT NULL DEFAULT '',
    video_url     TEXT,
    -- prevue | tenue | annulee
    status        TEXT NOT NULL,
    -- The ICS SEQUENCE: raised by every change people's calendars must follow.
    sequence      INTEGER NOT NULL DEFAULT 0,
    -- When invitations were last sent (NULL: never).
    invited_at    TEXT,
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (body_id, number),
    CHECK (ends_at > starts_at)
);
CREATE INDEX gov_meeting_starts ON gov_meeting (starts_at);

CREATE TABLE gov_agenda_item (
    id            TEXT PRIMARY KEY NOT NULL,
    meeting_id    TEXT NOT NULL REFERENCES gov_meeting (id),
    position      INTEGER NOT NULL,
    title         TEXT NOT NULL,
    notes         TEXT NOT NULL DEFAULT '',
    -- projet | action | indicateur | convention | decision (NULL: a plain item)
    ref_kind      TEXT,
    ref_id        TEXT,
    ref_label     TEXT,
    -- 1 for the follow-up of an open decision, frozen when the meeting is held.
    follow_up     INTEGER NOT NULL DEFAULT 0,
    -- The decision's status on that day (follow-ups only), `|retard` appended when late.
    ref_status    TEXT
);
CREATE INDEX gov_agenda_item_meeting ON gov_agenda_item (meeting_id, position);

CREATE TABLE gov_attendance (
    meeting_id        TEXT NOT NULL REFERENCES gov_meeting (id),
    member_id         TEXT NOT NULL REFERENCES gov_member (id),
    -- present | excuse | absent | represente
    status            TEXT NOT NULL,
    represented_by    TEXT,
    PRIMARY KEY (meeting_id, member_id)
);

CREATE TABLE gov_minutes (
    id              TEXT PRIMARY KEY NOT NULL,
    meeting_id      TEXT NOT NULL REFERENCES gov_meeting (id),
    revision        INTEGER NOT NULL,
    body            TEXT NOT NULL DEFAULT '',
    -- brouillon | approuve
    status          TEXT NOT NULL,
    -- Why an approved text was corrected (revisions after the first).
    reason          TEXT,
    author_id       TEXT REFERENCES app_user (id),
    approved_at     TEXT,
    approved_by     TEXT REFERENCES app_user (id),
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (meeting_id, revision)
);

CREATE TABLE gov_decision (
    id              TEXT PRIMARY KEY NOT NULL,
    body_id         TEXT NOT NULL REFERENCES gov_body (id),
    meeting_id      TEXT NOT NULL REFERENCES gov_meeting (id),
    number          INTEGER NOT NULL,
    title           TEXT NOT NULL,
    details         TEXT NOT NULL DEFAULT '',
    owner_name      TEXT NOT NULL,
    owner_email     TEXT,
    owner_user_id   TEXT REFERENCES app_user (id),
    due_date        TEXT,
    -- ouverte | en-cours | faite | abandonnee
    status          TEXT NOT NULL,
    status_note     TEXT NOT NULL DEFAULT '',
    closed_at       TEXT,
    -- What the decision bears on (optional): projet | action | indicateur | convention.
    ref_kind        TEXT,
    ref_id          TEXT,
    ref_label       TEXT,
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (body_id, number)
);
CREATE INDEX gov_decision_meeting ON gov_decision (meeting_id);
CREATE INDEX gov_decision_owner ON gov_decision (owner_user_id);

CREATE TABLE calendar_feed (
    id            TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES app_user (id),
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    TEXT NOT NULL,
    revoked_at    TEXT
);
CREATE INDEX calendar_feed_user ON calendar_feed (user_id);
