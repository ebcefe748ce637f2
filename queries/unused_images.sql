-- Images older than 30 days that nothing in ECS uses, in any account or region.
--
-- An image is in use when aws_ecs_image_in_use (any service deployment, task
-- set or unstopped task, in any connection, cross-account and cross-region
-- pulls included) references it by digest or by one of its tags. Run it with:
--
--   skyglue query "$(cat queries/unused_images.sql)"
WITH image_key AS (
    -- one row per tag of each old image, plus one (tag NULL) for its digest
    SELECT account_id, region, registry_id, repository_name, image_digest,
           image_tags, image_pushed_at, image_size_in_bytes,
           unnest(array_append(image_tags, NULL)) AS tag
    FROM aws_ecr_image
    WHERE image_pushed_at < days_ago(30)
)
SELECT k.account_id, k.region, k.registry_id, k.repository_name, k.image_digest,
       first_value(k.image_tags) AS image_tags,
       k.image_pushed_at, k.image_size_in_bytes
FROM image_key k
LEFT JOIN aws_ecs_image_in_use u
  ON u.registry_id = k.registry_id
 AND u.image_region = k.region
 AND u.repository_name = k.repository_name
 AND (u.digest = k.image_digest OR u.tag = k.tag)
GROUP BY k.account_id, k.region, k.registry_id, k.repository_name, k.image_digest,
         k.image_pushed_at, k.image_size_in_bytes
HAVING count(u.used_by) = 0
ORDER BY k.repository_name, k.image_pushed_at
