CREATE TABLE `carrier_job` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`job_id` text NOT NULL,
	`receipt_no` integer,
	`carrier` text NOT NULL,
	`copy` integer DEFAULT false NOT NULL,
	`state` text NOT NULL,
	`device` text NOT NULL,
	`error_code` text,
	`error_message` text,
	`operator_id` integer NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`operator_id`) REFERENCES `operator`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `carrier_job_job_id_unique` ON `carrier_job` (`job_id`);--> statement-breakpoint
CREATE INDEX `carrier_job_receipt` ON `carrier_job` (`receipt_no`,`carrier`);--> statement-breakpoint
CREATE TABLE `device_config` (
	`role` text PRIMARY KEY NOT NULL,
	`config_json` text NOT NULL,
	`secret_sealed` blob,
	`updated_at` text NOT NULL,
	`updated_by` integer,
	FOREIGN KEY (`updated_by`) REFERENCES `operator`(`id`) ON UPDATE no action ON DELETE no action
);
