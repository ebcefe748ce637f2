"""Seeds moto with ECS task definitions that only schedules launch, and prints them.

Usage: seed_schedules.py ENDPOINT_URL   (credentials come from AWS_ACCESS_KEY_ID etc.)

Account A's us-east-1 has cluster `jobs` and task definition family `nightly`
with ACTIVE revisions 1 to 8. EventBridge rule `nightly-rule` (default bus)
targets the cluster with EcsParameters naming revision 2 by ARN; EventBridge
Scheduler schedule `nightly-at-4` (group default) names revision 3 as
`nightly:3`. Nothing else uses any revision. Prints {"arns": {revision: arn}}.
"""

import json
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from seed_world import ACCOUNT_A, sessions  # noqa: E402

REGION = "us-east-1"


def main():
    session = sessions()[ACCOUNT_A]
    endpoint = sys.argv[1]
    client = lambda name: session.client(name, region_name=REGION, endpoint_url=endpoint)  # noqa: E731
    ecs = client("ecs")
    cluster = ecs.create_cluster(clusterName="jobs")["cluster"]["clusterArn"]
    arns = {}
    for revision in range(1, 9):
        td = ecs.register_task_definition(
            family="nightly",
            containerDefinitions=[{"name": "app", "image": f"busybox:{revision}", "essential": True, "memory": 512}],
        )["taskDefinition"]
        arns[str(td["revision"])] = td["taskDefinitionArn"]
    role = f"arn:aws:iam::{ACCOUNT_A}:role/ecsEventsRole"

    events = client("events")
    events.put_rule(Name="nightly-rule", ScheduleExpression="cron(0 3 * * ? *)", State="ENABLED")
    events.put_targets(
        Rule="nightly-rule",
        Targets=[{
            "Id": "nightly",
            "Arn": cluster,
            "RoleArn": role,
            "EcsParameters": {"TaskDefinitionArn": arns["2"], "TaskCount": 1},
        }],
    )

    scheduler = client("scheduler")
    scheduler.create_schedule(
        Name="nightly-at-4",
        ScheduleExpression="cron(0 4 * * ? *)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": cluster, "RoleArn": role, "EcsParameters": {"TaskDefinitionArn": "nightly:3"}},
    )
    print(json.dumps({"arns": arns}))


if __name__ == "__main__":
    main()
