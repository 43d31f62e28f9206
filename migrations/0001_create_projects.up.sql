-- message: create projects
-- created: 2026-11-22
-- author: strata examples

CREATE TYPE project_status AS ENUM ('planned', 'active', 'finished');

CREATE TABLE projects (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE,
    status project_status NOT NULL DEFAULT 'planned',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT projects_name_not_blank CHECK (name <> '')
);

COMMENT ON TABLE projects IS 'Survey projects; one per client site';
