-- image_in_use: one row per image reference that anything checked uses, with
-- the source that uses it (ecs_service, ecs_task, lambda, batch, apprunner,
-- kubernetes). The sources are the ones [in_use] sources lists (default: ecs,
-- lambda, batch, and kubernetes when [[kubernetes]] is configured); each is a
-- file under views/in_use/, and this query unions them.
--
-- account_id and region are those of the user; the image's own registry,
-- region, repository, tag and digest come from image_ref(). The digest is the
-- reference's own, else the one the user is known to run.
SELECT account_id, region, used_by, kind, image,
       image_ref(image)['registry_id'] AS registry_id,
       image_ref(image)['region'] AS image_region,
       image_ref(image)['repository_name'] AS repository_name,
       image_ref(image)['tag'] AS tag,
       coalesce(image_ref(image)['digest'], running_digest) AS digest,
       source
FROM (
{sources}
) used
WHERE image IS NOT NULL
