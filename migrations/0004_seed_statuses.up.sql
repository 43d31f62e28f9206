-- message: add on-hold status and sample project
-- revises: 0003
-- created: 2026-11-22

ALTER TYPE project_status ADD VALUE 'on_hold' AFTER 'active';

INSERT INTO projects (name, status) VALUES ('Harbour wall; phase 1', 'active');
