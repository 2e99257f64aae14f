-- Chat channels (Slack, Microsoft Teams, Discord, Telegram): a recipient's switch and preferred
-- address on each, beside the other channels' (NULL: the tenant's default / none).
ALTER TABLE `recipient_preference` ADD `slack_enabled` integer;
ALTER TABLE `recipient_preference` ADD `teams_enabled` integer;
ALTER TABLE `recipient_preference` ADD `discord_enabled` integer;
ALTER TABLE `recipient_preference` ADD `telegram_enabled` integer;
ALTER TABLE `recipient_preference` ADD `preferred_slack` text;
ALTER TABLE `recipient_preference` ADD `preferred_teams` text;
ALTER TABLE `recipient_preference` ADD `preferred_discord` text;
ALTER TABLE `recipient_preference` ADD `preferred_telegram` text;
