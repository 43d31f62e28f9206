DROP TRIGGER survey_points_audit ON survey_points;
DROP TRIGGER projects_audit ON projects;
DROP FUNCTION audit_row_change();
DROP TABLE audit_log;
