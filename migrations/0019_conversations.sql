CREATE TABLE `conversation` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`channel` text NOT NULL,
	`contact` text NOT NULL,
	`our_address` text NOT NULL,
	`provider_config_id` text,
	`recipient_type` text,
	`recipient_id` text,
	`communication_id` text,
	`last_inbound_at` integer,
	`last_message_at` integer NOT NULL,
	`unread_count` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `uq_conversation_thread` ON `conversation` (`tenant_id`,`channel`,`contact`,`our_address`);
--> statement-breakpoint
CREATE INDEX `idx_conversation_tenant_updated` ON `conversation` (`tenant_id`,`updated_at`);
--> statement-breakpoint
CREATE INDEX `idx_conversation_tenant_recipient` ON `conversation` (`tenant_id`,`recipient_type`,`recipient_id`);
--> statement-breakpoint
CREATE TABLE `conversation_message` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`conversation_id` text NOT NULL,
	`direction` text NOT NULL,
	`provider_config_id` text,
	`provider_message_id` text,
	`text` text,
	`subject` text,
	`button` text,
	`media` text,
	`communication_id` text,
	`in_reply_to_communication_id` text,
	`in_reply_to` text,
	`keyword` text,
	`at` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `uq_conversation_message_provider` ON `conversation_message` (`tenant_id`,`provider_config_id`,`provider_message_id`);
--> statement-breakpoint
CREATE INDEX `idx_conversation_message_thread` ON `conversation_message` (`conversation_id`,`at`);
--> statement-breakpoint
CREATE INDEX `idx_conversation_message_communication` ON `conversation_message` (`tenant_id`,`communication_id`);
--> statement-breakpoint
CREATE INDEX `idx_communication_tenant_contact` ON `communication` (`tenant_id`,`channel`,`recipient_contact`,`created_at`);
