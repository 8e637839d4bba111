-- Account numbers sealed at rest (issue #20): their last four characters get columns of their own,
-- filled here from the numbers still in the clear; the service seals those numbers when it starts.
DROP INDEX "payments_payer_last4_idx";--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "payer_last4" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "provider_attempts" ADD COLUMN "destination_last4" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "destination_last4" text DEFAULT '' NOT NULL;--> statement-breakpoint
UPDATE "payments" SET "payer_last4" = right(regexp_replace("payer_account", '[\s-]', '', 'g'), 4) WHERE "payer_account" NOT LIKE 'sealed:%';--> statement-breakpoint
UPDATE "provider_attempts" SET "destination_last4" = right(regexp_replace("destination_account", '[\s-]', '', 'g'), 4) WHERE "destination_account" NOT LIKE 'sealed:%';--> statement-breakpoint
UPDATE "refunds" SET "destination_last4" = right(regexp_replace("destination_account", '[\s-]', '', 'g'), 4) WHERE "destination_account" NOT LIKE 'sealed:%';--> statement-breakpoint
CREATE INDEX "payments_payer_last4_idx" ON "payments" USING btree ("payer_last4");
