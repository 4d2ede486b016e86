CREATE TABLE `audit_log` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` text NOT NULL,
	`operator_id` integer,
	`action` text NOT NULL,
	`entity` text NOT NULL,
	`entity_id` text NOT NULL,
	`details_json` text NOT NULL,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `counter` (
	`name` text PRIMARY KEY NOT NULL,
	`value` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `customer` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_no` text NOT NULL,
	`name` text NOT NULL,
	`address` text DEFAULT '' NOT NULL,
	`phone` text DEFAULT '' NOT NULL,
	`location` text DEFAULT '' NOT NULL,
	`fbe_eligible` integer DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `customer_account_no_unique` ON `customer` (`account_no`);--> statement-breakpoint
CREATE TABLE `debt` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`customer_id` integer NOT NULL,
	`account_no` text NOT NULL,
	`description` text NOT NULL,
	`balance_minor` integer NOT NULL,
	`rule_kind` text NOT NULL,
	`rule_value` integer NOT NULL,
	`recovered_month` text,
	`recovered_this_month_minor` integer DEFAULT 0 NOT NULL,
	FOREIGN KEY (`customer_id`) REFERENCES `customer`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `float_movement` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`created_at` text NOT NULL,
	`kind` text NOT NULL,
	`amount_minor` integer NOT NULL,
	`balance_after_minor` integer NOT NULL,
	`sale_id` integer,
	`reference` text DEFAULT '' NOT NULL,
	FOREIGN KEY (`sale_id`) REFERENCES `sale`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `meter` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`pan` text NOT NULL,
	`meter_no` text NOT NULL,
	`iin_length` integer DEFAULT 6 NOT NULL,
	`meter_type` text NOT NULL,
	`customer_id` integer,
	`tariff_id` integer NOT NULL,
	`sgc` text NOT NULL,
	`ti` integer NOT NULL,
	`krn` integer NOT NULL,
	`key_type` integer NOT NULL,
	`ea` text NOT NULL,
	`dkga` text NOT NULL,
	`base_date` integer NOT NULL,
	`ken` integer DEFAULT 255 NOT NULL,
	`blocked` integer DEFAULT false NOT NULL,
	`blocked_reason` text,
	`pending_sgc` text,
	`pending_ti` integer,
	`pending_krn` integer,
	`pending_base_date` integer,
	`last_tid` integer,
	`mtd_month` text,
	`mtd_units` integer DEFAULT 0 NOT NULL,
	`last_purchase_at` text,
	`last_purchase_month` text,
	`fbe_last_month` text,
	FOREIGN KEY (`customer_id`) REFERENCES `customer`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`tariff_id`) REFERENCES `tariff`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `meter_pan_unique` ON `meter` (`pan`);--> statement-breakpoint
CREATE UNIQUE INDEX `meter_meter_no_unique` ON `meter` (`meter_no`);--> statement-breakpoint
CREATE INDEX `meter_customer` ON `meter` (`customer_id`);--> statement-breakpoint
CREATE TABLE `operator` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`username` text NOT NULL,
	`display_name` text NOT NULL,
	`role` text NOT NULL,
	`password_hash` text NOT NULL,
	`failed_attempts` integer DEFAULT 0 NOT NULL,
	`locked_until` text,
	`active` integer DEFAULT true NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `operator_username_unique` ON `operator` (`username`);--> statement-breakpoint
CREATE TABLE `outbox` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`created_at` text NOT NULL,
	`event_type` text NOT NULL,
	`payload_json` text NOT NULL,
	`sent_at` text
);
--> statement-breakpoint
CREATE TABLE `outlet` (
	`id` integer PRIMARY KEY NOT NULL,
	`code` text NOT NULL,
	`name` text NOT NULL,
	`address` text NOT NULL,
	`terminal_id` text NOT NULL,
	`float_balance_minor` integer DEFAULT 0 NOT NULL,
	`low_float_threshold_minor` integer DEFAULT 0 NOT NULL,
	`authority_credit_limit_minor` integer DEFAULT 0 NOT NULL,
	`authority_used_minor` integer DEFAULT 0 NOT NULL,
	`authority_valid_until` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `sale` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`request_id` text NOT NULL,
	`receipt_no` integer NOT NULL,
	`kind` text NOT NULL,
	`meter_id` integer,
	`operator_id` integer NOT NULL,
	`shift_id` integer,
	`created_at` text NOT NULL,
	`pay_type` text DEFAULT 'cash' NOT NULL,
	`tender_minor` integer DEFAULT 0 NOT NULL,
	`charges_minor` integer DEFAULT 0 NOT NULL,
	`debt_minor` integer DEFAULT 0 NOT NULL,
	`levies_minor` integer DEFAULT 0 NOT NULL,
	`vat_minor` integer DEFAULT 0 NOT NULL,
	`energy_minor` integer DEFAULT 0 NOT NULL,
	`change_minor` integer DEFAULT 0 NOT NULL,
	`units` integer DEFAULT 0 NOT NULL,
	`fbe_units` integer DEFAULT 0 NOT NULL,
	`reverses_sale_id` integer,
	`reason_code` text,
	FOREIGN KEY (`meter_id`) REFERENCES `meter`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`operator_id`) REFERENCES `operator`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`shift_id`) REFERENCES `shift`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "sale_money_non_negative" CHECK("sale"."tender_minor" >= 0 AND "sale"."change_minor" >= 0)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sale_request_id_unique` ON `sale` (`request_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `sale_receipt_no_unique` ON `sale` (`receipt_no`);--> statement-breakpoint
CREATE INDEX `sale_meter` ON `sale` (`meter_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `sale_shift_totals` ON `sale` (`shift_id`,`kind`,`operator_id`,`pay_type`,`meter_id`,`charges_minor`,`debt_minor`,`levies_minor`,`vat_minor`,`energy_minor`,`units`,`fbe_units`,`receipt_no`);--> statement-breakpoint
CREATE INDEX `sale_created` ON `sale` (`created_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `sale_reverses` ON `sale` (`reverses_sale_id`);--> statement-breakpoint
CREATE TABLE `sale_document` (
	`sale_id` integer PRIMARY KEY NOT NULL,
	`result_json` text NOT NULL,
	FOREIGN KEY (`sale_id`) REFERENCES `sale`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `sale_line` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`sale_id` integer NOT NULL,
	`kind` text NOT NULL,
	`description` text NOT NULL,
	`amount_minor` integer NOT NULL,
	`vat_minor` integer DEFAULT 0 NOT NULL,
	`units` integer DEFAULT 0 NOT NULL,
	FOREIGN KEY (`sale_id`) REFERENCES `sale`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `sale_line_sale` ON `sale_line` (`sale_id`);--> statement-breakpoint
CREATE TABLE `shift` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`operator_id` integer NOT NULL,
	`opened_at` text NOT NULL,
	`closed_at` text,
	`z_number` integer,
	`declared_cash_minor` integer,
	`expected_cash_minor` integer,
	`z_report_json` text,
	FOREIGN KEY (`operator_id`) REFERENCES `operator`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `shift_z_number_unique` ON `shift` (`z_number`);--> statement-breakpoint
CREATE INDEX `shift_operator_open` ON `shift` (`operator_id`,`closed_at`);--> statement-breakpoint
CREATE TABLE `supply_group` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`sgc` text NOT NULL,
	`name` text NOT NULL,
	`key_type` integer NOT NULL,
	`krn` integer NOT NULL,
	`base_date` integer NOT NULL,
	`dkga` text NOT NULL,
	`ea` text NOT NULL,
	`ken` integer DEFAULT 255 NOT NULL,
	`vending_key_sealed` blob NOT NULL,
	`vending_key_kcv` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `supply_group_key` ON `supply_group` (`sgc`,`krn`,`dkga`);--> statement-breakpoint
CREATE TABLE `tariff` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`code` text NOT NULL,
	`name` text NOT NULL,
	`ti` integer NOT NULL,
	`resource` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tariff_code_unique` ON `tariff` (`code`);--> statement-breakpoint
CREATE TABLE `tariff_version` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`tariff_id` integer NOT NULL,
	`version` integer NOT NULL,
	`effective_from_local` text NOT NULL,
	`kind` text NOT NULL,
	`blocks_json` text NOT NULL,
	`vat_rate_bp` integer NOT NULL,
	`prices_include_vat` integer NOT NULL,
	`fixed_charge_description` text,
	`fixed_charge_minor` integer DEFAULT 0 NOT NULL,
	`fixed_charge_max_months` integer DEFAULT 0 NOT NULL,
	`levies_json` text DEFAULT '[]' NOT NULL,
	`fbe_monthly_units` integer DEFAULT 0 NOT NULL,
	`min_vend_minor` integer NOT NULL,
	`max_vend_minor` integer NOT NULL,
	FOREIGN KEY (`tariff_id`) REFERENCES `tariff`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tariff_version_number` ON `tariff_version` (`tariff_id`,`version`);--> statement-breakpoint
CREATE TABLE `token` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`sale_id` integer NOT NULL,
	`seq` integer NOT NULL,
	`meter_id` integer,
	`kind` text NOT NULL,
	`digits` text NOT NULL,
	`token_class` integer NOT NULL,
	`subclass` integer NOT NULL,
	`tid` integer,
	`base_date` integer,
	`units` integer,
	FOREIGN KEY (`sale_id`) REFERENCES `sale`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`meter_id`) REFERENCES `meter`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `token_meter_tid` ON `token` (`meter_id`,`base_date`,`tid`);--> statement-breakpoint
CREATE UNIQUE INDEX `token_sale_seq` ON `token` (`sale_id`,`seq`);--> statement-breakpoint
CREATE TABLE `utility` (
	`id` integer PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`address` text NOT NULL,
	`tax_ref` text NOT NULL,
	`currency_code` text NOT NULL,
	`currency_minor_units` integer NOT NULL,
	`time_zone` text NOT NULL,
	`receipt_footer` text DEFAULT '' NOT NULL
);
