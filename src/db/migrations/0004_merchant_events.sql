CREATE TABLE "merchant_events" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"id" text NOT NULL,
	"refund_id" text NOT NULL,
	"merchant_id" text NOT NULL,
	"type" text NOT NULL,
	"data" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text
);
--> statement-breakpoint
ALTER TABLE "merchant_events" ADD CONSTRAINT "merchant_events_refund_id_refunds_id_fk" FOREIGN KEY ("refund_id") REFERENCES "public"."refunds"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "merchant_events_id_idx" ON "merchant_events" USING btree ("id");--> statement-breakpoint
CREATE INDEX "merchant_events_undelivered_idx" ON "merchant_events" USING btree ("refund_id","seq") WHERE "merchant_events"."delivered_at" IS NULL;