-- @name: ecr-cleanup
-- @description: ECR images built from commits older than $max_age_days days, and untagged images older than $untagged_max_age_days days, that nothing in any account or region uses or pulled within $pulled_within_days days
-- @action: delete_ecr_images
-- @max_deletes: 500
-- @param max_age_days: 30
-- @param untagged_max_age_days: 14
-- @param pulled_within_days: 14
--
-- How it decides, per image of a mapped repository:
--   * its tags are git commit SHAs (short or full) of the mapped GitHub
--     repository; the image is old when its newest such commit is older than
--     $max_age_days (an image none of whose tags is a known commit is kept);
--   * an untagged image is old when it was pushed more than
--     $untagged_max_age_days ago;
--   * an image is in use when image_in_use (ECS services, task sets and
--     unstopped tasks, Lambda functions and the versions their aliases route
--     to, ACTIVE Batch job definitions, and App Runner services and Kubernetes
--     pods when [in_use] lists them; any account or region) references it by
--     digest or by one of its tags: those are never selected, and the sink's
--     own check re-reads the same view, fresh, before acting;
--   * an image pulled within $pulled_within_days days is kept: the safety net
--     for users no API shows (a laptop, another cloud, a CI job). ECR updates
--     last_recorded_pull_time about once a day, so keep this above 1;
--   * signatures, attestations and SBOMs follow their image: an artifact
--     tagged by cosign's convention (sha256-<digest>.sig, .att, .sbom) or
--     whose OCI subject names an image (subject_digest) goes only with the
--     image it belongs to, and an artifact kept for its own sake (pulled
--     recently, in use) keeps that image too, since whoever verifies the
--     signature still deploys the image. Other artifacts (neither images,
--     nor cosign-tagged, nor with a subject) are never selected. The sink's
--     check also deletes the referrers of every image it deletes (a
--     signature of an SBOM, say), so none is left behind.
--
-- Which GitHub repository an ECR repository is built from, without editing
-- this file: tag the ECR repository github_repository=acme/web, or map it in
-- skyglue.toml: [github] repositories = { web = "acme/web" } (the config wins
-- when both name one). An ECR repository mapped by neither is not touched.
WITH repo_map AS (
    SELECT repository_name, github_repository AS github_repo FROM github_repository_map
    UNION
    SELECT r.repository_name, r.tags['github_repository'] AS github_repo
    FROM aws_ecr_repository r
    WHERE r.tags['github_repository'] IS NOT NULL
      AND r.repository_name NOT IN (SELECT repository_name FROM github_repository_map)
),
image AS (
    -- ACTIVE images only: an archived one is out of the way already (see
    -- ecr_delete_archived.sql), and one being restored is wanted again
    SELECT i.*, m.github_repo
    FROM aws_ecr_image i
    JOIN repo_map m ON m.repository_name = i.repository_name
    WHERE i.image_status = 'ACTIVE'
),
image_tag AS (
    -- one row per tag of each image (an untagged image: one row, tag NULL);
    -- every row carries the digest, so a reference by digest finds the
    -- image through any of them. The image's tag list and count are worked
    -- out here, once per image.
    SELECT account_id, region, registry_id, repository_name, image_digest,
           image_pushed_at, image_size_in_bytes, last_recorded_pull_time, artifact_media_type,
           subject_digest AS oci_subject, github_repo,
           coalesce(array_to_string(array_sort(image_tags), ' '), '') AS tag_list,
           coalesce(cardinality(image_tags), 0) AS tags,
           unnest(CASE WHEN cardinality(image_tags) > 0 THEN image_tags
                       ELSE array_append(image_tags, NULL) END) AS tag
    FROM image
),
tag_commit AS (
    -- the commit each distinct tag names: GitHub is asked once per
    -- (repository, tag), not once per image carrying it (skyglue reads the
    -- images once for both uses of image_tag). short_sha is an equi-join
    -- key, so only these commits are fetched; starts_with checks the whole
    -- tag, short (abc1234) or full (40 hex)
    SELECT k.github_repo, k.tag, c.sha, c.committed_date
    FROM (SELECT DISTINCT github_repo, tag FROM image_tag WHERE tag IS NOT NULL) k
    JOIN github_commit c
      ON c.repository_full_name = k.github_repo
     AND c.short_sha = left(k.tag, 7)
     AND starts_with(c.sha, k.tag)
),
judged AS (
    SELECT t.account_id, t.region, t.registry_id, t.repository_name, t.image_digest,
           t.image_pushed_at, t.image_size_in_bytes, t.last_recorded_pull_time,
           t.artifact_media_type,
           t.github_repo, t.tags, t.tag_list,
           -- the image an artifact belongs to: its OCI subject, else what
           -- cosign's tags name (sha256-<hex>.sig)
           coalesce(t.oci_subject,
                    max(CASE WHEN t.tag LIKE 'sha256-%'
                              AND (t.tag LIKE '%.sig' OR t.tag LIKE '%.att' OR t.tag LIKE '%.sbom')
                             THEN 'sha256:' || substr(t.tag, 8, 64) END)) AS subject_digest,
           max(c.committed_date) AS newest_commit,
           count(c.sha) AS commits,
           count(u.used_by) AS uses,
           -- (not count(DISTINCT): this form aggregates without a set per image)
           cardinality(array_distinct(array_agg(u.used_by) FILTER (WHERE u.used_by IS NOT NULL))) AS users,
           -- one user, for people: "service prod/web (us-east-1)", with its
           -- account when it is another, and "by digest" for a pinned digest
           min(CASE WHEN u.used_by IS NOT NULL THEN concat(replace(u.source, 'ecs_', ''), ' ',
                      coalesce(arn_parts(u.used_by)['resource'], u.used_by),
                      CASE WHEN u.account_id <> t.account_id THEN concat(' in account ', u.account_id) END,
                      CASE WHEN u.region IS NOT NULL THEN concat(' (', u.region, ')') END,
                      CASE WHEN u.tag IS NULL THEN ', by digest' END) END) AS used_by
    -- in use: a reference to this registry, region and repository, by this
    -- image's digest or by one of its tags. The few references are the
    -- join's first side, the one it holds in memory; RIGHT JOIN keeps every
    -- image row, as a LEFT JOIN from the images would.
    FROM image_in_use u
    RIGHT JOIN (
        image_tag t
        LEFT JOIN tag_commit c ON c.github_repo = t.github_repo AND c.tag = t.tag
    )
      ON u.registry_id = t.registry_id
     AND u.image_region = t.region
     AND u.repository_name = t.repository_name
     AND (u.digest = t.image_digest OR u.tag = t.tag)
    GROUP BY t.account_id, t.region, t.registry_id, t.repository_name, t.image_digest,
             t.image_pushed_at, t.image_size_in_bytes, t.last_recorded_pull_time,
             t.artifact_media_type, t.oci_subject, t.github_repo, t.tags, t.tag_list
),
aged AS (
    SELECT *,
           -- kept for its own sake: in use, or pulled recently
           coalesce(uses > 0 OR last_recorded_pull_time >= days_ago($pulled_within_days), false) AS kept,
           coalesce(
               ((commits > 0 AND newest_commit < days_ago($max_age_days))
                OR (tags = 0 AND image_pushed_at < days_ago($untagged_max_age_days)))
               -- images and image indexes only: other artifacts are kept (see above)
               AND (artifact_media_type IS NULL
                    OR artifact_media_type IN ('application/vnd.docker.container.image.v1+json',
                                               'application/vnd.oci.image.config.v1+json')),
               false) AS old
    FROM judged
),
family AS (
    -- an image and the cosign artifacts that name it are one family: one
    -- member kept keeps them all, and the artifacts go when the image does
    SELECT *,
           bool_or(kept) OVER (PARTITION BY account_id, region, repository_name,
                                            coalesce(subject_digest, image_digest)) AS family_kept,
           bool_or(subject_digest IS NULL AND old) OVER (PARTITION BY account_id, region, repository_name,
                                            coalesce(subject_digest, image_digest)) AS image_old
    FROM aged
)
-- Every image of a mapped repository: the ones to delete with keep_reason
-- NULL, the others with why they stay (the runner never acts on a row with
-- a keep_reason, and the text report lists them under the targets).
SELECT account_id, region, registry_id, repository_name, image_digest,
       tag_list AS tags, image_pushed_at, newest_commit, image_size_in_bytes,
       CASE
           WHEN NOT family_kept AND image_old AND (old OR subject_digest IS NOT NULL) THEN NULL
           -- the reason is only words: it can never turn a kept image into a target
           ELSE coalesce(CASE
               WHEN uses > 0 THEN concat('in use by ', used_by,
                    CASE WHEN users > 1 THEN concat(' and ', users - 1, ' more') END)
               WHEN last_recorded_pull_time >= days_ago($pulled_within_days)
                   THEN concat('pulled ', days_since(last_recorded_pull_time),
                               CASE days_since(last_recorded_pull_time) WHEN 1 THEN ' day ago' ELSE ' days ago' END)
               WHEN subject_digest IS NOT NULL AND family_kept
                   THEN concat('its image ', substr(subject_digest, 8, 12), ' is kept')
               WHEN family_kept THEN 'its signature or attestation is kept'
               WHEN subject_digest IS NOT NULL
                   THEN concat('its image ', substr(subject_digest, 8, 12), ' is not old')
               WHEN commits > 0 THEN concat('recent commit (', days_since(newest_commit),
                                             CASE days_since(newest_commit) WHEN 1 THEN ' day)' ELSE ' days)' END)
               WHEN tags > 0 THEN concat('no tag is a commit of ', github_repo)
               WHEN image_pushed_at >= days_ago($untagged_max_age_days)
                   THEN concat('untagged, pushed ', days_since(image_pushed_at),
                               CASE days_since(image_pushed_at) WHEN 1 THEN ' day ago' ELSE ' days ago' END)
               WHEN artifact_media_type IS NOT NULL THEN concat('not an image (', artifact_media_type, ')')
           END, 'kept by the policy')
       END AS keep_reason
FROM family
-- (the digest breaks ties: images pushed in the same second list in one order)
ORDER BY repository_name, image_pushed_at, image_digest
