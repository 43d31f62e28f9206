-- message: create survey points
-- revises: 0001
-- created: 2026-11-22

CREATE TABLE survey_points (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    label text NOT NULL,
    latitude double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    elevation_m numeric(8, 2),
    measured_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, label)
);

CREATE INDEX survey_points_project_measured ON survey_points (project_id, measured_at DESC);
