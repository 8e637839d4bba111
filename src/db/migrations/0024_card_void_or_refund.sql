ALTER TABLE "payments" ADD COLUMN "acquirer_reference" text;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "terminal_id" text;--> statement-breakpoint
ALTER TABLE "provider_attempts" ADD COLUMN "first_sent_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "provider_attempts" ADD COLUMN "method" text DEFAULT 'refund' NOT NULL;--> statement-breakpoint
ALTER TABLE "provider_attempts" ADD COLUMN "method_note" text;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "provider_method" text;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "provider_method_reason" text;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "voidable_until" timestamp with time zone;