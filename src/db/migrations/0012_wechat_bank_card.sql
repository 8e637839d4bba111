ALTER TYPE "public"."destination_type" ADD VALUE 'wechat_bank_card';--> statement-breakpoint
ALTER TABLE "provider_attempts" ADD COLUMN "destination_bank_type" text;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "redirectable" boolean DEFAULT false NOT NULL;