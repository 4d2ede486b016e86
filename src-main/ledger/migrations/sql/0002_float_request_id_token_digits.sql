ALTER TABLE `float_movement` ADD `request_id` text;--> statement-breakpoint
CREATE UNIQUE INDEX `float_movement_request` ON `float_movement` (`request_id`);--> statement-breakpoint
CREATE INDEX `token_digits` ON `token` (`digits`);