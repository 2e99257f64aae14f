CREATE TABLE `consent` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`entity_type` text NOT NULL,
	`entity_id` text NOT NULL,
	`channel` text NOT NULL,
	`scope` text NOT NULL,
	`status` text NOT NULL,
	`source` text NOT NULL,
	`ip` text,
	`user_agent` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_consent_recipient` ON `consent` (`tenant_id`,`entity_type`,`entity_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `recipient_preference` (
	`tenant_id` text NOT NULL,
	`entity_type` text NOT NULL,
	`entity_id` text NOT NULL,
	`email_enabled` integer,
	`sms_enabled` integer,
	`whatsapp_enabled` integer,
	`messenger_enabled` integer,
	`push_enabled` integer,
	`in_app_enabled` integer,
	`preferences` text,
	`preferred_email` text,
	`preferred_phone` text,
	`preferred_whatsapp` text,
	`preferred_messenger_id` text,
	`marketing_revoked` text,
	`opted_out_at` integer,
	`opted_out_reason` text,
	`locale` text,
	`timezone` text,
	`quiet_hours` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `entity_type`, `entity_id`)
);
