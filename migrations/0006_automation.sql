CREATE TABLE `business_event` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`type` text NOT NULL,
	`entity_type` text,
	`entity_id` text,
	`recipients` text NOT NULL,
	`data` text NOT NULL,
	`occurred_at` integer NOT NULL,
	`idempotency_key` text,
	`status` text NOT NULL,
	`outcome` text,
	`received_at` integer NOT NULL,
	`claimed_at` integer,
	`processed_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `uq_business_event_key` ON `business_event` (`tenant_id`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `idx_business_event_tenant_received` ON `business_event` (`tenant_id`,`received_at`);--> statement-breakpoint
CREATE INDEX `idx_business_event_tenant_entity` ON `business_event` (`tenant_id`,`entity_type`,`entity_id`);--> statement-breakpoint
CREATE INDEX `idx_business_event_status_received` ON `business_event` (`status`,`received_at`);--> statement-breakpoint
CREATE TABLE `digest` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`trigger_rule_id` text NOT NULL,
	`recipient_key` text NOT NULL,
	`recipient` text NOT NULL,
	`entity_type` text,
	`entity_id` text,
	`items` text NOT NULL,
	`item_count` integer NOT NULL,
	`status` text NOT NULL,
	`closes_at` integer NOT NULL,
	`claimed_at` integer,
	`flushed_at` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `uq_digest_open` ON `digest` (`tenant_id`,`trigger_rule_id`,`recipient_key`) WHERE status = 'open';--> statement-breakpoint
CREATE INDEX `idx_digest_status_closes` ON `digest` (`status`,`closes_at`);--> statement-breakpoint
CREATE TABLE `reminder_sequence` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`entity_type` text NOT NULL,
	`entity_id` text NOT NULL,
	`recipient` text NOT NULL,
	`variables` text NOT NULL,
	`steps` text NOT NULL,
	`first_at` integer NOT NULL,
	`every_days` integer,
	`offsets_days` text,
	`max_steps` integer NOT NULL,
	`cancel_on` text NOT NULL,
	`status` text NOT NULL,
	`steps_sent` integer NOT NULL,
	`next_at` integer,
	`claimed_at` integer,
	`trigger_rule_id` text,
	`cancelled_at` integer,
	`cancel_reason` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `uq_reminder_active` ON `reminder_sequence` (`tenant_id`,`entity_type`,`entity_id`,`name`) WHERE status = 'active';--> statement-breakpoint
CREATE INDEX `idx_reminder_tenant_entity` ON `reminder_sequence` (`tenant_id`,`entity_type`,`entity_id`);--> statement-breakpoint
CREATE INDEX `idx_reminder_status_next` ON `reminder_sequence` (`status`,`next_at`);--> statement-breakpoint
CREATE TABLE `trigger_rule` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`preset` text,
	`event_type` text NOT NULL,
	`conditions` text NOT NULL,
	`action` text NOT NULL,
	`enabled` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_trigger_rule_tenant_event` ON `trigger_rule` (`tenant_id`,`event_type`);