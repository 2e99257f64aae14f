-- Reminder schedules finer than whole days, and each step's record for the run view.
ALTER TABLE `reminder_sequence` ADD `every_seconds` integer;--> statement-breakpoint
ALTER TABLE `reminder_sequence` ADD `offsets_seconds` text;--> statement-breakpoint
ALTER TABLE `reminder_sequence` ADD `step_log` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `reminder_sequence` ADD `cancelled_by_event_type` text;--> statement-breakpoint
ALTER TABLE `reminder_sequence` ADD `cancelled_by_event_id` text;--> statement-breakpoint
ALTER TABLE `reminder_sequence` ADD `workflow_run_id` text;--> statement-breakpoint
CREATE INDEX `idx_reminder_tenant_created` ON `reminder_sequence` (`tenant_id`,`id`);--> statement-breakpoint
-- Workflow digests: one open digest per scope (workflow, step, recipient, digest key); an event counts once per scope.
CREATE TABLE `workflow_digest` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`scope` text NOT NULL,
	`workflow_key` text NOT NULL,
	`step_id` text NOT NULL,
	`recipient_key` text NOT NULL,
	`digest_key` text NOT NULL,
	`owner_run_id` text NOT NULL,
	`status` text NOT NULL,
	`closes_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`closed_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `uq_workflow_digest_open` ON `workflow_digest` (`tenant_id`,`scope`) WHERE status = 'open';--> statement-breakpoint
CREATE INDEX `idx_workflow_digest_created` ON `workflow_digest` (`created_at`);--> statement-breakpoint
CREATE TABLE `workflow_digest_event` (
	`tenant_id` text NOT NULL,
	`scope` text NOT NULL,
	`event_key` text NOT NULL,
	`digest_id` text NOT NULL,
	`run_id` text NOT NULL,
	`data` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `scope`, `event_key`)
);
--> statement-breakpoint
CREATE INDEX `idx_workflow_digest_event_digest` ON `workflow_digest_event` (`digest_id`,`created_at`);--> statement-breakpoint
-- Throttle: one row per run that reached the step; its rank in the window decides (no counter to lose updates on).
CREATE TABLE `workflow_throttle_hit` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`tenant_id` text NOT NULL,
	`scope` text NOT NULL,
	`window_start` integer NOT NULL,
	`run_id` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `uq_workflow_throttle_hit` ON `workflow_throttle_hit` (`tenant_id`,`scope`,`window_start`,`run_id`);--> statement-breakpoint
CREATE INDEX `idx_workflow_throttle_created` ON `workflow_throttle_hit` (`created_at`);
