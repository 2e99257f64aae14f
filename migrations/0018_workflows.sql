CREATE TABLE `workflow` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`key` text NOT NULL,
	`active_version` integer NOT NULL,
	`archived_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenant`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `uq_workflow_key` ON `workflow` (`tenant_id`,`key`);--> statement-breakpoint
CREATE TABLE `workflow_version` (
	`workflow_id` text NOT NULL,
	`tenant_id` text NOT NULL,
	`version` integer NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`steps` text NOT NULL,
	`trigger_events` text NOT NULL,
	`created_by` text,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`workflow_id`, `version`),
	FOREIGN KEY (`workflow_id`) REFERENCES `workflow`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `workflow_run` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`workflow_key` text NOT NULL,
	`version` integer NOT NULL,
	`recipient_type` text NOT NULL,
	`recipient_id` text,
	`recipient` text NOT NULL,
	`status` text NOT NULL,
	`data` text NOT NULL,
	`actor` text,
	`cancellation_key` text,
	`idempotency_key` text,
	`instance_id` text NOT NULL,
	`binding` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`finished_at` integer,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenant`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `uq_workflow_run_idempotency` ON `workflow_run` (`tenant_id`,`workflow_key`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `idx_workflow_run_list` ON `workflow_run` (`tenant_id`,`workflow_key`,`created_at`);--> statement-breakpoint
CREATE INDEX `idx_workflow_run_cancel` ON `workflow_run` (`tenant_id`,`cancellation_key`);--> statement-breakpoint
CREATE INDEX `idx_workflow_run_recipient` ON `workflow_run` (`tenant_id`,`recipient_type`,`recipient_id`,`status`);--> statement-breakpoint
CREATE TABLE `workflow_run_step` (
	`run_id` text NOT NULL,
	`tenant_id` text NOT NULL,
	`step_id` text NOT NULL,
	`type` text NOT NULL,
	`status` text NOT NULL,
	`outcome` text,
	`started_at` integer,
	`finished_at` integer,
	`output` text,
	`communication_ids` text NOT NULL,
	PRIMARY KEY(`run_id`, `step_id`),
	FOREIGN KEY (`run_id`) REFERENCES `workflow_run`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `communication` ADD `workflow_run_id` text;--> statement-breakpoint
ALTER TABLE `communication` ADD `workflow_step_id` text;
--> statement-breakpoint
CREATE INDEX `idx_communication_workflow_run` ON `communication` (`tenant_id`,`workflow_run_id`);
