-- App Runner: the image of every service built from an image repository
-- (a paused service still counts: resuming it pulls the image again).
SELECT account_id, region, service_arn AS used_by, 'apprunner_service' AS kind, image,
       CAST(NULL AS VARCHAR) AS running_digest, 'apprunner' AS source
FROM aws_apprunner_service
WHERE image IS NOT NULL
