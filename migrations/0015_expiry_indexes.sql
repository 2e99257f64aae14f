CREATE INDEX `idx_audit_created` ON `audit_log` (`created_at`);--> statement-breakpoint
CREATE INDEX `idx_campaign_chunk_created` ON `campaign_chunk` (`created_at`);