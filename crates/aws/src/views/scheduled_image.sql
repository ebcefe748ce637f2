-- aws_ecs_scheduled_image: the containers' images of every task definition
-- revision an EventBridge rule or an EventBridge Scheduler schedule launches
-- (aws_ecs_scheduled_task; a disabled one included: enabling it runs the
-- revision again). image_in_use reads it when ecs_schedules is checked.
WITH scheduled_container AS (
    SELECT s.account_id, s.region, coalesce(s.arn, s.source || '/' || s.name) AS used_by,
           unnest(td.container_definitions) AS c
    FROM aws_ecs_scheduled_task s
    JOIN aws_ecs_task_definition td ON td.task_definition_arn = s.task_definition_arn
)
SELECT account_id, region, used_by, c['image'] AS image
FROM scheduled_container
WHERE c['image'] IS NOT NULL
