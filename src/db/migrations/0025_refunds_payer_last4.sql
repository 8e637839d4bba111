ALTER TABLE "refunds" ADD COLUMN "payer_last4" text DEFAULT '' NOT NULL;--> statement-breakpoint
-- Refunds taken before: their payment's payer account's last four (a payment's payer never changes).
UPDATE "refunds" r SET "payer_last4" = p."payer_last4" FROM "payments" p WHERE p."id" = r."payment_id";--> statement-breakpoint
CREATE INDEX "refunds_payer_last4_idx" ON "refunds" USING btree ("payer_last4","created_at","id");
