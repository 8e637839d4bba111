-- Two roles (issue #20): the owner, who runs these migrations, and the service's own role, which
-- reads and writes the data, adds to the audit trail and changes nothing else — no schema, no
-- trigger, no row of refund_events once written. The API and the worker log in as a member of
-- refundflow_service (DATABASE_URL); migrations run as the owner (DATABASE_OWNER_URL).
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'refundflow_service') THEN
    CREATE ROLE refundflow_service NOLOGIN;
  END IF;
EXCEPTION
  -- Another database of the same cluster created it at the same moment.
  WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO refundflow_service;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO refundflow_service;
--> statement-breakpoint
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO refundflow_service;
--> statement-breakpoint
-- The audit trail: added to, never changed (the trigger refuses even the owner's UPDATE).
REVOKE UPDATE, DELETE, TRUNCATE ON refund_events FROM refundflow_service;
--> statement-breakpoint
-- Tables of later migrations (and the sandbox's, made by the same owner) come with the same rights.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO refundflow_service;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO refundflow_service;
