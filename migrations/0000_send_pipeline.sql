CREATE TABLE `api_key` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`prefix` text NOT NULL,
	`hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenant`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_key_hash_unique` ON `api_key` (`hash`);--> statement-breakpoint
CREATE INDEX `idx_api_key_tenant` ON `api_key` (`tenant_id`);--> statement-breakpoint
CREATE TABLE `tenant` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `provider_config` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`channel` text NOT NULL,
	`provider` text NOT NULL,
	`priority` integer NOT NULL,
	`credentials` text NOT NULL,
	`settings` text NOT NULL,
	`enabled` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenant`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `idx_provider_tenant_channel` ON `provider_config` (`tenant_id`,`channel`,`priority`);--> statement-breakpoint
CREATE TABLE `communication` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`created_by` text,
	`recipient_type` text NOT NULL,
	`recipient_id` text,
	`recipient_name` text,
	`recipient_contact` text NOT NULL,
	`channel` text NOT NULL,
	`type` text NOT NULL,
	`subject` text,
	`content` text NOT NULL,
	`entity_type` text,
	`entity_id` text,
	`template_id` text,
	`template_variables` text,
	`attachments` text,
	`metadata` text,
	`status` text NOT NULL,
	`priority` text NOT NULL,
	`scheduled_at` integer,
	`sent_at` integer,
	`delivered_at` integer,
	`opened_at` integer,
	`clicked_at` integer,
	`bounced_at` integer,
	`failed_at` integer,
	`cancelled_at` integer,
	`error_message` text,
	`provider` text,
	`provider_config_id` text,
	`provider_message_id` text,
	`provider_response` text,
	`retry_count` integer DEFAULT 0 NOT NULL,
	`max_retries` integer NOT NULL,
	`next_retry_at` integer,
	`enqueued_at` integer,
	`claimed_at` integer,
	`original_communication_id` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenant`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `idx_communication_tenant_created` ON `communication` (`tenant_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `idx_communication_tenant_status` ON `communication` (`tenant_id`,`status`);--> statement-breakpoint
CREATE INDEX `idx_communication_tenant_recipient` ON `communication` (`tenant_id`,`recipient_id`);--> statement-breakpoint
CREATE INDEX `idx_communication_tenant_entity` ON `communication` (`tenant_id`,`entity_type`,`entity_id`);--> statement-breakpoint
CREATE INDEX `idx_communication_provider_message` ON `communication` (`provider_message_id`);--> statement-breakpoint
CREATE INDEX `idx_communication_status_enqueued` ON `communication` (`status`,`enqueued_at`);--> statement-breakpoint
CREATE TABLE `communication_event` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`communication_id` text NOT NULL,
	`kind` text NOT NULL,
	`status` text,
	`provider` text,
	`provider_config_id` text,
	`http_status` integer,
	`error` text,
	`latency_ms` integer,
	`detail` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`communication_id`) REFERENCES `communication`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `idx_event_communication` ON `communication_event` (`communication_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `idempotency_key` (
	`tenant_id` text NOT NULL,
	`key` text NOT NULL,
	`request_hash` text NOT NULL,
	`response_status` integer NOT NULL,
	`response_body` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `key`)
);
