ALTER TABLE `tenant` ADD `config_version` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Every write to a tenant's control plane moves tenant.config_version in the same transaction,
-- whichever code path makes it: isolates compare it with the version their cached snapshot was
-- read at (src/cache/tenant-config.ts). Column lists leave out what the delivery path writes
-- (breaker streaks, lastUsedAt), so sending never invalidates the caches. drizzle-kit does not
-- track triggers: a migration that rebuilds one of these tables must create its triggers again.
CREATE TRIGGER `tenant_config_settings` AFTER UPDATE OF `settings`, `name` ON `tenant`
BEGIN UPDATE `tenant` SET `config_version` = `config_version` + 1 WHERE `id` = NEW.`id`; END;--> statement-breakpoint
CREATE TRIGGER `tenant_config_provider_insert` AFTER INSERT ON `provider_config`
BEGIN UPDATE `tenant` SET `config_version` = `config_version` + 1 WHERE `id` = NEW.`tenant_id`; END;--> statement-breakpoint
CREATE TRIGGER `tenant_config_provider_update` AFTER UPDATE OF `channel`, `provider`, `priority`, `credentials`, `settings`, `enabled`, `updated_at` ON `provider_config`
BEGIN UPDATE `tenant` SET `config_version` = `config_version` + 1 WHERE `id` = NEW.`tenant_id`; END;--> statement-breakpoint
CREATE TRIGGER `tenant_config_provider_delete` AFTER DELETE ON `provider_config`
BEGIN UPDATE `tenant` SET `config_version` = `config_version` + 1 WHERE `id` = OLD.`tenant_id`; END;--> statement-breakpoint
CREATE TRIGGER `tenant_config_template_insert` AFTER INSERT ON `template`
BEGIN UPDATE `tenant` SET `config_version` = `config_version` + 1 WHERE `id` = NEW.`tenant_id`; END;--> statement-breakpoint
CREATE TRIGGER `tenant_config_template_update` AFTER UPDATE ON `template`
BEGIN UPDATE `tenant` SET `config_version` = `config_version` + 1 WHERE `id` = NEW.`tenant_id`; END;--> statement-breakpoint
CREATE TRIGGER `tenant_config_template_delete` AFTER DELETE ON `template`
BEGIN UPDATE `tenant` SET `config_version` = `config_version` + 1 WHERE `id` = OLD.`tenant_id`; END;--> statement-breakpoint
CREATE TRIGGER `tenant_config_version_insert` AFTER INSERT ON `template_version`
BEGIN UPDATE `tenant` SET `config_version` = `config_version` + 1 WHERE `id` = NEW.`tenant_id`; END;--> statement-breakpoint
CREATE TRIGGER `tenant_config_endpoint_insert` AFTER INSERT ON `webhook_endpoint`
BEGIN UPDATE `tenant` SET `config_version` = `config_version` + 1 WHERE `id` = NEW.`tenant_id`; END;--> statement-breakpoint
CREATE TRIGGER `tenant_config_endpoint_update` AFTER UPDATE ON `webhook_endpoint`
BEGIN UPDATE `tenant` SET `config_version` = `config_version` + 1 WHERE `id` = NEW.`tenant_id`; END;--> statement-breakpoint
CREATE TRIGGER `tenant_config_endpoint_delete` AFTER DELETE ON `webhook_endpoint`
BEGIN UPDATE `tenant` SET `config_version` = `config_version` + 1 WHERE `id` = OLD.`tenant_id`; END;--> statement-breakpoint
CREATE TRIGGER `tenant_config_key_update` AFTER UPDATE OF `revoked_at`, `expires_at`, `scopes` ON `api_key`
BEGIN UPDATE `tenant` SET `config_version` = `config_version` + 1 WHERE `id` = NEW.`tenant_id`; END;--> statement-breakpoint
CREATE TRIGGER `tenant_config_key_delete` AFTER DELETE ON `api_key`
BEGIN UPDATE `tenant` SET `config_version` = `config_version` + 1 WHERE `id` = OLD.`tenant_id`; END;
