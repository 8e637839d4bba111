CREATE TABLE "provider_send_windows" (
	"rate_key" text NOT NULL,
	"second" bigint NOT NULL,
	"count" integer NOT NULL,
	CONSTRAINT "provider_send_windows_rate_key_second_pk" PRIMARY KEY("rate_key","second")
);
