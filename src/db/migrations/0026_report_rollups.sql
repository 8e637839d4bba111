CREATE TABLE "refund_day_durations" (
	"merchant_id" text NOT NULL,
	"day" date NOT NULL,
	"measure" text NOT NULL,
	"bucket" smallint NOT NULL,
	"refunds" integer NOT NULL,
	CONSTRAINT "refund_day_durations_merchant_id_day_measure_bucket_pk" PRIMARY KEY("merchant_id","day","measure","bucket")
);
--> statement-breakpoint
CREATE TABLE "refund_day_totals" (
	"merchant_id" text NOT NULL,
	"day" date NOT NULL,
	"currency" text NOT NULL,
	"reason" "refund_reason" NOT NULL,
	"channel" "payment_channel" NOT NULL,
	"status" "refund_status" NOT NULL,
	"needs_attention" boolean NOT NULL,
	"refunds" integer NOT NULL,
	"amount" bigint NOT NULL,
	CONSTRAINT "refund_day_totals_merchant_id_day_currency_reason_channel_status_needs_attention_pk" PRIMARY KEY("merchant_id","day","currency","reason","channel","status","needs_attention")
);
--> statement-breakpoint
CREATE TABLE "report_calendar" (
	"only" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"utc_offset_minutes" integer NOT NULL,
	CONSTRAINT "report_calendar_one_row" CHECK ("report_calendar"."only")
);
--> statement-breakpoint
CREATE INDEX "refund_events_approved_idx" ON "refund_events" USING btree ("refund_id","at") WHERE "refund_events"."type" = 'approved';--> statement-breakpoint
-- The reports' rollups (issue #18), kept here, in the transaction that changes a refund, so that no
-- code path can leave them behind. A refund counts on the business day it was created, under the
-- offset in report_calendar (the service keeps it equal to REFUND_BUSINESS_UTC_OFFSET and rebuilds
-- the rollups when that changes); 480 is the default offset (UTC+08:00).
INSERT INTO "report_calendar" ("only", "utc_offset_minutes") VALUES (true, 480);--> statement-breakpoint
CREATE FUNCTION report_day(at timestamptz) RETURNS date
LANGUAGE sql STABLE AS $$
  SELECT ((at AT TIME ZONE 'UTC') + make_interval(mins => (SELECT utc_offset_minutes FROM report_calendar)))::date
$$;
--> statement-breakpoint
-- A duration's bucket, 2% wide (steps of 1/50 in ln(1 + seconds)): a bucket's middle is within about 1%
-- of every duration in it, and a year fits in fewer than 900 buckets.
CREATE FUNCTION report_duration_bucket(seconds double precision) RETURNS smallint
LANGUAGE sql IMMUTABLE AS $$
  SELECT floor(ln(1 + greatest(seconds, 0)) * 50)::smallint
$$;
--> statement-breakpoint
-- A duration counted (or uncounted) in its merchant's row and in every merchant's ('*'), in that
-- order: each transaction locks the two rows in the same order.
CREATE FUNCTION report_count_duration(of_merchant text, on_day date, of_measure text, in_bucket smallint, delta integer) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO refund_day_durations AS d (merchant_id, day, measure, bucket, refunds)
  SELECT m, on_day, of_measure, in_bucket, delta FROM unnest(ARRAY['*', of_merchant]) AS m ORDER BY m
  ON CONFLICT (merchant_id, day, measure, bucket) DO UPDATE SET refunds = d.refunds + excluded.refunds
$$;
--> statement-breakpoint
CREATE FUNCTION refunds_keep_report_rollups() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  -- A refund leaves the rows it counted in (OLD) and joins the ones it counts in now (NEW), its
  -- merchant's and every merchant's ('*'), in one statement with the rows in key order: two refunds
  -- crossing between the same rows at once lock them in the same order, so they wait for each
  -- other instead of deadlocking.
  INSERT INTO refund_day_totals AS t (merchant_id, day, currency, reason, channel, status, needs_attention, refunds, amount)
  SELECT c.merchant_id, c.day, c.currency, c.reason, c.channel, c.status, c.needs_attention, sum(c.refunds), sum(c.amount)
  FROM (
    SELECT m, report_day(OLD.created_at), OLD.currency, OLD.reason, OLD.channel, OLD.status, OLD.needs_attention, -1, -OLD.amount
    FROM unnest(ARRAY['*', OLD.merchant_id]) AS m WHERE TG_OP IN ('UPDATE', 'DELETE')
    UNION ALL
    SELECT m, report_day(NEW.created_at), NEW.currency, NEW.reason, NEW.channel, NEW.status, NEW.needs_attention, 1, NEW.amount
    FROM unnest(ARRAY['*', NEW.merchant_id]) AS m WHERE TG_OP IN ('INSERT', 'UPDATE')
  ) AS c (merchant_id, day, currency, reason, channel, status, needs_attention, refunds, amount)
  GROUP BY 1, 2, 3, 4, 5, 6, 7
  HAVING sum(c.refunds) <> 0 OR sum(c.amount) <> 0
  ORDER BY 1, 2, 3, 4, 5, 6, 7
  ON CONFLICT (merchant_id, day, currency, reason, channel, status, needs_attention)
  DO UPDATE SET refunds = t.refunds + excluded.refunds, amount = t.amount + excluded.amount;

  -- Time to settle: counted once the money arrived (moved if that time is ever corrected).
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.settled_at IS NOT NULL
     AND (TG_OP = 'DELETE' OR OLD.settled_at IS DISTINCT FROM NEW.settled_at OR OLD.created_at <> NEW.created_at OR OLD.merchant_id <> NEW.merchant_id) THEN
    PERFORM report_count_duration(OLD.merchant_id, report_day(OLD.created_at), 'settle',
                                  report_duration_bucket(extract(epoch FROM OLD.settled_at - OLD.created_at)), -1);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.settled_at IS NOT NULL
     AND (TG_OP = 'INSERT' OR OLD.settled_at IS DISTINCT FROM NEW.settled_at OR OLD.created_at <> NEW.created_at OR OLD.merchant_id <> NEW.merchant_id) THEN
    PERFORM report_count_duration(NEW.merchant_id, report_day(NEW.created_at), 'settle',
                                  report_duration_bucket(extract(epoch FROM NEW.settled_at - NEW.created_at)), 1);
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
-- Deferred to the commit: a rollup row every refund of the day passes through (every merchant's,
-- '*') is then held locked for the commit alone, not for the rest of the step's transaction.
CREATE CONSTRAINT TRIGGER refunds_report_rollups_on_insert_or_delete
  AFTER INSERT OR DELETE ON refunds
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION refunds_keep_report_rollups();
--> statement-breakpoint
-- Most updates of a refund change nothing a report counts: those fire nothing.
CREATE CONSTRAINT TRIGGER refunds_report_rollups_on_update
  AFTER UPDATE ON refunds
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (
    OLD.status IS DISTINCT FROM NEW.status OR OLD.needs_attention IS DISTINCT FROM NEW.needs_attention
    OR OLD.amount IS DISTINCT FROM NEW.amount OR OLD.currency IS DISTINCT FROM NEW.currency
    OR OLD.reason IS DISTINCT FROM NEW.reason OR OLD.channel IS DISTINCT FROM NEW.channel
    OR OLD.merchant_id IS DISTINCT FROM NEW.merchant_id OR OLD.created_at IS DISTINCT FROM NEW.created_at
    OR OLD.settled_at IS DISTINCT FROM NEW.settled_at)
  EXECUTE FUNCTION refunds_keep_report_rollups();
--> statement-breakpoint
-- Approval lead time: from the creation of a refund that needed approval to the approval that let
-- it go (`approved`: one per refund; the audit trail is append-only, so it is only ever added — a
-- second, dated earlier, would replace it).
CREATE FUNCTION refund_events_keep_approval_durations() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  refund record;
  earlier timestamptz;
BEGIN
  SELECT r.merchant_id, r.created_at, r.required_approvals INTO refund FROM refunds r WHERE r.id = NEW.refund_id;
  IF refund.required_approvals = 0 THEN
    RETURN NULL;
  END IF;
  SELECT min(e.at) INTO earlier FROM refund_events e WHERE e.refund_id = NEW.refund_id AND e.type = 'approved' AND e.id <> NEW.id;
  IF earlier IS NOT NULL AND earlier <= NEW.at THEN
    RETURN NULL;
  END IF;
  IF earlier IS NOT NULL THEN
    PERFORM report_count_duration(refund.merchant_id, report_day(refund.created_at), 'approval',
                                  report_duration_bucket(extract(epoch FROM earlier - refund.created_at)), -1);
  END IF;
  PERFORM report_count_duration(refund.merchant_id, report_day(refund.created_at), 'approval',
                                report_duration_bucket(extract(epoch FROM NEW.at - refund.created_at)), 1);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER refund_events_approval_durations
  AFTER INSERT ON refund_events
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (NEW.type = 'approved')
  EXECUTE FUNCTION refund_events_keep_approval_durations();
--> statement-breakpoint
-- Everything counted again from the refunds and their audit trail: the backfill below, and the
-- service's answer to a changed business-day offset.
CREATE FUNCTION report_rollups_rebuild() RETURNS void
LANGUAGE sql AS $$
  DELETE FROM refund_day_totals;
  DELETE FROM refund_day_durations;
  INSERT INTO refund_day_totals (merchant_id, day, currency, reason, channel, status, needs_attention, refunds, amount)
    SELECT merchant_id, report_day(created_at), currency, reason, channel, status, needs_attention, count(*), sum(amount)
    FROM refunds GROUP BY 1, 2, 3, 4, 5, 6, 7;
  INSERT INTO refund_day_durations (merchant_id, day, measure, bucket, refunds)
    SELECT merchant_id, report_day(created_at), 'settle', report_duration_bucket(extract(epoch FROM settled_at - created_at)), count(*)
    FROM refunds WHERE settled_at IS NOT NULL GROUP BY 1, 2, 3, 4;
  INSERT INTO refund_day_durations (merchant_id, day, measure, bucket, refunds)
    SELECT r.merchant_id, report_day(r.created_at), 'approval', report_duration_bucket(extract(epoch FROM a.first - r.created_at)), count(*)
    FROM refunds r JOIN (SELECT refund_id, min(at) AS first FROM refund_events WHERE type = 'approved' GROUP BY refund_id) a ON a.refund_id = r.id
    WHERE r.required_approvals > 0
    GROUP BY 1, 2, 3, 4;
  -- Every merchant together, from the merchants' rows.
  INSERT INTO refund_day_totals (merchant_id, day, currency, reason, channel, status, needs_attention, refunds, amount)
    SELECT '*', day, currency, reason, channel, status, needs_attention, sum(refunds), sum(amount)
    FROM refund_day_totals GROUP BY 2, 3, 4, 5, 6, 7;
  INSERT INTO refund_day_durations (merchant_id, day, measure, bucket, refunds)
    SELECT '*', day, measure, bucket, sum(refunds) FROM refund_day_durations GROUP BY 2, 3, 4;
$$;
--> statement-breakpoint
SELECT report_rollups_rebuild();
