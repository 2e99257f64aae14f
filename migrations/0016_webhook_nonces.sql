CREATE TABLE `webhook_nonce` (
	`scope` text NOT NULL,
	`nonce` text NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`scope`, `nonce`)
);
--> statement-breakpoint
CREATE INDEX `idx_webhook_nonce_expires` ON `webhook_nonce` (`expires_at`);