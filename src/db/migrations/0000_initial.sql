CREATE TYPE "public"."customer_locale" AS ENUM('zh-CN', 'en');--> statement-breakpoint
CREATE TYPE "public"."destination_type" AS ENUM('original', 'bank_transfer');--> statement-breakpoint
CREATE TYPE "public"."notification_status" AS ENUM('pending', 'sent', 'failed', 'skipped');--> statement-breakpoint
CREATE TYPE "public"."order_status" AS ENUM('paid', 'partially_refunded', 'refunded');--> statement-breakpoint
CREATE TYPE "public"."payment_channel" AS ENUM('card', 'wechat', 'alipay');--> statement-breakpoint
CREATE TYPE "public"."payment_status" AS ENUM('pending', 'captured', 'settled', 'failed');--> statement-breakpoint
CREATE TYPE "public"."provider_name" AS ENUM('card', 'wechat', 'alipay', 'bank_transfer');--> statement-breakpoint
CREATE TYPE "public"."provider_state" AS ENUM('not_sent', 'in_doubt', 'accepted', 'settled', 'failed', 'canceled', 'returned');--> statement-breakpoint
CREATE TYPE "public"."refund_reason" AS ENUM('defective', 'not_received', 'duplicate_charge', 'wrong_amount', 'order_canceled', 'deposit_return', 'customer_request', 'fraud', 'other');--> statement-breakpoint
CREATE TYPE "public"."refund_status" AS ENUM('pending_approval', 'processing', 'awaiting_settlement', 'delayed', 'requires_action', 'succeeded', 'correcting', 'corrected', 'rejected', 'expired', 'canceled');--> statement-breakpoint
CREATE TYPE "public"."reservation_state" AS ENUM('reserved', 'released', 'settled');--> statement-breakpoint
CREATE TYPE "public"."sandbox_operation_kind" AS ENUM('refund', 'reversal');--> statement-breakpoint
CREATE TYPE "public"."sandbox_operation_status" AS ENUM('pending', 'settled', 'canceled', 'failed');--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"principal" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"refund_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_principal_key_pk" PRIMARY KEY("principal","key")
);
--> statement-breakpoint
CREATE TABLE "notifications" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"refund_id" text NOT NULL,
	"notice_key" text NOT NULL,
	"template" text NOT NULL,
	"locale" "customer_locale" NOT NULL,
	"channel" text NOT NULL,
	"recipient" text,
	"subject" text NOT NULL,
	"body" text NOT NULL,
	"status" "notification_status" DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "orders" (
	"merchant_id" text NOT NULL,
	"order_id" text NOT NULL,
	"status" "order_status" DEFAULT 'paid' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "orders_merchant_id_order_id_pk" PRIMARY KEY("merchant_id","order_id")
);
--> statement-breakpoint
CREATE TABLE "payments" (
	"id" text PRIMARY KEY NOT NULL,
	"merchant_id" text NOT NULL,
	"order_id" text NOT NULL,
	"channel" "payment_channel" NOT NULL,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"status" "payment_status" NOT NULL,
	"captured_at" timestamp with time zone NOT NULL,
	"payer_account" text NOT NULL,
	"customer_name" text,
	"customer_email" text,
	"customer_phone" text,
	"customer_locale" "customer_locale" DEFAULT 'zh-CN' NOT NULL,
	"request_hash" text NOT NULL,
	"refunded_amount" bigint DEFAULT 0 NOT NULL,
	"reserved_amount" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payments_amount_nonnegative" CHECK ("payments"."amount" >= 0),
	CONSTRAINT "payments_never_over_refunded" CHECK ("payments"."refunded_amount" >= 0 AND "payments"."reserved_amount" >= 0 AND "payments"."refunded_amount" + "payments"."reserved_amount" <= "payments"."amount")
);
--> statement-breakpoint
CREATE TABLE "provider_attempts" (
	"refund_id" text NOT NULL,
	"attempt" integer NOT NULL,
	"provider" "provider_name" NOT NULL,
	"idempotency_key" text NOT NULL,
	"state" "provider_state" DEFAULT 'not_sent' NOT NULL,
	"reference" text,
	"trace_reference" text,
	"failure_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "provider_attempts_refund_id_attempt_pk" PRIMARY KEY("refund_id","attempt")
);
--> statement-breakpoint
CREATE TABLE "provider_notices" (
	"provider" "provider_name" NOT NULL,
	"notice_id" text NOT NULL,
	"refund_id" text NOT NULL,
	"type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"forwarded_at" timestamp with time zone,
	CONSTRAINT "provider_notices_provider_notice_id_pk" PRIMARY KEY("provider","notice_id")
);
--> statement-breakpoint
CREATE TABLE "refund_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"refund_id" text NOT NULL,
	"event_key" text NOT NULL,
	"type" text NOT NULL,
	"actor" text NOT NULL,
	"actor_role" text NOT NULL,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "refunds" (
	"id" text PRIMARY KEY NOT NULL,
	"payment_id" text NOT NULL,
	"merchant_id" text NOT NULL,
	"order_id" text NOT NULL,
	"channel" "payment_channel" NOT NULL,
	"amount" bigint NOT NULL,
	"fee" bigint NOT NULL,
	"net_amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"reason" "refund_reason" NOT NULL,
	"note" text,
	"status" "refund_status" NOT NULL,
	"requested_by" text NOT NULL,
	"created_by" text NOT NULL,
	"required_approvals" smallint NOT NULL,
	"approvals" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"corrections" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"destination_type" "destination_type" DEFAULT 'original' NOT NULL,
	"destination_account" text NOT NULL,
	"destination_account_name" text,
	"provider" "provider_name" NOT NULL,
	"provider_attempt" integer DEFAULT 1 NOT NULL,
	"provider_state" "provider_state" DEFAULT 'not_sent' NOT NULL,
	"provider_reference" text,
	"trace_reference" text,
	"reservation" "reservation_state" DEFAULT 'reserved' NOT NULL,
	"needs_attention" boolean DEFAULT false NOT NULL,
	"approval_due_at" timestamp with time zone,
	"settlement_due_at" timestamp with time zone,
	"expected_arrival_at" timestamp with time zone,
	"hard_deadline_at" timestamp with time zone,
	"settled_at" timestamp with time zone,
	"workflow_seq" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "refunds_amount_positive" CHECK ("refunds"."amount" > 0),
	CONSTRAINT "refunds_fee_within_amount" CHECK ("refunds"."fee" >= 0 AND "refunds"."net_amount" = "refunds"."amount" - "refunds"."fee")
);
--> statement-breakpoint
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
	"settle_at" timestamp with time zone,
	"settled_at" timestamp with time zone,
	"return_at" timestamp with time zone,
	"returned_at" timestamp with time zone,
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
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_refund_id_refunds_id_fk" FOREIGN KEY ("refund_id") REFERENCES "public"."refunds"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_refund_id_refunds_id_fk" FOREIGN KEY ("refund_id") REFERENCES "public"."refunds"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provider_attempts" ADD CONSTRAINT "provider_attempts_refund_id_refunds_id_fk" FOREIGN KEY ("refund_id") REFERENCES "public"."refunds"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provider_notices" ADD CONSTRAINT "provider_notices_refund_id_refunds_id_fk" FOREIGN KEY ("refund_id") REFERENCES "public"."refunds"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "refund_events" ADD CONSTRAINT "refund_events_refund_id_refunds_id_fk" FOREIGN KEY ("refund_id") REFERENCES "public"."refunds"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_payment_id_payments_id_fk" FOREIGN KEY ("payment_id") REFERENCES "public"."payments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sandbox_notices" ADD CONSTRAINT "sandbox_notices_operation_id_sandbox_operations_id_fk" FOREIGN KEY ("operation_id") REFERENCES "public"."sandbox_operations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "notifications_step_idx" ON "notifications" USING btree ("refund_id","notice_key");--> statement-breakpoint
CREATE INDEX "notifications_pending_idx" ON "notifications" USING btree ("id") WHERE "notifications"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "payments_order_idx" ON "payments" USING btree ("merchant_id","order_id");--> statement-breakpoint
CREATE UNIQUE INDEX "provider_attempts_key_idx" ON "provider_attempts" USING btree ("provider","idempotency_key");--> statement-breakpoint
CREATE UNIQUE INDEX "refund_events_step_idx" ON "refund_events" USING btree ("refund_id","event_key");--> statement-breakpoint
CREATE INDEX "refunds_created_idx" ON "refunds" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "refunds_status_created_idx" ON "refunds" USING btree ("status","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "refunds_merchant_created_idx" ON "refunds" USING btree ("merchant_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "refunds_payment_idx" ON "refunds" USING btree ("payment_id");--> statement-breakpoint
CREATE INDEX "refunds_needs_attention_idx" ON "refunds" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST) WHERE "refunds"."needs_attention";--> statement-breakpoint
CREATE INDEX "sandbox_notices_undelivered_idx" ON "sandbox_notices" USING btree ("next_attempt_at") WHERE "sandbox_notices"."delivered_at" IS NULL;--> statement-breakpoint
CREATE INDEX "sandbox_operations_key_idx" ON "sandbox_operations" USING btree ("provider","idempotency_key");--> statement-breakpoint
CREATE INDEX "sandbox_operations_payment_idx" ON "sandbox_operations" USING btree ("provider","payment_id");--> statement-breakpoint
CREATE INDEX "sandbox_operations_due_idx" ON "sandbox_operations" USING btree ("settle_at") WHERE "sandbox_operations"."status" = 'pending';