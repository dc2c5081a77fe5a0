-- Images the owner uploaded, kept in the database so every instance serves them. One row
-- per distinct image: `hash` is the SHA-256 (hex) of the stored bytes, which are what
-- `/media/{hash}.{ext}` serves, so the same image uploaded twice is stored once.
CREATE TABLE media (
    id            BLOB PRIMARY KEY,
    hash          TEXT NOT NULL UNIQUE,
    content_type  TEXT NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/gif', 'image/webp')),
    ext           TEXT NOT NULL CHECK (ext IN ('png', 'jpg', 'gif', 'webp')),
    width         INTEGER NOT NULL,
    height        INTEGER NOT NULL,
    bytes         INTEGER NOT NULL,
    data          BLOB NOT NULL,
    -- the file name it was uploaded with, when it had one (shown on the media page only)
    original_name TEXT,
    created_at    INTEGER NOT NULL
);
CREATE INDEX media_created ON media (created_at);
