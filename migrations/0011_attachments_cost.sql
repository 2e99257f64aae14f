CREATE TABLE `communication_cost_stats` (
	`tenant_id` text NOT NULL,
	`day` text NOT NULL,
	`channel` text NOT NULL,
	`currency` text NOT NULL,
	`cost_micros` integer DEFAULT 0 NOT NULL,
	`priced` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`tenant_id`, `day`, `channel`, `currency`)
);
--> statement-breakpoint
ALTER TABLE `communication` ADD `cost_micros` integer;--> statement-breakpoint
ALTER TABLE `communication` ADD `cost_currency` text;