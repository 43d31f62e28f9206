-- PostgreSQL cannot drop an enum value: rebuild the type without it.
DELETE FROM projects WHERE name = 'Harbour wall; phase 1';
ALTER TABLE projects ALTER COLUMN status DROP DEFAULT;
ALTER TYPE project_status RENAME TO project_status_old;
CREATE TYPE project_status AS ENUM ('planned', 'active', 'finished');
ALTER TABLE projects ALTER COLUMN status TYPE project_status USING status::text::project_status;
ALTER TABLE projects ALTER COLUMN status SET DEFAULT 'planned';
DROP TYPE project_status_old;
