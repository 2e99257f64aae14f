-- The events sweep (src/pipeline/events-sweep.ts) re-enqueues what herald-events lost: media jobs
-- of inbound messages whose media are still pending, and tenant-webhook deliveries still pending.
-- media_swept_at: when the sweep last queued a job for the message, so it queues one per wait.
ALTER TABLE `conversation_message` ADD `media_swept_at` integer;--> statement-breakpoint
-- Only messages with a medium still pending are in it (JSON.stringify writes the flag as
-- `"pending":true`); the sweep's query repeats this WHERE exactly, so SQLite can use the index.
CREATE INDEX `idx_conversation_message_media_pending` ON `conversation_message` (`created_at`) WHERE instr("conversation_message"."media", '"pending":true') > 0;--> statement-breakpoint
-- Pending deliveries by their last change, across tenants (status is free text: no rebuild).
CREATE INDEX `idx_webhook_delivery_pending` ON `webhook_delivery` (`updated_at`) WHERE "webhook_delivery"."status" = 'pending';
