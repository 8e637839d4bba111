CREATE TABLE "automatic_refund_totals" (
	"principal" text NOT NULL,
	"business_day" text NOT NULL,
	"currency" text NOT NULL,
	"total" bigint NOT NULL,
	CONSTRAINT "automatic_refund_totals_principal_business_day_currency_pk" PRIMARY KEY("principal","business_day","currency")
);
