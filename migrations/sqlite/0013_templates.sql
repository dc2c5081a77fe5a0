-- Every version of every template the owner edits in the app (layouts, system messages,
-- page words). The latest version of a name is the one in effect: its parts, or, where
-- `shipped` is true, the default hundred ships (a reset, or a copy of that default made
-- when a campaign went out with it); NULL parts: a layout the owner removed.
CREATE TABLE template_versions (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    name      TEXT NOT NULL,
    version   INTEGER NOT NULL,
    parts     TEXT,
    shipped   BOOLEAN NOT NULL DEFAULT FALSE,
    saved_at  INTEGER NOT NULL,
    UNIQUE (name, version)
);

-- The layout version a campaign went out with, recorded when it starts sending, so its
-- copies, its report and its preview stay as sent whatever the layout becomes.
ALTER TABLE campaigns ADD COLUMN layout_version INTEGER REFERENCES template_versions (id);
