CREATE TABLE "workflow_starts" (
	"refund_id" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text
);
--> statement-breakpoint
ALTER TABLE "merchant_events" ADD COLUMN "tx_id" "xid8" DEFAULT pg_current_xact_id() NOT NULL;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "proposal" jsonb;--> statement-breakpoint
ALTER TABLE "sandbox_operations" ADD COLUMN "returned_amount" bigint;--> statement-breakpoint
ALTER TABLE "workflow_starts" ADD CONSTRAINT "workflow_starts_refund_id_refunds_id_fk" FOREIGN KEY ("refund_id") REFERENCES "public"."refunds"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "workflow_starts_pending_idx" ON "workflow_starts" USING btree ("created_at") WHERE "workflow_starts"."started_at" IS NULL;--> statement-breakpoint
CREATE INDEX "merchant_events_feed_idx" ON "merchant_events" USING btree ("tx_id","seq");--> statement-breakpoint
CREATE INDEX "refunds_awaiting_approval_idx" ON "refunds" USING btree ("created_at","id") WHERE "refunds"."status" = 'pending_approval' OR "refunds"."proposal" IS NOT NULL;