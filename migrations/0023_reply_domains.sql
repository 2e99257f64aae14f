-- A tenant's reply domain (settings.conversations.replyDomain) routes the mail the Email Worker receives for it
-- (src/channels/email/inbound-worker.ts): one tenant per domain, found by this index.
CREATE UNIQUE INDEX `tenant_reply_domain` ON `tenant` (json_extract(`settings`, '$.conversations.replyDomain')) WHERE json_extract(`settings`, '$.conversations.replyDomain') IS NOT NULL;
