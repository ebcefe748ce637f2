-- Kubernetes: every container (init containers included) of every pod in the
-- configured contexts, with the digest the node resolved (imageID) when it
-- names one: a pod that pulled `web:latest` keeps exactly the image it runs.
-- And every container of every workload's pod template (Deployments,
-- StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs), whatever its replica
-- count: a CronJob between runs or a Deployment at 0 starts pods from it.
-- A cluster is not an AWS account: account_id and region are NULL and
-- used_by is context/namespace/pod or context/namespace/Kind/name.
SELECT CAST(NULL AS VARCHAR) AS account_id, CAST(NULL AS VARCHAR) AS region,
       context || '/' || namespace || '/' || name AS used_by, 'pod' AS kind,
       c['image'] AS image,
       CASE WHEN strpos(c['image_id'], '@sha256:') > 0
            THEN substr(c['image_id'], strpos(c['image_id'], '@sha256:') + 1) END AS running_digest,
       'kubernetes' AS source
FROM (SELECT context, namespace, name, unnest(containers) AS c FROM kubernetes_pod)
UNION ALL
SELECT CAST(NULL AS VARCHAR) AS account_id, CAST(NULL AS VARCHAR) AS region,
       context || '/' || namespace || '/' || kind || '/' || name AS used_by,
       -- literals, not lower(kind): DataFusion 55's projection pruning fails on
       -- a union whose branches type kind differently (Utf8View and Utf8)
       CASE kind WHEN 'Deployment' THEN 'deployment' WHEN 'StatefulSet' THEN 'statefulset'
                 WHEN 'DaemonSet' THEN 'daemonset' WHEN 'ReplicaSet' THEN 'replicaset'
                 WHEN 'Job' THEN 'job' WHEN 'CronJob' THEN 'cronjob' ELSE 'workload' END AS kind,
       c['image'] AS image, CAST(NULL AS VARCHAR) AS running_digest, 'kubernetes_workload' AS source
FROM (SELECT context, namespace, kind, name, unnest(containers) AS c FROM kubernetes_workload)
