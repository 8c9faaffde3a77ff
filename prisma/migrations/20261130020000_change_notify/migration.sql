-- Change notifications (lib/db/change-feed.ts): a write to a workflow, one of its versions or a
-- stored secret sends `<table>:<key>` on the channel trellis_changes, so a process may cache what
-- every run reads (a webhook's workflow and secret, the stored secrets) and drop it when it changes.
-- Embedded mode (PGlite) delivers the notification before the writing statement resolves, so no
-- later read in that process sees the old value; the trigger is the same for every writer, raw SQL
-- or Prisma, so no code path can forget it.

CREATE FUNCTION trellis_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r record := COALESCE(NEW, OLD);
  k text;
BEGIN
  IF TG_TABLE_NAME = 'WorkflowVersion' THEN
    k := r."workflowId";
  ELSIF TG_TABLE_NAME = 'Secret' THEN
    k := r.name;
  ELSE
    k := r.id;
  END IF;
  PERFORM pg_notify('trellis_changes', TG_TABLE_NAME || ':' || k);
  RETURN NULL;
END $$;

CREATE TRIGGER trellis_changes_workflow AFTER INSERT OR UPDATE OR DELETE ON "Workflow"
  FOR EACH ROW EXECUTE FUNCTION trellis_notify_change();
CREATE TRIGGER trellis_changes_workflow_version AFTER INSERT OR UPDATE OR DELETE ON "WorkflowVersion"
  FOR EACH ROW EXECUTE FUNCTION trellis_notify_change();
CREATE TRIGGER trellis_changes_secret AFTER INSERT OR UPDATE OR DELETE ON "Secret"
  FOR EACH ROW EXECUTE FUNCTION trellis_notify_change();
