-- ECS schedules: the images of every task definition revision an
-- EventBridge rule or an EventBridge Scheduler schedule launches
-- (aws_ecs_scheduled_image).
SELECT account_id, region, used_by, 'ecs_schedule' AS kind, image,
       CAST(NULL AS VARCHAR) AS running_digest, 'ecs_schedule' AS source
FROM aws_ecs_scheduled_image
