CREATE TABLE "merchant_routes" (
	"merchant_id" text NOT NULL,
	"route" text NOT NULL,
	"settings" jsonb NOT NULL,
	"secrets" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "merchant_routes_merchant_id_route_pk" PRIMARY KEY("merchant_id","route")
);
--> statement-breakpoint
ALTER TABLE "merchant_routes" ADD CONSTRAINT "merchant_routes_merchant_id_merchants_id_fk" FOREIGN KEY ("merchant_id") REFERENCES "public"."merchants"("id") ON DELETE no action ON UPDATE no action;