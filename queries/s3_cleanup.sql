-- @name: s3-cleanup
-- @description: Objects under $prefix in bucket $bucket older than $max_age_days days, except the newest $keep_per_prefix builds of each sub-prefix (branch)
-- @action: delete_s3_objects
-- @max_deletes: 5000
-- @param bucket: acme-ci-artifacts
-- @param prefix: builds/
-- @param max_age_days: 30
-- @param keep_per_prefix: 10
--
-- How it decides, for a bucket of CI artifacts laid out as
-- <prefix><branch>/<build>/<files>, e.g. builds/main/1234/app.tar.gz:
--   * only keys under $prefix are listed (the prefix is pushed into
--     ListObjectsV2, so the rest of the bucket is never read);
--   * objects are grouped by branch (the first segment after $prefix) and by
--     build (the second; an object directly under a branch is its own build);
--     a build is as old as its newest object;
--   * the newest $keep_per_prefix builds of every branch are always kept,
--     however old: a branch nobody pushed to for months keeps its last builds;
--   * the other builds go once they are older than $max_age_days.
-- The rows carry each object's etag: the sink re-reads every object just
-- before deleting it and skips one overwritten since it was selected. On a
-- versioned bucket a delete only adds a delete marker (reported so, with no
-- bytes reclaimed); add a lifecycle rule for noncurrent versions, or select
-- version_id from aws_s3_object_version to delete versions themselves.
--
-- Adapt it with --param bucket=... --param prefix=... (no SQL editing).
WITH object AS (
    SELECT account_id, bucket_name, key, etag, size, last_modified,
           substr(key, char_length($prefix) + 1) AS rest
    FROM aws_s3_object
    WHERE bucket_name = $bucket AND prefix = $prefix
),
build AS (
    SELECT *,
           split_part(rest, '/', 1) AS branch,
           CASE WHEN strpos(rest, '/') > 0 THEN split_part(rest, '/', 2) ELSE rest END AS build
    FROM object
),
dated AS (
    -- a build is as old as its newest object
    SELECT *, max(last_modified) OVER (PARTITION BY branch, build) AS built_at
    FROM build
),
ranked AS (
    -- 1 for the newest build of each branch
    SELECT *, dense_rank() OVER (PARTITION BY branch ORDER BY built_at DESC, build DESC) AS newest
    FROM dated
)
-- Every object under the prefix: the ones to delete with keep_reason NULL,
-- the others with why they stay (the runner never acts on a row with a
-- keep_reason; the text report lists them under the targets).
SELECT account_id, bucket_name, key, etag, size, last_modified, branch, build, newest,
       CASE
           WHEN newest > $keep_per_prefix AND built_at < days_ago($max_age_days) THEN NULL
           WHEN newest > $keep_per_prefix THEN concat('built ', days_since(built_at), ' days ago')
           ELSE concat('among the newest builds of ', branch, ' (#', newest, ')')
       END AS keep_reason
FROM ranked
ORDER BY branch, last_modified
