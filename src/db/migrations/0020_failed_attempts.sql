CREATE TABLE "failed_attempts" (
	"kind" text NOT NULL,
	"source" text NOT NULL,
	"window_start" timestamp with time zone DEFAULT now() NOT NULL,
	"count" integer NOT NULL,
	CONSTRAINT "failed_attempts_kind_source_pk" PRIMARY KEY("kind","source")
);
