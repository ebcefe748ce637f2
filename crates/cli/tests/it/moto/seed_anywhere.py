"""Seeds moto with images used outside ECS, and prints them.

Usage: seed_anywhere.py ENDPOINT_URL   (credentials come from AWS_ACCESS_KEY_ID etc.)

Account A's us-east-1 registry has repository `web` with four images,
`alias`, `latest`, `batch` and `unused`. Lambda function `api` (a container
image function) runs `alias` by digest, published as version 1 with alias
`live`; function `worker` runs `latest` as $LATEST only. (moto's
UpdateFunctionCode also rewrites the code of published versions, which real
Lambda never does, so one function cannot show both here.) Batch job
definition `nightly` (ACTIVE) runs `batch` by digest. Nothing uses `unused`.
Prints {"digests": {name: digest}}.
"""

import json
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from seed_world import ACCOUNT_A, manifest, sessions  # noqa: E402

REGION = "us-east-1"


def main():
    session = sessions()[ACCOUNT_A]
    endpoint = sys.argv[1]
    ecr = session.client("ecr", region_name=REGION, endpoint_url=endpoint)
    ecr.create_repository(repositoryName="web")
    digests = {}
    for name in ("alias", "latest", "batch", "unused"):
        body, digest = manifest(f"anywhere-{name}")
        ecr.put_image(repositoryName="web", imageManifest=body, imageDigest=digest, imageTag=f"v-{name}")
        digests[name] = digest
    repo = f"{ACCOUNT_A}.dkr.ecr.{REGION}.amazonaws.com/web"

    iam = session.client("iam", region_name=REGION, endpoint_url=endpoint)
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    role = iam.create_role(RoleName="api-lambda", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    awslambda = session.client("lambda", region_name=REGION, endpoint_url=endpoint)
    awslambda.create_function(
        FunctionName="api",
        Role=role,
        PackageType="Image",
        Code={"ImageUri": f"{repo}@{digests['alias']}"},
    )
    version = awslambda.publish_version(FunctionName="api")["Version"]
    awslambda.create_alias(FunctionName="api", Name="live", FunctionVersion=version)
    awslambda.create_function(
        FunctionName="worker",
        Role=role,
        PackageType="Image",
        Code={"ImageUri": f"{repo}@{digests['latest']}"},
    )

    batch = session.client("batch", region_name=REGION, endpoint_url=endpoint)
    batch.register_job_definition(
        jobDefinitionName="nightly",
        type="container",
        containerProperties={"image": f"{repo}@{digests['batch']}", "vcpus": 1, "memory": 512},
    )
    print(json.dumps({"digests": digests}))


if __name__ == "__main__":
    main()
