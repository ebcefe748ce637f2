//! EventBridge Scheduler (REST-JSON): ListSchedules pages by 100 over every
//! group and summarises targets by ARN alone; GetSchedule has the task
//! definition, and a schedule of another group is not found without its group.

use skyglue_sandbox::world::{RegionWorld, Schedule};

use crate::client::{PROD_KEY, Resp, rest_as};
use crate::worlds::{prod_world, start};

const JOBS: &str = "arn:aws:ecs:us-east-1:111111111111:cluster/jobs";

async fn get(sb: &skyglue_sandbox::Sandbox, path: &str) -> Resp {
    rest_as(sb, PROD_KEY, "us-east-1", "scheduler", "GET", path, "").await
}

#[tokio::test]
async fn schedules_page_by_100_and_only_get_schedule_names_the_task_definition() {
    let mut region = RegionWorld::new("us-east-1");
    for i in 0..120 {
        region = region.with_schedule(Schedule::ecs(&format!("s{i:03}"), "rate(1 day)", JOBS, "nightly:3"));
    }
    region =
        region.with_schedule(Schedule::ecs("report", "cron(0 4 * * ? *)", JOBS, "report").in_group("batch"));
    let sb = start(prod_world(region)).await;

    let first = get(&sb, "/schedules").await;
    assert_eq!(first.status, 200, "{}", first.body);
    let first = first.json();
    let page = first["Schedules"].as_array().unwrap();
    assert_eq!(page.len(), 100);
    assert_eq!(page[0]["GroupName"], "batch", "every group, ordered by group and name");
    assert_eq!(page[0]["Target"], serde_json::json!({"Arn": JOBS}), "no task definition in the list");
    let token = first["NextToken"].as_str().unwrap().to_owned();
    let second = get(&sb, &format!("/schedules?NextToken={token}&MaxResults=100")).await.json();
    assert_eq!(second["Schedules"].as_array().unwrap().len(), 21);
    assert_eq!(second.get("NextToken"), None);

    let got = get(&sb, "/schedules/report?groupName=batch").await.json();
    assert_eq!(got["Target"]["EcsParameters"]["TaskDefinitionArn"], "report");
    assert_eq!(got["Arn"], "arn:aws:scheduler:us-east-1:111111111111:schedule/batch/report");
    let wrong_group = get(&sb, "/schedules/report").await;
    assert_eq!((wrong_group.status, wrong_group.error_type()), (404, "ResourceNotFoundException".into()));
    let bad = get(&sb, "/schedules?MaxResults=101").await;
    assert_eq!(bad.error_type(), "ValidationException");
    assert_eq!(sb.calls().get("scheduler:GetSchedule"), Some(&2));
}
