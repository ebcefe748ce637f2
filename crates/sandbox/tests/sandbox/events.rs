//! EventBridge (AWS JSON 1.1): buses, rules and targets paged by 100, the ECS
//! target's `EcsParameters`, and the errors of a missing bus or rule.

use serde_json::{Value, json};
use skyglue_sandbox::world::{EventRule, RegionWorld};

use crate::client::aws;
use crate::worlds::{prod_world, start};

const JOBS: &str = "arn:aws:ecs:us-east-1:111111111111:cluster/jobs";

fn rules(n: usize) -> RegionWorld {
    let mut region = RegionWorld::new("us-east-1");
    for i in 0..n {
        region =
            region.with_event_rule(EventRule::ecs(&format!("rule{i:03}"), "rate(1 day)", JOBS, "nightly:3"));
    }
    let mut custom = EventRule::ecs("on-push", "rate(1 hour)", JOBS, "nightly");
    custom.event_bus = "builds".into();
    custom.schedule_expression = None;
    custom.event_pattern = Some(r#"{"source":["aws.ecr"]}"#.into());
    region.with_event_rule(custom)
}

#[tokio::test]
async fn rules_page_by_100_per_bus_and_targets_carry_ecs_parameters() {
    let sb = start(prod_world(rules(150))).await;
    let buses = aws(&sb, "events:ListEventBuses", json!({})).await.json();
    let names: Vec<&str> =
        buses["EventBuses"].as_array().unwrap().iter().map(|b| b["Name"].as_str().unwrap()).collect();
    assert_eq!(names, ["builds", "default"]);

    let (mut sizes, mut body) = (Vec::new(), json!({}));
    loop {
        let out = aws(&sb, "events:ListRules", body.clone()).await.json();
        sizes.push(out["Rules"].as_array().unwrap().len());
        match out.get("NextToken").and_then(Value::as_str) {
            Some(t) => body["NextToken"] = t.into(),
            None => break,
        }
    }
    assert_eq!(sizes, [100, 50], "the default bus only");
    let custom = aws(&sb, "events:ListRules", json!({"EventBusName": "builds"})).await.json();
    assert_eq!(custom["Rules"][0]["Arn"], "arn:aws:events:us-east-1:111111111111:rule/builds/on-push");
    assert_eq!(custom["Rules"][0].get("ScheduleExpression"), None);

    let targets = aws(&sb, "events:ListTargetsByRule", json!({"Rule": "rule007"})).await.json();
    assert_eq!(targets["Targets"][0]["Arn"], JOBS);
    assert_eq!(targets["Targets"][0]["EcsParameters"]["TaskDefinitionArn"], "nightly:3");

    let missing = aws(&sb, "events:ListTargetsByRule", json!({"Rule": "nope"})).await;
    assert_eq!((missing.status, missing.error_type()), (400, "ResourceNotFoundException".into()));
    let no_bus = aws(&sb, "events:ListRules", json!({"EventBusName": "nope"})).await;
    assert_eq!(no_bus.error_type(), "ResourceNotFoundException");
    let too_many = aws(&sb, "events:ListRules", json!({"Limit": 101})).await;
    assert_eq!(too_many.error_type(), "ValidationException");
    assert_eq!(sb.calls().get("events:ListRules"), Some(&5));
}
