-- Attachments of a convention (signed scans, annexes). The file itself lives on the
-- filesystem, under the data directory (conventions/<convention id>/<attachment id>); the row
-- keeps its sanitised name, the type found from its first bytes, its size and its SHA-256.

CREATE TABLE convention_attachment (
    id              TEXT PRIMARY KEY NOT NULL,
    convention_id   TEXT NOT NULL REFERENCES convention (id),
    name            TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    size_bytes      BIGINT NOT NULL,
    -- Lowercase hexadecimal.
    sha256          TEXT NOT NULL,
    created_by      TEXT REFERENCES app_user (id),
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX convention_attachment_convention ON convention_attachment (convention_id, created_at);
