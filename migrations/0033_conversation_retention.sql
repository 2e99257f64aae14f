-- The retention pass finds a tenant's old conversation messages by creation time (src/db/conversation-privacy.ts).
CREATE INDEX `idx_conversation_message_tenant_created` ON `conversation_message` (`tenant_id`,`created_at`);
