-- @name: ecr-delete-archived
-- @description: ECR images archived at least $archived_days days ago that nothing in any account or region uses
-- @action: delete_ecr_images
-- @max_deletes: 500
-- @param archived_days: 90
--
-- The second step of "archive first" (ecr_archive.sql archives): delete the
-- images that have stayed in ECR's archive storage class for at least
-- $archived_days days. The default, 90, is ECR's minimum archive charge:
-- an image deleted sooner is billed for 90 days anyway. An image restored
-- in the meantime is ACTIVE again and is not selected; an archived image
-- that something references (image_in_use: ECS, Lambda, Batch, ... by
-- digest or by one of its tags) is kept, and the sink's own check re-reads
-- the same view, fresh, before deleting.
WITH archived AS (
    SELECT account_id, region, registry_id, repository_name, image_digest, image_tags,
           last_archived_at, image_size_in_bytes
    FROM aws_ecr_image
    WHERE image_status = 'ARCHIVED'
      AND last_archived_at <= days_ago($archived_days)
),
used AS (
    SELECT a.account_id, a.region, a.repository_name, a.image_digest,
           min(concat(u.used_by, ' (', u.source, ')')) AS used_by
    FROM archived a
    JOIN image_in_use u
      ON u.registry_id = a.registry_id
     AND u.image_region = a.region
     AND u.repository_name = a.repository_name
     AND (u.digest = a.image_digest OR array_has(a.image_tags, u.tag))
    GROUP BY a.account_id, a.region, a.repository_name, a.image_digest
)
SELECT a.account_id, a.region, a.registry_id, a.repository_name, a.image_digest,
       coalesce(array_to_string(array_sort(a.image_tags), ' '), '') AS tags,
       a.last_archived_at, a.image_size_in_bytes,
       CASE WHEN u.used_by IS NOT NULL THEN concat('in use by ', u.used_by) END AS keep_reason
FROM archived a
LEFT JOIN used u
  ON u.account_id = a.account_id
 AND u.region = a.region
 AND u.repository_name = a.repository_name
 AND u.image_digest = a.image_digest
ORDER BY a.repository_name, a.last_archived_at, a.image_digest
