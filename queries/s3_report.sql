-- Where the bytes are: objects and bytes per bucket and top-level prefix, by
-- storage class and age, across every bucket of every configured account.
-- Each bucket is listed in its own region, 1,000 objects per call. Run it with:
--
--   skyglue query "$(cat queries/s3_report.sql)"
--
-- (On a very large account, add WHERE b.name IN (...) to read some buckets.)
SELECT o.bucket_name,
       CASE WHEN strpos(o.key, '/') > 0 THEN split_part(o.key, '/', 1) || '/' ELSE '(top level)' END AS top_prefix,
       o.storage_class,
       CASE
           WHEN o.last_modified >= days_ago(7) THEN '1: under 7 days'
           WHEN o.last_modified >= days_ago(30) THEN '2: 7-30 days'
           WHEN o.last_modified >= days_ago(90) THEN '3: 30-90 days'
           WHEN o.last_modified >= days_ago(365) THEN '4: 90-365 days'
           ELSE '5: over a year'
       END AS age,
       count(*) AS objects,
       sum(o.size) AS bytes
FROM aws_s3_bucket b
JOIN aws_s3_object o ON o.bucket_name = b.name
GROUP BY 1, 2, 3, 4
ORDER BY o.bucket_name, top_prefix, age, o.storage_class
