-- The refund event log is the audit trail: rows are added, never changed or removed.
-- Enforced here so that no code path, console session or future bug can rewrite history.
CREATE FUNCTION refund_events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'refund_events is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER refund_events_no_update_or_delete
  BEFORE UPDATE OR DELETE ON refund_events
  FOR EACH ROW EXECUTE FUNCTION refund_events_refuse_change();
--> statement-breakpoint
CREATE TRIGGER refund_events_no_truncate
  BEFORE TRUNCATE ON refund_events
  FOR EACH STATEMENT EXECUTE FUNCTION refund_events_refuse_change();
