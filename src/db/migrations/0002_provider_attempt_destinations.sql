ALTER TABLE "provider_attempts" ADD COLUMN "destination_type" "destination_type" DEFAULT 'original' NOT NULL;--> statement-breakpoint
ALTER TABLE "provider_attempts" ADD COLUMN "destination_account" text;--> statement-breakpoint
-- Attempts made before this migration paid the refund's own destination.
UPDATE "provider_attempts" pa SET "destination_account" = r."destination_account", "destination_type" = r."destination_type"
  FROM "refunds" r WHERE r."id" = pa."refund_id";--> statement-breakpoint
ALTER TABLE "provider_attempts" ALTER COLUMN "destination_account" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "provider_attempts" ADD COLUMN "destination_account_name" text;--> statement-breakpoint
ALTER TABLE "provider_attempts" ADD COLUMN "requested_by" text;
