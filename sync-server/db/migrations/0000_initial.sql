CREATE TABLE "batch" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"device_id" text NOT NULL,
	"seq" bigint NOT NULL,
	"hash" text NOT NULL,
	"prev_hash" text NOT NULL,
	"signature" text NOT NULL,
	"event_count" integer NOT NULL,
	"first_event_seq" bigint NOT NULL,
	"last_event_seq" bigint NOT NULL,
	"protocol_version" integer NOT NULL,
	"schema_version" integer NOT NULL,
	"app_version" text NOT NULL,
	"sealed_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "device" (
	"id" text PRIMARY KEY NOT NULL,
	"outlet_id" integer NOT NULL,
	"public_key" text NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"status_reason" text,
	"status_changed_at" timestamp with time zone,
	"app_version" text NOT NULL,
	"enrolled_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone,
	"last_seq" bigint DEFAULT 0 NOT NULL,
	"last_hash" text NOT NULL,
	"last_event_seq" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "device_public_key_unique" UNIQUE("public_key")
);
--> statement-breakpoint
CREATE TABLE "device_incident" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"device_id" text NOT NULL,
	"kind" text NOT NULL,
	"detail" text NOT NULL,
	"batch_seq" bigint,
	"evidence" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "enrollment_code" (
	"id" serial PRIMARY KEY NOT NULL,
	"outlet_id" integer NOT NULL,
	"code_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"device_id" text,
	CONSTRAINT "enrollment_code_code_hash_unique" UNIQUE("code_hash")
);
--> statement-breakpoint
CREATE TABLE "event" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"device_id" text NOT NULL,
	"outlet_id" integer NOT NULL,
	"event_seq" bigint NOT NULL,
	"batch_seq" bigint NOT NULL,
	"type" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"payload" jsonb NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outlet" (
	"id" serial PRIMARY KEY NOT NULL,
	"utility_id" integer NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "outlet_code_unique" UNIQUE("code")
);
--> statement-breakpoint
CREATE TABLE "rejected_event" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"device_id" text NOT NULL,
	"event_seq" bigint NOT NULL,
	"batch_seq" bigint NOT NULL,
	"type" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"payload" jsonb NOT NULL,
	"reason_code" text NOT NULL,
	"reason_message" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "request_nonce" (
	"device_id" text NOT NULL,
	"nonce" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "request_nonce_device_id_nonce_pk" PRIMARY KEY("device_id","nonce")
);
--> statement-breakpoint
CREATE TABLE "utility" (
	"id" serial PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "utility_code_unique" UNIQUE("code")
);
--> statement-breakpoint
ALTER TABLE "batch" ADD CONSTRAINT "batch_device_id_device_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."device"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "device" ADD CONSTRAINT "device_outlet_id_outlet_id_fk" FOREIGN KEY ("outlet_id") REFERENCES "public"."outlet"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "device_incident" ADD CONSTRAINT "device_incident_device_id_device_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."device"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrollment_code" ADD CONSTRAINT "enrollment_code_outlet_id_outlet_id_fk" FOREIGN KEY ("outlet_id") REFERENCES "public"."outlet"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "event" ADD CONSTRAINT "event_device_id_device_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."device"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "event" ADD CONSTRAINT "event_outlet_id_outlet_id_fk" FOREIGN KEY ("outlet_id") REFERENCES "public"."outlet"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outlet" ADD CONSTRAINT "outlet_utility_id_utility_id_fk" FOREIGN KEY ("utility_id") REFERENCES "public"."utility"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rejected_event" ADD CONSTRAINT "rejected_event_device_id_device_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."device"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "batch_device_seq" ON "batch" USING btree ("device_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "batch_hash" ON "batch" USING btree ("hash");--> statement-breakpoint
CREATE INDEX "device_outlet" ON "device" USING btree ("outlet_id");--> statement-breakpoint
CREATE INDEX "device_incident_device" ON "device_incident" USING btree ("device_id");--> statement-breakpoint
CREATE UNIQUE INDEX "event_device_seq" ON "event" USING btree ("device_id","event_seq");--> statement-breakpoint
CREATE INDEX "event_outlet_type" ON "event" USING btree ("outlet_id","type");--> statement-breakpoint
CREATE INDEX "outlet_utility" ON "outlet" USING btree ("utility_id");--> statement-breakpoint
CREATE UNIQUE INDEX "rejected_event_device_seq" ON "rejected_event" USING btree ("device_id","event_seq");--> statement-breakpoint
CREATE INDEX "request_nonce_expiry" ON "request_nonce" USING btree ("expires_at");