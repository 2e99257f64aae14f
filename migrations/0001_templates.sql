CREATE TABLE `template` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`code` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`channel` text NOT NULL,
	`type` text NOT NULL,
	`locale` text NOT NULL,
	`available_variables` text,
	`is_active` integer NOT NULL,
	`active_version` integer NOT NULL,
	`created_by` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenant`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `uq_template_variant` ON `template` (`tenant_id`,`code`,`channel`,`locale`);--> statement-breakpoint
CREATE INDEX `idx_template_tenant_channel_type` ON `template` (`tenant_id`,`channel`,`type`);--> statement-breakpoint
CREATE TABLE `template_version` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`template_id` text NOT NULL,
	`version` integer NOT NULL,
	`subject_template` text,
	`body_template` text,
	`html_template` text,
	`text_template` text,
	`created_by` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`template_id`) REFERENCES `template`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `uq_template_version` ON `template_version` (`template_id`,`version`);--> statement-breakpoint
ALTER TABLE `communication` ADD `text_content` text;--> statement-breakpoint
ALTER TABLE `communication` ADD `template_version` integer;--> statement-breakpoint
ALTER TABLE `communication` ADD `locale` text;