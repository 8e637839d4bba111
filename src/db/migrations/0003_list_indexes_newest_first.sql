DROP INDEX "refunds_created_idx";--> statement-breakpoint
DROP INDEX "refunds_status_created_idx";--> statement-breakpoint
DROP INDEX "refunds_merchant_created_idx";--> statement-breakpoint
DROP INDEX "refunds_payment_idx";--> statement-breakpoint
DROP INDEX "refunds_needs_attention_idx";--> statement-breakpoint
CREATE INDEX "refunds_created_idx" ON "refunds" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "refunds_status_created_idx" ON "refunds" USING btree ("status","created_at","id");--> statement-breakpoint
CREATE INDEX "refunds_merchant_created_idx" ON "refunds" USING btree ("merchant_id","created_at","id");--> statement-breakpoint
CREATE INDEX "refunds_payment_idx" ON "refunds" USING btree ("payment_id","created_at","id");--> statement-breakpoint
CREATE INDEX "refunds_needs_attention_idx" ON "refunds" USING btree ("created_at","id") WHERE "refunds"."needs_attention";