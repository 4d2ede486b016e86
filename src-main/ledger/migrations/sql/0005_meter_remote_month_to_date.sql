ALTER TABLE `meter` ADD `mtd_remote_month` text;--> statement-breakpoint
ALTER TABLE `meter` ADD `mtd_remote_units` integer DEFAULT 0 NOT NULL;