-- Audience triggers of workflows: the fan-out's cursor and progress (src/workflows/fanout.ts).
CREATE TABLE `workflow_fanout` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`workflow_key` text NOT NULL,
	`version` integer NOT NULL,
	`audience_id` text NOT NULL,
	`data` text NOT NULL,
	`actor` text,
	`idempotency_key` text NOT NULL,
	`cancellation_key` text,
	`state` text NOT NULL,
	`total` integer NOT NULL,
	`started` integer DEFAULT 0 NOT NULL,
	`failed` integer DEFAULT 0 NOT NULL,
	`cursor_type` text,
	`cursor_id` text,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`finished_at` integer,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenant`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `uq_workflow_fanout_idempotency` ON `workflow_fanout` (`tenant_id`,`workflow_key`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `idx_workflow_fanout_cancel` ON `workflow_fanout` (`tenant_id`,`cancellation_key`);
