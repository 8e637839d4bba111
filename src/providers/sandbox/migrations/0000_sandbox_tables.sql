CREATE TYPE "public"."sandbox_operation_kind" AS ENUM('refund', 'reversal');--> statement-breakpoint
CREATE TYPE "public"."sandbox_operation_status" AS ENUM('pending', 'settled', 'canceled', 'failed');--> statement-breakpoint
CREATE TABLE "sandbox_notices" (
	"id" text PRIMARY KEY NOT NULL,
	"provider" "provider_name" NOT NULL,
	"operation_id" text NOT NULL,
	"type" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "sandbox_operations" (
	"id" text PRIMARY KEY NOT NULL,
	"provider" "provider_name" NOT NULL,
	"payment_id" text NOT NULL,
	"refund_id" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"kind" "sandbox_operation_kind" NOT NULL,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"account_last4" text NOT NULL,
	"trace_reference" text NOT NULL,
	"status" "sandbox_operation_status" NOT NULL,
	"failure_reason" text,
	"reverses" text,
	"settle_at" timestamp with time zone,
	"settled_at" timestamp with time zone,
	"return_at" timestamp with time zone,
	"returned_at" timestamp with time zone,
	"returned_amount" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sandbox_submission_counts" (
	"provider" "provider_name" NOT NULL,
	"idempotency_key" text NOT NULL,
	"submissions" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "sandbox_submission_counts_provider_idempotency_key_pk" PRIMARY KEY("provider","idempotency_key")
);
--> statement-breakpoint
ALTER TABLE "sandbox_notices" ADD CONSTRAINT "sandbox_notices_operation_id_sandbox_operations_id_fk" FOREIGN KEY ("operation_id") REFERENCES "public"."sandbox_operations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "sandbox_notices_undelivered_idx" ON "sandbox_notices" USING btree ("next_attempt_at") WHERE "sandbox_notices"."delivered_at" IS NULL;--> statement-breakpoint
CREATE INDEX "sandbox_operations_key_idx" ON "sandbox_operations" USING btree ("provider","idempotency_key");--> statement-breakpoint
CREATE INDEX "sandbox_operations_payment_idx" ON "sandbox_operations" USING btree ("provider","payment_id");--> statement-breakpoint
CREATE INDEX "sandbox_operations_due_idx" ON "sandbox_operations" USING btree ("settle_at") WHERE "sandbox_operations"."status" = 'pending';