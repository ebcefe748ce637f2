"""Seeds moto with the world the moto integration tests query, and prints it.

Usage: seed_world.py ENDPOINT_URL [--denied-reader]
(credentials come from AWS_ACCESS_KEY_ID etc.)

Account A (123456789012) holds the ECR registry; both A and B (222222222222,
reached by assuming arn:aws:iam::222222222222:role/skyglue) run ECS in
us-east-1 and eu-west-1 with images pulled from A's us-east-1 registry, by
tag and by digest; B also has a registry of its own in eu-west-1. The script
prints one JSON object on stdout with everything it created, so the Rust
tests assert against it.

With --denied-reader it instead creates an IAM user allowed ECR only, turns
on moto's IAM enforcement, and prints that user's access key.
"""

import hashlib
import json
import sys
import urllib.request

import boto3

ENDPOINT = sys.argv[1]
ACCOUNT_A = "123456789012"
ACCOUNT_B = "222222222222"
ROLE_B = f"arn:aws:iam::{ACCOUNT_B}:role/skyglue"
REGISTRY = f"{ACCOUNT_A}.dkr.ecr.us-east-1.amazonaws.com"


def moto_api(path, data, content_type="application/json"):
    """POSTs to moto's own control API."""
    req = urllib.request.Request(ENDPOINT + path, data=data, method="POST")
    req.add_header("Content-Type", content_type)
    urllib.request.urlopen(req).read()


def sessions():
    """{account_id: boto3.Session} for A (default credentials) and B (assumed role)."""
    a = boto3.Session()
    sts = a.client("sts", region_name="us-east-1", endpoint_url=ENDPOINT)
    creds = sts.assume_role(RoleArn=ROLE_B, RoleSessionName="seed")["Credentials"]
    b = boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    return {ACCOUNT_A: a, ACCOUNT_B: b}


def manifest(name):
    """A Docker schema-2 manifest with layers derived from `name`, and its digest."""
    layer = "sha256:" + hashlib.sha256(f"layer-{name}".encode()).hexdigest()
    config = "sha256:" + hashlib.sha256(f"config-{name}".encode()).hexdigest()
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 1469,
                "digest": config,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": 31357311,
                    "digest": layer,
                }
            ],
        },
        indent=3,
    )
    return body, "sha256:" + hashlib.sha256(body.encode()).hexdigest()


def seed_ecr(session, account, region, pushes):
    """Repositories and images of one registry: `pushes` is [(repo, name, tags)]."""
    ecr = session.client("ecr", region_name=region, endpoint_url=ENDPOINT)
    repositories, images, digests = [], [], {}
    for repo, name, tags in pushes:
        if not any(r["repository_name"] == repo for r in repositories):
            created = ecr.create_repository(repositoryName=repo)["repository"]
            repositories.append(
                {
                    "account_id": account,
                    "region": region,
                    "repository_name": repo,
                    "arn": created["repositoryArn"],
                    "repository_uri": created["repositoryUri"],
                }
            )
        body, digest = manifest(name)
        kwargs = {"repositoryName": repo, "imageManifest": body, "imageDigest": digest}
        for tag in tags or [None]:
            if tag is not None:
                kwargs["imageTag"] = tag
            ecr.put_image(**kwargs)
        images.append(
            {
                "account_id": account,
                "region": region,
                "repository_name": repo,
                "image_digest": digest,
                "image_tags": tags,
            }
        )
        digests[name] = digest
    return repositories, images, digests


def image(repo, tag=None, digest=None):
    """An image reference into account A's us-east-1 registry, and its parts."""
    uri = f"{REGISTRY}/{repo}" + (f"@{digest}" if digest else f":{tag}")
    parts = {
        "registry": REGISTRY,
        "registry_id": ACCOUNT_A,
        "region": "us-east-1",
        "repository_name": repo,
        "tag": tag,
        "digest": digest,
    }
    return uri, parts


def default_network(session, region):
    """awsvpc settings on the default VPC's first subnet, as Fargate tasks need."""
    ec2 = session.client("ec2", region_name=region, endpoint_url=ENDPOINT)
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    group = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]["GroupId"]
    return {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}}


def seed_ecs(session, region, plan):
    """Clusters, task definitions, services and tasks of one account and region."""
    ecs = session.client("ecs", region_name=region, endpoint_url=ENDPOINT)
    out = {"clusters": [], "task_definitions": [], "services": [], "tasks": []}
    clusters = {}
    for cluster in plan["clusters"]:
        clusters[cluster] = ecs.create_cluster(clusterName=cluster)["cluster"]["clusterArn"]
        out["clusters"].append({"cluster_name": cluster, "cluster_arn": clusters[cluster]})
    arns = {}
    for family, (uri, parts), deregister in plan["task_definitions"]:
        td = ecs.register_task_definition(
            family=family,
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="512",
            containerDefinitions=[
                {"name": family, "image": uri, "essential": True, "memory": 512}
            ],
        )["taskDefinition"]
        arn = td["taskDefinitionArn"]
        if deregister:
            ecs.deregister_task_definition(taskDefinition=arn)
        arns[f"{family}:{td['revision']}"] = arn
        out["task_definitions"].append(
            {
                "task_definition_arn": arn,
                "family": family,
                "revision": td["revision"],
                "status": "INACTIVE" if deregister else "ACTIVE",
                "image": uri,
                "image_ref": parts,
            }
        )
    for cluster, name, td, desired in plan["services"]:
        svc = ecs.create_service(
            cluster=cluster,
            serviceName=name,
            taskDefinition=arns[td],
            desiredCount=desired,
            launchType="FARGATE",
        )["service"]
        out["services"].append(
            {
                "cluster_arn": clusters[cluster],
                "service_name": name,
                "arn": svc["serviceArn"],
                "task_definition": arns[td],
                "desired_count": desired,
            }
        )
    for cluster, td, stop in plan["tasks"]:
        task = ecs.run_task(
            cluster=cluster,
            taskDefinition=arns[td],
            launchType="FARGATE",
            networkConfiguration=default_network(session, region),
        )["tasks"][0]
        if stop:
            ecs.stop_task(cluster=cluster, task=task["taskArn"], reason="seeded as stopped")
        out["tasks"].append(
            {
                "cluster_arn": clusters[cluster],
                "task_arn": task["taskArn"],
                "task_definition_arn": arns[td],
                "stopped": stop,
            }
        )
    return out


def main():
    # Moto moves a task one lifecycle step towards STOPPED on every DescribeTasks;
    # keep running tasks RUNNING however often the tests look at them.
    transition = {"progression": "manual", "times": 1000000000}
    body = {"model_name": "ecs::task", "transition": transition}
    moto_api("/moto-api/state-manager/set-transition", json.dumps(body).encode())
    by_account = sessions()
    repositories, images, d = seed_ecr(
        by_account[ACCOUNT_A],
        ACCOUNT_A,
        "us-east-1",
        [
            ("web", "web-v1", ["v1"]),
            ("web", "web-v2", ["v2", "stable"]),
            ("web", "web-v3", ["v3"]),
            ("web", "web-old", []),
            ("base", "base-2024", ["2024"]),
        ],
    )
    more = seed_ecr(by_account[ACCOUNT_B], ACCOUNT_B, "eu-west-1", [("tools", "tools-1", ["1.0"])])
    repositories += more[0]
    images += more[1]
    v1, v2 = image("web", tag="v1"), image("web", tag="v2")
    pinned = image("web", digest=d["web-v3"])
    plans = {
        (ACCOUNT_A, "us-east-1"): {
            "clusters": ["apps", "batch"],
            "task_definitions": [
                ("web", v1, True),
                ("web", v1, False),
                ("web", pinned, False),
                ("worker", v2, False),
                ("cron", image("base", tag="2024"), False),
            ],
            "services": [("apps", "web", "web:3", 2), ("apps", "idle", "web:2", 0)],
            "tasks": [("apps", "worker:1", False), ("batch", "cron:1", True)],
        },
        (ACCOUNT_A, "eu-west-1"): {
            "clusters": ["apps"],
            "task_definitions": [("api", v2, False)],
            "services": [("apps", "api", "api:1", 1)],
            "tasks": [],
        },
        (ACCOUNT_B, "us-east-1"): {
            "clusters": ["apps"],
            "task_definitions": [("web", v1, False), ("batch", v1, True)],
            "services": [("apps", "web", "web:1", 1)],
            "tasks": [],
        },
        (ACCOUNT_B, "eu-west-1"): {
            "clusters": ["jobs"],
            "task_definitions": [("report", pinned, False)],
            "services": [("jobs", "report", "report:1", 0)],
            "tasks": [("jobs", "report:1", False)],
        },
    }
    ecs = []
    for (account, region), plan in plans.items():
        seeded = seed_ecs(by_account[account], region, plan)
        ecs.append({"account_id": account, "region": region, **seeded})
    world = {"repositories": repositories, "images": images, "ecs": ecs}
    json.dump(world, sys.stdout)
    print()


def denied_reader():
    """An IAM user allowed ECR only, with IAM enforced from now on; prints its keys."""
    iam = boto3.client("iam", region_name="us-east-1", endpoint_url=ENDPOINT)
    iam.create_user(UserName="reader")
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["ecr:*"], "Resource": "*"}],
    }
    iam.put_user_policy(UserName="reader", PolicyName="ecr-only", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    moto_api("/moto-api/reset-auth", b"0", "text/plain")
    json.dump({"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}, sys.stdout)
    print()


if __name__ == "__main__":
    if sys.argv[2:] == ["--denied-reader"]:
        denied_reader()
    else:
        main()
