ALTER TABLE `operator` ADD `language` text;--> statement-breakpoint
ALTER TABLE `outlet` ADD `receipt_columns` integer DEFAULT 42 NOT NULL;