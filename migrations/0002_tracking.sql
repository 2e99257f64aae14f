CREATE TABLE `communication_stats` (
	`tenant_id` text NOT NULL,
	`day` text NOT NULL,
	`channel` text NOT NULL,
	`type` text NOT NULL,
	`accepted` integer DEFAULT 0 NOT NULL,
	`sent` integer DEFAULT 0 NOT NULL,
	`delivered` integer DEFAULT 0 NOT NULL,
	`opened` integer DEFAULT 0 NOT NULL,
	`clicked` integer DEFAULT 0 NOT NULL,
	`bounced` integer DEFAULT 0 NOT NULL,
	`failed` integer DEFAULT 0 NOT NULL,
	`suppressed` integer DEFAULT 0 NOT NULL,
	`cancelled` integer DEFAULT 0 NOT NULL,
	`send_latency_ms` integer DEFAULT 0 NOT NULL,
	`send_latency_count` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`tenant_id`, `day`, `channel`, `type`)
);
--> statement-breakpoint
CREATE TABLE `suppression` (
	`tenant_id` text NOT NULL,
	`channel` text NOT NULL,
	`contact` text NOT NULL,
	`reason` text NOT NULL,
	`detail` text,
	`source` text NOT NULL,
	`communication_id` text,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `channel`, `contact`)
);
--> statement-breakpoint
CREATE TABLE `webhook_delivery` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`endpoint_id` text NOT NULL,
	`event_id` text NOT NULL,
	`event_type` text NOT NULL,
	`payload` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_status_code` integer,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_webhook_delivery_endpoint` ON `webhook_delivery` (`tenant_id`,`endpoint_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `webhook_endpoint` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`url` text NOT NULL,
	`description` text,
	`event_types` text NOT NULL,
	`secret` text NOT NULL,
	`enabled` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenant`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `idx_webhook_endpoint_tenant` ON `webhook_endpoint` (`tenant_id`);--> statement-breakpoint
ALTER TABLE `communication_event` ADD `dedupe_key` text;--> statement-breakpoint
CREATE UNIQUE INDEX `uq_event_dedupe` ON `communication_event` (`communication_id`,`dedupe_key`);