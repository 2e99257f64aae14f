-- Why a workflow run was cancelled: by its cancellation key, or by id with the caller's reason (src/workflows/runs.ts).
ALTER TABLE `workflow_run` ADD `cancel_reason` text;
