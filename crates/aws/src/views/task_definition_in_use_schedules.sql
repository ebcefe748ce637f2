-- With ecs_schedules in [in_use] sources: every revision an EventBridge rule
-- or an EventBridge Scheduler schedule launches (a family alone: its latest
-- ACTIVE revision), enabled or not.
SELECT account_id, region, coalesce(arn, source || '/' || name) AS used_by, 'ecs_schedule' AS kind,
       task_definition_arn
FROM aws_ecs_scheduled_task
WHERE task_definition_arn IS NOT NULL
