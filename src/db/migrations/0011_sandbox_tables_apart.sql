DROP TABLE "sandbox_notices" CASCADE;--> statement-breakpoint
DROP TABLE "sandbox_operations" CASCADE;--> statement-breakpoint
DROP TABLE "sandbox_submission_counts" CASCADE;--> statement-breakpoint
DROP TYPE "public"."sandbox_operation_kind";--> statement-breakpoint
DROP TYPE "public"."sandbox_operation_status";