-- Lambda: the $LATEST code of every container-image function, and the code of
-- every published version an alias routes to (its main version and any
-- weighted additional one). resolved_image_uri is the digest Lambda pinned
-- when the code was deployed.
SELECT account_id, region, arn AS used_by, 'lambda_function' AS kind, image_uri AS image,
       image_ref(resolved_image_uri)['digest'] AS running_digest, 'lambda' AS source
FROM aws_lambda_function
WHERE package_type = 'Image'
UNION ALL
SELECT account_id, region, alias_arn AS used_by, 'lambda_alias' AS kind, image_uri AS image,
       image_ref(resolved_image_uri)['digest'] AS running_digest, 'lambda' AS source
FROM aws_lambda_alias
WHERE package_type = 'Image'
