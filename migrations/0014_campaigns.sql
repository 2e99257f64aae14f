CREATE TABLE `audience` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`kind` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenant`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `uq_audience_tenant_name` ON `audience` (`tenant_id`,`name`);--> statement-breakpoint
CREATE TABLE `audience_member` (
	`tenant_id` text NOT NULL,
	`audience_id` text NOT NULL,
	`recipient_type` text NOT NULL,
	`recipient_id` text NOT NULL,
	`name` text,
	`email` text,
	`phone` text,
	`variables` text,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `audience_id`, `recipient_type`, `recipient_id`),
	FOREIGN KEY (`audience_id`) REFERENCES `audience`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `campaign` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`created_by` text,
	`name` text NOT NULL,
	`audience_id` text NOT NULL,
	`channel` text NOT NULL,
	`type` text NOT NULL,
	`variants` text NOT NULL,
	`template_variables` text,
	`test_percent` integer DEFAULT 0 NOT NULL,
	`test_duration_minutes` integer,
	`winner_metric` text,
	`winner` text,
	`winner_picked_by` text,
	`status` text NOT NULL,
	`phase` text NOT NULL,
	`send_rate` integer,
	`scheduled_at` integer,
	`cursor_type` text,
	`cursor_id` text,
	`next_chunk_at` integer,
	`processed` integer DEFAULT 0 NOT NULL,
	`skipped` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`started_at` integer,
	`test_ends_at` integer,
	`completed_at` integer,
	`cancelled_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenant`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `idx_campaign_tenant_created` ON `campaign` (`tenant_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `idx_campaign_status` ON `campaign` (`status`);--> statement-breakpoint
CREATE TABLE `campaign_chunk` (
	`campaign_id` text NOT NULL,
	`phase` text NOT NULL,
	`after` text NOT NULL,
	`tenant_id` text NOT NULL,
	`communications` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`campaign_id`, `phase`, `after`)
);
--> statement-breakpoint
ALTER TABLE `communication` ADD `campaign_id` text;--> statement-breakpoint
ALTER TABLE `communication` ADD `campaign_variant` text;--> statement-breakpoint
CREATE UNIQUE INDEX `uq_communication_campaign_recipient` ON `communication` (`campaign_id`,`recipient_type`,`recipient_id`,`channel`);