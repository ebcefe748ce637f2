"""Seeds moto with the world of the guard tests, and prints it.

Usage: seed_guards.py ENDPOINT_URL   (credentials come from AWS_ACCESS_KEY_ID etc.)

The same image (one manifest, so one digest) is pushed to repository `web` in
account A's us-east-1 and eu-west-1 registries and in account B's us-east-1
registry. In B's us-east-1 a service runs A's us-east-1 copy by digest (a
cross-account pull), so only that copy is in use. In A's us-east-1, family
`app` has revisions 1 (a service's), 2 (a running task's), 3 (a stopped
task's) and 4 (nobody's). Prints {"digest": ..., "revisions": {rev: arn}}.
"""

import json
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from seed_world import (  # noqa: E402
    ACCOUNT_A,
    ACCOUNT_B,
    default_network,
    manifest,
    moto_api,
    sessions,
)


def main():
    transition = {"progression": "manual", "times": 1000000000}
    body = {"model_name": "ecs::task", "transition": transition}
    moto_api("/moto-api/state-manager/set-transition", json.dumps(body).encode())
    by_account = sessions()
    body, digest = manifest("replicated")
    for account, region in [(ACCOUNT_A, "us-east-1"), (ACCOUNT_A, "eu-west-1"), (ACCOUNT_B, "us-east-1")]:
        ecr = by_account[account].client("ecr", region_name=region, endpoint_url=sys.argv[1])
        ecr.create_repository(repositoryName="web")
        ecr.put_image(repositoryName="web", imageManifest=body, imageDigest=digest, imageTag="abc1234")

    pull = f"{ACCOUNT_A}.dkr.ecr.us-east-1.amazonaws.com/web@{digest}"
    ecs_b = by_account[ACCOUNT_B].client("ecs", region_name="us-east-1", endpoint_url=sys.argv[1])
    ecs_b.create_cluster(clusterName="apps")
    puller = register(ecs_b, "puller", pull)
    ecs_b.create_service(cluster="apps", serviceName="puller", taskDefinition=puller, desiredCount=1, launchType="FARGATE")

    session_a = by_account[ACCOUNT_A]
    ecs_a = session_a.client("ecs", region_name="us-east-1", endpoint_url=sys.argv[1])
    ecs_a.create_cluster(clusterName="apps")
    # a tag no copy carries: only the cross-account pull above protects an image
    image = f"{ACCOUNT_A}.dkr.ecr.us-east-1.amazonaws.com/app:v1"
    revisions = {rev: register(ecs_a, "app", image) for rev in (1, 2, 3, 4)}
    ecs_a.create_service(cluster="apps", serviceName="app", taskDefinition=revisions[1], desiredCount=1, launchType="FARGATE")
    network = default_network(session_a, "us-east-1")
    for rev, stop in [(2, False), (3, True)]:
        task = ecs_a.run_task(cluster="apps", taskDefinition=revisions[rev], launchType="FARGATE", networkConfiguration=network)["tasks"][0]
        if stop:
            ecs_a.stop_task(cluster="apps", task=task["taskArn"], reason="seeded as stopped")
    json.dump({"digest": digest, "revisions": revisions}, sys.stdout)
    print()


def register(ecs, family, image):
    td = ecs.register_task_definition(
        family=family,
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": family, "image": image, "essential": True, "memory": 512}],
    )
    return td["taskDefinition"]["taskDefinitionArn"]


if __name__ == "__main__":
    main()
