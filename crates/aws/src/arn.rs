//! Task definition names, the two ways ECS accepts them: a full ARN
//! (`arn:aws:ecs:us-east-1:111111111111:task-definition/web:7`) and a short
//! `family:revision` (`web:7`) that means "in the caller's account and region".
//!
//! The delete sinks and their in-use check compare revisions by
//! (account, region, family, revision), so a row that names `web:7` and a
//! service that runs the full ARN of the same revision meet. The ARN itself is
//! read by the one parser, [`skyglue_core::arn`].

use skyglue_core::arn::{Arn, family_and_revision};

/// A revision, located when the name was a full ARN.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TaskDefinitionName {
    /// `(region, account)` from the ARN; `None` for a short name.
    pub location: Option<(String, String)>,
    /// The family.
    pub family: String,
    /// The revision number.
    pub revision: i64,
}

impl TaskDefinitionName {
    /// Parses a full ARN or a `family:revision` name; `None` for anything else
    /// (a bare family names no single revision).
    pub fn parse(name: &str) -> Option<Self> {
        let (family, revision) = family_and_revision(name)?;
        let location = if name.starts_with("arn:") {
            // A revision lives in one region and account: an ARN without them names none.
            let arn = Arn::parse(name).ok()?;
            Some((arn.region?.to_string(), arn.account_id?.to_string()))
        } else {
            None
        };
        Some(TaskDefinitionName { location, family: family.to_string(), revision })
    }

    /// `family:revision`.
    pub fn short(&self) -> String {
        format!("{}:{}", self.family, self.revision)
    }

    /// The full ARN of this revision in `region` and `account`.
    pub fn arn_in(&self, region: &str, account: &str) -> String {
        format!("arn:{}:ecs:{region}:{account}:task-definition/{}", partition(region), self.short())
    }
}

/// The AWS partition a region belongs to.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_and_short_names_parse_to_the_same_revision() {
        let full = TaskDefinitionName::parse("arn:aws:ecs:eu-west-1:222222222222:task-definition/web:7");
        let short = TaskDefinitionName::parse("web:7");
        let (Some(full), Some(short)) = (full, short) else { panic!("both parse") };
        assert_eq!(full.location, Some(("eu-west-1".into(), "222222222222".into())));
        assert_eq!(short.location, None);
        assert_eq!((full.family.as_str(), full.revision), (short.family.as_str(), short.revision));
        assert_eq!(
            short.arn_in("eu-west-1", "222222222222"),
            "arn:aws:ecs:eu-west-1:222222222222:task-definition/web:7"
        );
    }

    #[test]
    fn other_names_do_not_parse() {
        for bad in [
            "web",
            "web:latest",
            "web:0",
            "arn:aws:ecs:eu-west-1:2:service/c/web",
            "arn:aws:ecs::2:task-definition/web:1",
        ] {
            assert_eq!(TaskDefinitionName::parse(bad), None, "{bad}");
        }
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition("us-east-1"), "aws");
    }
}
