CREATE TABLE `device` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`recipient_type` text NOT NULL,
	`recipient_id` text NOT NULL,
	`platform` text NOT NULL,
	`transport` text NOT NULL,
	`address` text NOT NULL,
	`p256dh` text,
	`auth` text,
	`created_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `uq_device_address` ON `device` (`tenant_id`,`address`);--> statement-breakpoint
CREATE INDEX `idx_device_recipient` ON `device` (`tenant_id`,`recipient_type`,`recipient_id`);