-- @name: ecs-task-definition-cleanup
-- @description: INACTIVE task definition revisions, and ACTIVE ones beyond the newest $keep_active per family, that nothing runs
-- @action: delete_ecs_task_definitions
-- @max_deletes: 500
-- @param keep_active: 5 (min 1)
--
-- Selected: every INACTIVE revision, and each ACTIVE revision older than the
-- newest $keep_active of its family (per account and region), unless
-- aws_ecs_task_definition_in_use lists it (any service deployment, during a
-- rollout too, any task set of a blue/green service, or an unstopped task).
-- The sink's own check re-reads the same view, fresh, before acting. ACTIVE
-- revisions are deregistered before they are deleted.
--
-- Adapt it: change keep_active, or add `AND family IN (...)` to limit it.
WITH ranked AS (
    SELECT account_id, region, task_definition_arn, family, revision, status,
           row_number() OVER (PARTITION BY account_id, region, family, status
                              ORDER BY revision DESC) AS newest_rank
    FROM aws_ecs_task_definition
)
SELECT r.account_id, r.region, r.task_definition_arn, r.family, r.revision, r.status
FROM ranked r
WHERE (r.status = 'INACTIVE' OR (r.status = 'ACTIVE' AND r.newest_rank > $keep_active))
  AND r.task_definition_arn NOT IN (
      SELECT task_definition_arn FROM aws_ecs_task_definition_in_use
      WHERE task_definition_arn IS NOT NULL)
ORDER BY r.account_id, r.region, r.family, r.revision
