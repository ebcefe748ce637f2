"""Seeds moto with three ECR repositories built from GitHub repo acme/web, and prints their images.

Usage: seed_mapping.py ENDPOINT_URL SHA_OLD SHA_RECENT   (credentials come from AWS_ACCESS_KEY_ID etc.)

Account A's us-east-1 registry: `web`, tagged github_repository=acme/web (mapped
by its tag); `api`, untagged (mapped by [github] repositories in the config);
`other`, mapped by neither. Each holds one image tagged with the 7-character
short SHA of an old commit and one of a recent commit.
Prints {"digests": {"<repository>/<old|recent>": digest}}.
"""

import json
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from seed_world import ACCOUNT_A, manifest, sessions  # noqa: E402

REGION = "us-east-1"


def main():
    endpoint, old, recent = sys.argv[1], sys.argv[2], sys.argv[3]
    ecr = sessions()[ACCOUNT_A].client("ecr", region_name=REGION, endpoint_url=endpoint)
    digests = {}
    for repository in ("web", "api", "other"):
        arn = ecr.create_repository(repositoryName=repository)["repository"]["repositoryArn"]
        if repository == "web":
            ecr.tag_resource(resourceArn=arn, tags=[{"Key": "github_repository", "Value": "acme/web"}])
        for age, sha in (("old", old), ("recent", recent)):
            body, digest = manifest(f"mapping-{repository}-{age}")
            ecr.put_image(repositoryName=repository, imageManifest=body, imageDigest=digest, imageTag=sha[:7])
            digests[f"{repository}/{age}"] = digest
    print(json.dumps({"digests": digests}))


if __name__ == "__main__":
    main()
