-- Kubernetes: every container (init containers included) of every pod in the
-- configured contexts, with the digest the node resolved (imageID) when it
-- names one: a pod that pulled `web:latest` keeps exactly the image it runs.
-- A cluster is not an AWS account: account_id and region are NULL and
-- used_by is context/namespace/pod.
SELECT CAST(NULL AS VARCHAR) AS account_id, CAST(NULL AS VARCHAR) AS region,
       context || '/' || namespace || '/' || name AS used_by, 'pod' AS kind,
       c['image'] AS image,
       CASE WHEN strpos(c['image_id'], '@sha256:') > 0
            THEN substr(c['image_id'], strpos(c['image_id'], '@sha256:') + 1) END AS running_digest,
       'kubernetes' AS source
FROM (SELECT context, namespace, name, unnest(containers) AS c FROM kubernetes_pod)
