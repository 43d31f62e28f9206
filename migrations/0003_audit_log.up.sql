-- message: audit log with trigger
-- revises: 0002
-- created: 2026-11-22

CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_name text NOT NULL,
    row_id bigint NOT NULL,
    action text NOT NULL CHECK (action IN ('INSERT', 'UPDATE', 'DELETE')),
    changed_at timestamptz NOT NULL DEFAULT now(),
    changed_by text NOT NULL DEFAULT current_user
);

-- The body is dollar-quoted: its semicolons do not end the CREATE FUNCTION.
CREATE FUNCTION audit_row_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_log (table_name, row_id, action)
    VALUES (TG_TABLE_NAME, COALESCE(NEW.id, OLD.id), TG_OP);
    RETURN COALESCE(NEW, OLD);
END;
$$;

CREATE TRIGGER projects_audit
    AFTER INSERT OR UPDATE OR DELETE ON projects
    FOR EACH ROW EXECUTE FUNCTION audit_row_change();

CREATE TRIGGER survey_points_audit
    AFTER INSERT OR UPDATE OR DELETE ON survey_points
    FOR EACH ROW EXECUTE FUNCTION audit_row_change();
