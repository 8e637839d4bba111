ALTER TABLE "provider_attempts" ADD COLUMN "resendable" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "provider_attempts" ADD COLUMN "last_sent_at" timestamp with time zone;