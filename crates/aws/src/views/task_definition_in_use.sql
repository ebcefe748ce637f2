-- aws_ecs_task_definition_in_use: one row per task definition revision that
-- something in ECS uses. The delete sinks' checks and the shipped policies
-- read this view; "in use" is defined here and nowhere else.
--
-- * every deployment of every service (during a rollout both the old and the
--   new revision are in use; a service scaled to zero still counts);
-- * every task set of a service on the CODE_DEPLOY or EXTERNAL deployment
--   controller (blue/green keeps its revisions there, not in deployments);
-- * every task that is not yet STOPPED;
-- * with ecs_schedules in [in_use] sources, every revision an EventBridge rule
--   or Scheduler schedule launches (task_definition_in_use_schedules.sql,
--   appended to this query).
--
-- account_id and region are those of the user (the service or task), which
-- are also the revision's own: ECS runs task definitions of its own account
-- and region only.
WITH service_revision AS (
    -- one scan of the services: each deployment beside each task set
    SELECT account_id, region, arn AS used_by,
           unnest(deployments) AS deployment, unnest(task_sets) AS task_set
    FROM aws_ecs_service
),
service_use AS (
    -- both kinds of use as rows, still from that one scan
    SELECT account_id, region, used_by,
           unnest(make_array(
               named_struct('kind', 'service_deployment', 'arn', deployment['task_definition']),
               named_struct('kind', 'service_task_set', 'arn', task_set['task_definition'])
           )) AS use
    FROM service_revision
)
SELECT account_id, region, used_by, use['kind'] AS kind, use['arn'] AS task_definition_arn
FROM service_use
WHERE use['arn'] IS NOT NULL
UNION ALL
SELECT account_id, region, task_arn AS used_by, 'task' AS kind, task_definition_arn
FROM aws_ecs_task
WHERE last_status <> 'STOPPED'
