-- Sends are paced (one next free turn per provider account) instead of counted per second:
-- a count per calendar second let twice the rate through across a second's boundary.
DROP TABLE "provider_send_windows" CASCADE;--> statement-breakpoint
CREATE TABLE "provider_send_turns" (
	"rate_key" text PRIMARY KEY NOT NULL,
	"next_at" timestamp with time zone NOT NULL
);
