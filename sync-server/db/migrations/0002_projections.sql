CREATE TABLE "api_client" (
	"id" serial PRIMARY KEY NOT NULL,
	"utility_id" integer NOT NULL,
	"name" text NOT NULL,
	"key_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_client_key_hash_unique" UNIQUE("key_hash")
);
--> statement-breakpoint
CREATE TABLE "meter_month" (
	"utility_id" integer NOT NULL,
	"meter_no" text NOT NULL,
	"month" text NOT NULL,
	"device_id" text NOT NULL,
	"units" integer NOT NULL,
	CONSTRAINT "meter_month_utility_id_meter_no_month_device_id_pk" PRIMARY KEY("utility_id","meter_no","month","device_id")
);
--> statement-breakpoint
CREATE TABLE "outlet_float" (
	"outlet_id" integer PRIMARY KEY NOT NULL,
	"sold_minor" bigint DEFAULT 0 NOT NULL,
	"local_top_ups_minor" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sale_fact" (
	"event_id" bigint PRIMARY KEY NOT NULL,
	"utility_id" integer NOT NULL,
	"outlet_id" integer NOT NULL,
	"device_id" text NOT NULL,
	"receipt_no" integer NOT NULL,
	"kind" text NOT NULL,
	"business_date" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"shift_id" integer,
	"operator" text NOT NULL,
	"operator_name" text NOT NULL,
	"pay_type" text NOT NULL,
	"charges_minor" bigint NOT NULL,
	"debt_minor" bigint NOT NULL,
	"levies_minor" bigint NOT NULL,
	"vat_minor" bigint NOT NULL,
	"energy_minor" bigint NOT NULL,
	"units" integer NOT NULL,
	"fbe_units" integer NOT NULL,
	"meter_no" text,
	"month" text,
	"mtd_before" integer
);
--> statement-breakpoint
CREATE TABLE "shift_reconciliation" (
	"event_id" bigint PRIMARY KEY NOT NULL,
	"utility_id" integer NOT NULL,
	"outlet_id" integer NOT NULL,
	"shift_id" integer NOT NULL,
	"report_no" integer NOT NULL,
	"operator" text NOT NULL,
	"business_date" text NOT NULL,
	"closed_at" text NOT NULL,
	"cash_declared_minor" bigint NOT NULL,
	"cash_expected_minor" bigint NOT NULL,
	"variance_minor" bigint NOT NULL,
	"status" text NOT NULL,
	"differences" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "token_fact" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"event_id" bigint NOT NULL,
	"utility_id" integer NOT NULL,
	"outlet_id" integer NOT NULL,
	"device_id" text NOT NULL,
	"meter_no" text NOT NULL,
	"base_date" integer NOT NULL,
	"tid" integer NOT NULL,
	"kind" text NOT NULL,
	"digits" text NOT NULL,
	"receipt_no" integer NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_client" ADD CONSTRAINT "api_client_utility_id_utility_id_fk" FOREIGN KEY ("utility_id") REFERENCES "public"."utility"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "meter_month" ADD CONSTRAINT "meter_month_utility_id_utility_id_fk" FOREIGN KEY ("utility_id") REFERENCES "public"."utility"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outlet_float" ADD CONSTRAINT "outlet_float_outlet_id_outlet_id_fk" FOREIGN KEY ("outlet_id") REFERENCES "public"."outlet"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sale_fact" ADD CONSTRAINT "sale_fact_event_id_event_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."event"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sale_fact" ADD CONSTRAINT "sale_fact_utility_id_utility_id_fk" FOREIGN KEY ("utility_id") REFERENCES "public"."utility"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sale_fact" ADD CONSTRAINT "sale_fact_outlet_id_outlet_id_fk" FOREIGN KEY ("outlet_id") REFERENCES "public"."outlet"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shift_reconciliation" ADD CONSTRAINT "shift_reconciliation_event_id_event_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."event"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shift_reconciliation" ADD CONSTRAINT "shift_reconciliation_utility_id_utility_id_fk" FOREIGN KEY ("utility_id") REFERENCES "public"."utility"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shift_reconciliation" ADD CONSTRAINT "shift_reconciliation_outlet_id_outlet_id_fk" FOREIGN KEY ("outlet_id") REFERENCES "public"."outlet"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "token_fact" ADD CONSTRAINT "token_fact_event_id_event_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."event"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "token_fact" ADD CONSTRAINT "token_fact_utility_id_utility_id_fk" FOREIGN KEY ("utility_id") REFERENCES "public"."utility"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "sale_fact_day" ON "sale_fact" USING btree ("utility_id","business_date");--> statement-breakpoint
CREATE INDEX "sale_fact_shift" ON "sale_fact" USING btree ("outlet_id","shift_id");--> statement-breakpoint
CREATE INDEX "sale_fact_meter_month" ON "sale_fact" USING btree ("utility_id","meter_no","month");--> statement-breakpoint
CREATE INDEX "shift_reconciliation_day" ON "shift_reconciliation" USING btree ("utility_id","business_date");--> statement-breakpoint
CREATE UNIQUE INDEX "shift_reconciliation_shift" ON "shift_reconciliation" USING btree ("outlet_id","shift_id");--> statement-breakpoint
CREATE INDEX "token_fact_meter_tid" ON "token_fact" USING btree ("utility_id","meter_no","base_date","tid");--> statement-breakpoint
CREATE INDEX "master_change_outlet_kind" ON "master_change" USING btree ("outlet_id","kind","id");