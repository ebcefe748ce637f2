-- @name: ecr-cleanup
-- @description: ECR images built from commits older than $max_age_days days, and untagged images older than $untagged_max_age_days days, that nothing in any account or region uses
-- @action: delete_ecr_images
-- @max_deletes: 500
-- @param max_age_days: 30
-- @param untagged_max_age_days: 14
--
-- How it decides, per image of a mapped repository:
--   * its tags are git commit SHAs (short or full) of the mapped GitHub
--     repository; the image is old when its newest such commit is older than
--     $max_age_days (an image none of whose tags is a known commit is kept);
--   * an untagged image is old when it was pushed more than
--     $untagged_max_age_days ago;
--   * an image is in use when aws_ecs_image_in_use (any ECS service
--     deployment, task set or unstopped task, in any account or region)
--     references it by digest or by one of its tags: those are never selected,
--     and the sink's own check re-reads the same view, fresh, before acting.
--
-- Adapt it: list your ECR repositories and the GitHub repositories they are
-- built from in repo_map below.
WITH repo_map(repository_name, github_repo) AS (
    VALUES ('web', 'acme/web')
),
image_tag AS (
    -- one row per tag of each image, plus one with tag NULL for its digest
    SELECT i.account_id, i.region, i.registry_id, i.repository_name, i.image_digest,
           i.image_pushed_at, i.image_size_in_bytes, m.github_repo,
           unnest(array_append(i.image_tags, NULL)) AS tag
    FROM aws_ecr_image i
    JOIN repo_map m ON m.repository_name = i.repository_name
),
judged AS (
    SELECT t.account_id, t.region, t.registry_id, t.repository_name, t.image_digest,
           t.image_pushed_at, t.image_size_in_bytes,
           count(t.tag) AS tags,
           max(c.committed_date) AS newest_commit,
           count(c.sha) AS commits,
           count(u.used_by) AS uses
    FROM image_tag t
    LEFT JOIN github_commit c
      -- short_sha is an equi-join key (so only these commits are fetched);
      -- starts_with checks the whole tag, short (abc1234) or full (40 hex)
      ON c.repository_full_name = t.github_repo
     AND c.short_sha = left(t.tag, 7)
     AND starts_with(c.sha, t.tag)
    LEFT JOIN aws_ecs_image_in_use u
      -- in use: a reference to this registry, region and repository, by
      -- this image's digest or by one of its tags
      ON u.registry_id = t.registry_id
     AND u.image_region = t.region
     AND u.repository_name = t.repository_name
     AND (u.digest = t.image_digest OR u.tag = t.tag)
    GROUP BY t.account_id, t.region, t.registry_id, t.repository_name, t.image_digest,
             t.image_pushed_at, t.image_size_in_bytes
)
SELECT account_id, region, registry_id, repository_name, image_digest,
       image_pushed_at, image_size_in_bytes, newest_commit
FROM judged
WHERE uses = 0
  AND ((commits > 0 AND newest_commit < days_ago($max_age_days))
       OR (tags = 0 AND image_pushed_at < days_ago($untagged_max_age_days)))
ORDER BY repository_name, image_pushed_at
