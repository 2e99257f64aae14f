CREATE TABLE `provider_stats` (
	`tenant_id` text NOT NULL,
	`day` text NOT NULL,
	`provider_config_id` text NOT NULL,
	`provider` text NOT NULL,
	`silent_failovers` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`tenant_id`, `day`, `provider_config_id`)
);
--> statement-breakpoint
ALTER TABLE `provider_config` ADD `silent_streak` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `provider_config` ADD `breaker_open_until` integer;--> statement-breakpoint
ALTER TABLE `communication` ADD `receipt_window_seconds` integer;