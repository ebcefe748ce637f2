-- ECS: every service deployment and task set, and every task not yet STOPPED
-- (aws_ecs_image_in_use; its digest is the one a task actually runs).
SELECT account_id, region, used_by, kind, image, digest AS running_digest,
       CASE WHEN kind = 'task' THEN 'ecs_task' ELSE 'ecs_service' END AS source
FROM aws_ecs_image_in_use
