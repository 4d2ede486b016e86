CREATE TABLE "master_change" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"utility_id" integer NOT NULL,
	"outlet_id" integer,
	"kind" text NOT NULL,
	"key" text NOT NULL,
	"data" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "master_change" ADD CONSTRAINT "master_change_utility_id_utility_id_fk" FOREIGN KEY ("utility_id") REFERENCES "public"."utility"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "master_change" ADD CONSTRAINT "master_change_outlet_id_outlet_id_fk" FOREIGN KEY ("outlet_id") REFERENCES "public"."outlet"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "master_change_utility" ON "master_change" USING btree ("utility_id","id");