ALTER TABLE `tenant` ADD `settings` text;--> statement-breakpoint
ALTER TABLE `communication` ADD `open_count` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `communication` ADD `click_count` integer DEFAULT 0 NOT NULL;