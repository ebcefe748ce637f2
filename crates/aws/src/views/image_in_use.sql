-- aws_ecs_image_in_use: one row per image reference that something in ECS uses.
--
-- * the containers of every task definition revision a service uses
--   (aws_ecs_task_definition_in_use: every deployment, old and new during a
--   rollout, services scaled to zero, and the task sets of CODE_DEPLOY and
--   EXTERNAL services);
-- * every task that is not yet STOPPED, with the digest it actually runs.
--
-- account_id and region are those of the user (the service or task); the
-- image's own registry account and region come from image_ref().
WITH service_container AS (
    SELECT u.account_id, u.region, u.used_by, unnest(td.container_definitions) AS c
    FROM aws_ecs_task_definition_in_use u
    JOIN aws_ecs_task_definition td ON td.task_definition_arn = u.task_definition_arn
    WHERE u.kind IN ('service_deployment', 'service_task_set')
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
