"""Seeds moto with the image graph of the image-graph tests, and prints it.

Usage: seed_image_graph.py ENDPOINT_URL   (credentials come from AWS_ACCESS_KEY_ID etc.)

Repository `graph` in account A's us-east-1 registry, every image put with
its imageManifestMediaType (moto reports no subjectManifestDigest and no
artifactMediaType, so skyglue reads the manifests):
- `kept` (tag v1), run by service `kept` by tag: its cosign signature
  `kept-sig` (tag sha256-<hex>.sig) and its SBOM `kept-sbom` (untagged, OCI
  `subject`) stay with it;
- `multi` (tag multi-v1), an OCI index over the untagged `amd64` and
  `arm64`, run by service `multi` by tag: its children stay;
- `old` (tag old), used by nothing: it goes with its signature `old-sig` and
  its SBOM `old-sbom`.
Prints {"digests": {name: digest}}.
"""

import hashlib
import json
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from seed_guards import register  # noqa: E402
from seed_world import ACCOUNT_A, sessions  # noqa: E402

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def blob(name):
    return "sha256:" + hashlib.sha256(name.encode()).hexdigest()


def image_manifest(name, media_type=DOCKER_MANIFEST, config="application/vnd.docker.container.image.v1+json",
                   subject=None, artifact_type=None):
    doc = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {"mediaType": config, "size": 100, "digest": blob(f"config-{name}")},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 1000,
                    "digest": blob(f"layer-{name}")}],
    }
    if artifact_type:
        doc["artifactType"] = artifact_type
    if subject:
        doc["subject"] = {"mediaType": DOCKER_MANIFEST, "digest": subject, "size": 500}
    return doc


def main():
    session = sessions()[ACCOUNT_A]
    ecr = session.client("ecr", region_name="us-east-1", endpoint_url=sys.argv[1])
    ecr.create_repository(repositoryName="graph")
    digests = {}

    def put(name, doc, tag=None):
        body = json.dumps(doc)
        digest = "sha256:" + hashlib.sha256(body.encode()).hexdigest()
        kwargs = {"repositoryName": "graph", "imageManifest": body, "imageDigest": digest,
                  "imageManifestMediaType": doc["mediaType"]}
        if tag:
            kwargs["imageTag"] = tag
        ecr.put_image(**kwargs)
        digests[name] = digest
        return digest

    def signed(name, tag):
        digest = put(name, image_manifest(name), tag)
        put(f"{name}-sig", image_manifest(f"{name}-sig", OCI_MANIFEST, "application/vnd.oci.image.config.v1+json"),
            digest.replace(":", "-", 1) + ".sig")
        put(f"{name}-sbom", image_manifest(f"{name}-sbom", OCI_MANIFEST, "application/vnd.oci.empty.v1+json",
                                           subject=digest, artifact_type="application/spdx+json"))

    signed("kept", "v1")
    signed("old", "old")
    children = [put(arch, image_manifest(arch, OCI_MANIFEST, "application/vnd.oci.image.config.v1+json"))
                for arch in ("amd64", "arm64")]
    put("multi", {"schemaVersion": 2, "mediaType": OCI_INDEX,
                  "manifests": [{"mediaType": OCI_MANIFEST, "digest": d, "size": 500} for d in children]},
        "multi-v1")

    ecs = session.client("ecs", region_name="us-east-1", endpoint_url=sys.argv[1])
    ecs.create_cluster(clusterName="apps")
    registry = f"{ACCOUNT_A}.dkr.ecr.us-east-1.amazonaws.com/graph"
    for service, tag in [("kept", "v1"), ("multi", "multi-v1")]:
        td = register(ecs, service, f"{registry}:{tag}")
        ecs.create_service(cluster="apps", serviceName=service, taskDefinition=td, desiredCount=1,
                           launchType="FARGATE")
    json.dump({"digests": digests}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
