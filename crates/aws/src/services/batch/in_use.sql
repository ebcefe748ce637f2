-- Batch: every container image of every ACTIVE job definition revision (a job
-- can be submitted against any of them).
SELECT account_id, region, job_definition_arn AS used_by, 'batch_job_definition' AS kind,
       unnest(images) AS image, CAST(NULL AS VARCHAR) AS running_digest, 'batch' AS source
FROM aws_batch_job_definition
WHERE status = 'ACTIVE'
