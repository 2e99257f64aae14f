-- Tenant webhook payloads under erasure and retention (src/db/webhook-privacy.ts).
-- subject_id names what a delivery's payload is about: the communication of a status or
-- inbox.action event, the conversation of a message.received event. Erasure finds a recipient's
-- deliveries by it without reading payload JSON.
ALTER TABLE `webhook_delivery` ADD `subject_id` text;
--> statement-breakpoint
-- 'erased' or 'expired' once the payload has been replaced by a stub; such a delivery is never
-- sent again.
ALTER TABLE `webhook_delivery` ADD `redacted` text;
--> statement-breakpoint
UPDATE `webhook_delivery` SET `subject_id` = CASE
  WHEN `event_type` = 'message.received' THEN json_extract(`payload`, '$.data.conversationId')
  WHEN `event_type` = 'inbox.action' THEN json_extract(`payload`, '$.data.communicationId')
  ELSE json_extract(`payload`, '$.data.id') END
WHERE json_valid(`payload`);
--> statement-breakpoint
CREATE INDEX `idx_webhook_delivery_subject` ON `webhook_delivery` (`tenant_id`,`subject_id`);
--> statement-breakpoint
-- The retention pass finds a tenant's old deliveries by creation time.
CREATE INDEX `idx_webhook_delivery_tenant_created` ON `webhook_delivery` (`tenant_id`,`created_at`);
