ALTER TABLE `digest` ADD `error` text;--> statement-breakpoint
ALTER TABLE `reminder_sequence` ADD `last_error` text;