-- message: archive projects
-- revises: 0004
-- created: 2026-11-22
-- lock-timeout: 5s
-- lint-ignore: index-not-concurrent -- projects holds a few hundred rows: the build takes milliseconds

ALTER TABLE projects
    ADD COLUMN archived_at timestamptz,
    ADD COLUMN archived_reason text;

COMMENT ON COLUMN projects.archived_at IS 'Set when a project is archived; NULL while live';

CREATE INDEX projects_live_name ON projects (name) WHERE archived_at IS NULL;
