CREATE TABLE `sync_batch` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`device_id` text NOT NULL,
	`seq` integer NOT NULL,
	`first_event_seq` integer NOT NULL,
	`last_event_seq` integer NOT NULL,
	`event_count` integer NOT NULL,
	`protocol_version` integer NOT NULL,
	`schema_version` integer NOT NULL,
	`app_version` text NOT NULL,
	`sealed_at` text NOT NULL,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL,
	`signature` text NOT NULL,
	`ack_status` text,
	`acked_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sync_batch_hash_unique` ON `sync_batch` (`hash`);--> statement-breakpoint
CREATE UNIQUE INDEX `sync_batch_device_seq` ON `sync_batch` (`device_id`,`seq`);--> statement-breakpoint
CREATE TABLE `sync_identity` (
	`id` integer PRIMARY KEY NOT NULL,
	`server_url` text NOT NULL,
	`device_id` text NOT NULL,
	`outlet_code` text NOT NULL,
	`server_certificate_pem` text,
	`server_fingerprint` text,
	`public_key` text NOT NULL,
	`private_key_sealed` blob NOT NULL,
	`enrolled_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `sync_quarantine` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`outbox_seq` integer NOT NULL,
	`batch_id` integer NOT NULL,
	`event_type` text NOT NULL,
	`reason_code` text NOT NULL,
	`reason_message` text NOT NULL,
	`quarantined_at` text NOT NULL,
	`resolved_at` text,
	FOREIGN KEY (`outbox_seq`) REFERENCES `outbox`(`seq`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`batch_id`) REFERENCES `sync_batch`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sync_quarantine_outbox_seq_unique` ON `sync_quarantine` (`outbox_seq`);--> statement-breakpoint
CREATE TABLE `sync_state` (
	`id` integer PRIMARY KEY NOT NULL,
	`last_attempt_at` text,
	`last_success_at` text,
	`last_error_code` text,
	`last_error_message` text,
	`failures` integer DEFAULT 0 NOT NULL,
	`halted_code` text
);
--> statement-breakpoint
ALTER TABLE `outbox` ADD `batch_id` integer;--> statement-breakpoint
CREATE INDEX `outbox_pending` ON `outbox` (`sent_at`,`batch_id`);