-- Lambda: the $LATEST code of every container-image function, the code of
-- every published version an alias routes to (its main version and any
-- weighted additional one), and the code of every other published version
-- (any version can be invoked by its qualified ARN). resolved_image_uri is
-- the digest Lambda pinned when the code was deployed.
SELECT account_id, region, arn AS used_by, 'lambda_function' AS kind, image_uri AS image,
       image_ref(resolved_image_uri)['digest'] AS running_digest, 'lambda' AS source
FROM aws_lambda_function
WHERE package_type = 'Image'
UNION ALL
SELECT account_id, region, alias_arn AS used_by, 'lambda_alias' AS kind, image_uri AS image,
       image_ref(resolved_image_uri)['digest'] AS running_digest, 'lambda' AS source
FROM aws_lambda_alias
WHERE package_type = 'Image'
UNION ALL
SELECT v.account_id, v.region, v.arn AS used_by, 'lambda_version' AS kind, v.image_uri AS image,
       image_ref(v.resolved_image_uri)['digest'] AS running_digest, 'lambda' AS source
FROM aws_lambda_version v
WHERE v.package_type = 'Image'
  AND NOT EXISTS (
      -- an aliased version is already named by its alias
      SELECT 1 FROM aws_lambda_alias a
      WHERE a.package_type = 'Image' AND a.account_id = v.account_id AND a.region = v.region
        AND a.function_name = v.function_name AND a.function_version = v.version
  )
