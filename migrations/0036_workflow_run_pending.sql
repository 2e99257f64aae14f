-- Runs are stored `pending` until their Workflows instance runs its first step; instances past the
-- first chunk of a trigger are created from the campaigns queue, and the cron finds pending runs
-- whose instance was never created through this partial index (status is free text: no rebuild).
CREATE INDEX `idx_workflow_run_pending` ON `workflow_run` (`updated_at`) WHERE "workflow_run"."status" = 'pending';
