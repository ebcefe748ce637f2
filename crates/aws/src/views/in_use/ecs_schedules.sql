-- ECS schedules: the containers of every task definition revision an
-- EventBridge rule or an EventBridge Scheduler schedule launches (a disabled
-- one included: enabling it runs the revision again).
SELECT account_id, region, used_by, 'ecs_schedule' AS kind, c['image'] AS image,
       CAST(NULL AS VARCHAR) AS running_digest, 'ecs_schedule' AS source
FROM (
    SELECT s.account_id AS account_id, s.region AS region,
           coalesce(s.arn, s.source || '/' || s.name) AS used_by,
           unnest(td.container_definitions) AS c
    FROM aws_ecs_scheduled_task s
    JOIN aws_ecs_task_definition td ON td.task_definition_arn = s.task_definition_arn
) scheduled
