-- aws_ecs_image_in_use: one row per image reference that something in ECS uses.
--
-- * every deployment of every service (during a rollout both the old and the
--   new task definition are in use; a service scaled to zero still counts);
-- * every task that is not yet STOPPED, with the digest it actually runs.
--
-- account_id and region are those of the user (the service or task); the
-- image's own registry account and region come from image_ref().
WITH service_deployment AS (
    SELECT s.account_id, s.region, s.arn AS used_by, unnest(s.deployments) AS d
    FROM aws_ecs_service s
),
service_container AS (
    SELECT sd.account_id, sd.region, sd.used_by, unnest(td.container_definitions) AS c
    FROM service_deployment sd
    JOIN aws_ecs_task_definition td ON td.task_definition_arn = sd.d['task_definition']
),
task_container AS (
    SELECT t.account_id, t.region, t.task_arn AS used_by, unnest(t.containers) AS c
    FROM aws_ecs_task t
    WHERE t.last_status <> 'STOPPED'
),
reference AS (
    SELECT account_id, region, used_by, 'service_deployment' AS kind,
           c['image'] AS image, CAST(NULL AS VARCHAR) AS running_digest
    FROM service_container
    UNION ALL
    SELECT account_id, region, used_by, 'task' AS kind,
           c['image'] AS image, c['image_digest'] AS running_digest
    FROM task_container
)
SELECT account_id, region, used_by, kind, image,
       image_ref(image)['registry_id'] AS registry_id,
       image_ref(image)['region'] AS image_region,
       image_ref(image)['repository_name'] AS repository_name,
       image_ref(image)['tag'] AS tag,
       coalesce(image_ref(image)['digest'], running_digest) AS digest
FROM reference
WHERE image IS NOT NULL
