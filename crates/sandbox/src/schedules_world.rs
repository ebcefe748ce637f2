//! The sandbox's scheduled ECS tasks: EventBridge rules with their targets,
//! and EventBridge Scheduler schedules, per account and region
//! ([`crate::world::RegionWorld`]'s `event_rules` and `schedules`).

use serde::{Deserialize, Serialize};

/// An EventBridge rule on an event bus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRule {
    /// Rule name (unique per bus).
    pub name: String,
    /// The event bus, `default` unless named.
    #[serde(default = "default_name")]
    pub event_bus: String,
    /// `ENABLED` or `DISABLED`.
    pub state: String,
    /// `cron(...)` or `rate(...)`; `None` for a rule with an event pattern.
    #[serde(default)]
    pub schedule_expression: Option<String>,
    /// The event pattern (JSON text) of a rule that matches events.
    #[serde(default)]
    pub event_pattern: Option<String>,
    /// Targets, in the order they were put.
    #[serde(default)]
    pub targets: Vec<EventTarget>,
}

/// A target of a rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventTarget {
    /// Target id (unique per rule).
    pub id: String,
    /// What it invokes: a cluster ARN for an ECS task, a Lambda ARN, ...
    pub arn: String,
    /// `EcsParameters.TaskDefinitionArn` (family, family:revision or ARN) when
    /// the target launches an ECS task.
    #[serde(default)]
    pub task_definition: Option<String>,
}

/// An EventBridge Scheduler schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// Schedule name (unique per group).
    pub name: String,
    /// The schedule group, `default` unless named.
    #[serde(default = "default_name")]
    pub group: String,
    /// `ENABLED` or `DISABLED`.
    pub state: String,
    /// `at(...)`, `rate(...)` or `cron(...)`.
    pub schedule_expression: String,
    /// What it invokes: a cluster ARN, a universal target
    /// (`arn:aws:scheduler:::aws-sdk:ecs:runTask`), a Lambda ARN, ...
    pub target_arn: String,
    /// `EcsParameters.TaskDefinitionArn` of a templated ECS target.
    #[serde(default)]
    pub task_definition: Option<String>,
    /// The target's `Input` (JSON text), e.g. a universal target's request.
    #[serde(default)]
    pub input: Option<String>,
}

fn default_name() -> String {
    "default".to_owned()
}

impl EventRule {
    /// An ENABLED rule on the default bus that runs `task_definition` on
    /// `cluster_arn` at `schedule_expression`.
    pub fn ecs(name: &str, schedule_expression: &str, cluster_arn: &str, task_definition: &str) -> Self {
        EventRule {
            name: name.to_owned(),
            event_bus: default_name(),
            state: "ENABLED".to_owned(),
            schedule_expression: Some(schedule_expression.to_owned()),
            event_pattern: None,
            targets: vec![EventTarget {
                id: format!("{name}-ecs"),
                arn: cluster_arn.to_owned(),
                task_definition: Some(task_definition.to_owned()),
            }],
        }
    }

    /// The same rule in another state (`DISABLED`).
    pub fn with_state(mut self, state: &str) -> Self {
        self.state = state.to_owned();
        self
    }
}

impl Schedule {
    /// An ENABLED schedule of the default group that runs `task_definition`
    /// on `cluster_arn` at `schedule_expression`.
    pub fn ecs(name: &str, schedule_expression: &str, cluster_arn: &str, task_definition: &str) -> Self {
        Schedule {
            name: name.to_owned(),
            group: default_name(),
            state: "ENABLED".to_owned(),
            schedule_expression: schedule_expression.to_owned(),
            target_arn: cluster_arn.to_owned(),
            task_definition: Some(task_definition.to_owned()),
            input: None,
        }
    }

    /// The same schedule in group `group`.
    pub fn in_group(mut self, group: &str) -> Self {
        self.group = group.to_owned();
        self
    }
}
