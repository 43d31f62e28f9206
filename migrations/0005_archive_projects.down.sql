-- lock-timeout: 5s
DROP INDEX projects_live_name;
ALTER TABLE projects DROP COLUMN archived_reason, DROP COLUMN archived_at;
