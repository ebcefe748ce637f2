//! Amazon Resource Names, parsed once and strictly: the one parser the AWS
//! tables, the sinks, the reports and SQL's `arn_parts` all use.
//!
//! `arn:<partition>:<service>:<region>:<account>:<resource>`, where the
//! resource is `<type>/<id>`, `<type>:<id>` or a bare id. The id's last
//! `:`-separated part is its qualifier (a task definition's revision, a Lambda
//! function's version or alias):
//!
//! ```
//! use skyglue_core::arn::Arn;
//!
//! let arn = Arn::parse("arn:aws:ecs:us-east-1:111111111111:task-definition/web:7")?;
//! assert_eq!((arn.service, arn.region, arn.account_id), ("ecs", Some("us-east-1"), Some("111111111111")));
//! assert_eq!((arn.resource_type, arn.resource), (Some("task-definition"), "web:7"));
//! assert_eq!((arn.name, arn.qualifier), ("web", Some("7")));
//! # Ok::<(), skyglue_core::arn::ArnError>(())
//! ```
//!
//! Anything that is not an ARN of that shape is an [`ArnError`] naming the
//! value, never a split at the wrong place: a partition other than `aws` or
//! `aws-*`, an account that is not digits (or `aws`, for AWS-managed
//! resources), an empty resource, a type or id left empty, whitespace or
//! control characters. Services whose resources have no type (S3's
//! `bucket/key`, SNS's `topic:subscription`, SQS's queue) are known by name,
//! so a `/` in an S3 key is never read as a type.

use thiserror::Error;

/// The parts of an ARN, borrowed from the text it was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Arn<'a> {
    /// `aws`, `aws-cn`, `aws-us-gov`, ...
    pub partition: &'a str,
    /// `ecs`, `lambda`, `s3`, ...
    pub service: &'a str,
    /// The region; `None` for global services (IAM, S3).
    pub region: Option<&'a str>,
    /// The account; `None` where the ARN names none (S3).
    pub account_id: Option<&'a str>,
    /// `task-definition`, `function`, `repository`, `service`...; `None` for a
    /// bare id and for services whose resources have no type.
    pub resource_type: Option<&'a str>,
    /// The resource after its type: `web:7`, `prod/web`, `bucket/key`.
    pub resource: &'a str,
    /// The resource without its qualifier: `web`, `prod/web`.
    pub name: &'a str,
    /// After the resource's last `:`: a revision, a version, an alias.
    pub qualifier: Option<&'a str>,
}

/// A text that is not an ARN (or not the kind asked for), and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("not a valid ARN: {value:?} ({why})")]
pub struct ArnError {
    /// The text, as given.
    pub value: String,
    /// What is wrong with it.
    pub why: &'static str,
}

/// Services whose resources have no type before the id.
const UNTYPED: [&str; 3] = ["s3", "sns", "sqs"];

impl<'a> Arn<'a> {
    /// Parses `text`, or says why it is not an ARN.
    pub fn parse(text: &'a str) -> Result<Self, ArnError> {
        let fail = |why| ArnError { value: text.to_string(), why };
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(fail("it contains whitespace or control characters"));
        }
        let Some(rest) = text.strip_prefix("arn:") else { return Err(fail("it does not start with `arn:`")) };
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let [partition, service, region, account, resource] = parts.as_slice() else {
            return Err(fail("it has fewer than six `:`-separated fields"));
        };
        let lower = |s: &str| s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !(*partition == "aws" || partition.strip_prefix("aws-").is_some_and(|p| !p.is_empty() && lower(p)))
        {
            return Err(fail("its partition is not `aws` or `aws-*`"));
        }
        if service.is_empty() || !lower(service) {
            return Err(fail("its service is not a lowercase name"));
        }
        if !lower(region) {
            return Err(fail("its region is not a lowercase name"));
        }
        let digits =
            !account.is_empty() && account.len() <= 12 && account.bytes().all(|b| b.is_ascii_digit());
        if !(account.is_empty() || *account == "aws" || digits) {
            return Err(fail("its account is not an account id"));
        }
        if resource.is_empty() {
            return Err(fail("its resource is empty"));
        }
        let (resource_type, id) = match resource.find(['/', ':']) {
            Some(i) if !UNTYPED.contains(service) => {
                let (kind, id) = (&resource[..i], &resource[i + 1..]);
                if kind.is_empty() || id.is_empty() {
                    return Err(fail("its resource type or id is empty"));
                }
                (Some(kind), id)
            }
            _ => (None, *resource),
        };
        let (name, qualifier) = match id.rsplit_once(':') {
            Some((name, qualifier)) if !name.is_empty() && !qualifier.is_empty() => (name, Some(qualifier)),
            Some(_) => return Err(fail("its resource has an empty part around a `:`")),
            None => (id, None),
        };
        let some = |s: &'a str| (!s.is_empty()).then_some(s);
        Ok(Arn {
            partition,
            service,
            region: some(region),
            account_id: some(account),
            resource_type,
            resource: id,
            name,
            qualifier,
        })
    }

    /// Parses `text` as an ARN of `service` whose resources are of `kind`
    /// (`ecs`, `task-definition`), or says why it is not one.
    pub fn parse_kind(text: &'a str, service: &str, kind: &str) -> Result<Self, ArnError> {
        let arn = Arn::parse(text)?;
        if arn.service != service || arn.resource_type != Some(kind) {
            let why = "it names another service or kind of resource";
            return Err(ArnError { value: text.to_string(), why });
        }
        Ok(arn)
    }
}

/// A task definition revision named either way ECS accepts: a full ARN or
/// `family:revision`; `None` for anything else (a bare family, a malformed
/// ARN).
pub fn family_and_revision(name: &str) -> Option<(&str, i64)> {
    let (family, revision) = if name.starts_with("arn:") {
        let arn = Arn::parse_kind(name, "ecs", "task-definition").ok()?;
        (arn.name, arn.qualifier?)
    } else {
        name.rsplit_once(':')?
    };
    let revision = revision.parse().ok().filter(|r| *r > 0)?;
    if family.is_empty() || family.contains('/') {
        return None;
    }
    Some((family, revision))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arn(text: &str) -> Arn<'_> {
        Arn::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn typed_resources_split_at_their_first_separator() {
        let a = arn("arn:aws:ecs:us-east-1:111111111111:service/prod/web");
        assert_eq!(
            (a.resource_type, a.resource, a.name, a.qualifier),
            (Some("service"), "prod/web", "prod/web", None)
        );
        let f = arn("arn:aws:lambda:eu-west-1:222222222222:function:api:PROD");
        assert_eq!(
            (f.resource_type, f.resource, f.name, f.qualifier),
            (Some("function"), "api:PROD", "api", Some("PROD"))
        );
        let r = arn("arn:aws:ecr:us-east-1:111111111111:repository/team/web");
        assert_eq!((r.resource_type, r.name), (Some("repository"), "team/web"));
        let t = arn("arn:aws:ecs:us-east-1:111111111111:task-definition/web:42");
        assert_eq!((t.name, t.qualifier), ("web", Some("42")));
    }

    #[test]
    fn other_partitions_and_global_services() {
        let cn = arn("arn:aws-cn:ecs:cn-north-1:111111111111:task-definition/web:1");
        assert_eq!((cn.partition, cn.region), ("aws-cn", Some("cn-north-1")));
        let gov = arn("arn:aws-us-gov:lambda:us-gov-west-1:111111111111:function:f");
        assert_eq!((gov.partition, gov.name, gov.qualifier), ("aws-us-gov", "f", None));
        let role = arn("arn:aws:iam::111111111111:role/path/to/deploy");
        assert_eq!((role.region, role.resource_type, role.resource), (None, Some("role"), "path/to/deploy"));
        let managed = arn("arn:aws:iam::aws:policy/AdministratorAccess");
        assert_eq!(managed.account_id, Some("aws"));
    }

    #[test]
    fn untyped_services_keep_slashes_and_colons_in_the_id() {
        let key = arn("arn:aws:s3:::builds/main/app:v1.tar");
        assert_eq!((key.region, key.account_id, key.resource_type), (None, None, None));
        assert_eq!(
            (key.resource, key.name, key.qualifier),
            ("builds/main/app:v1.tar", "builds/main/app", Some("v1.tar"))
        );
        let sub = arn("arn:aws:sns:us-east-1:111111111111:alerts:0b7c");
        assert_eq!((sub.resource_type, sub.name, sub.qualifier), (None, "alerts", Some("0b7c")));
        let bare = arn("arn:aws:sqs:us-east-1:111111111111:jobs");
        assert_eq!((bare.resource_type, bare.resource), (None, "jobs"));
    }

    #[test]
    fn malformed_arns_are_errors_that_name_the_value() {
        for bad in [
            "",
            "web:7",
            "arn:aws:ecs",
            "arn:aws:ecs:us-east-1:111111111111",
            "arn:aws:ecs:us-east-1:111111111111:",
            "arn::ecs:us-east-1:111111111111:service/x",
            "arn:azure:ecs:us-east-1:111111111111:service/x",
            "arn:aws:ECS:us-east-1:111111111111:service/x",
            "arn:aws:ecs:US-EAST-1:111111111111:service/x",
            "arn:aws:ecs:us-east-1:acct:service/x",
            "arn:aws:ecs:us-east-1:1111111111111:service/x",
            "arn:aws:ecs:us-east-1:111111111111:/x",
            "arn:aws:ecs:us-east-1:111111111111:service/",
            "arn:aws:ecs:us-east-1:111111111111:task-definition/web:",
            "arn:aws:ecs:us-east-1:111111111111:service/a b",
            " arn:aws:ecs:us-east-1:111111111111:service/x",
        ] {
            let e = Arn::parse(bad).expect_err(bad);
            assert_eq!(e.value, bad);
            assert!(e.to_string().contains(&format!("{bad:?}")), "{e}");
        }
    }

    #[test]
    fn task_definition_names_both_ways() {
        let full = "arn:aws:ecs:us-east-1:111111111111:task-definition/web:42";
        assert_eq!(family_and_revision(full), Some(("web", 42)));
        assert_eq!(family_and_revision("web:7"), Some(("web", 7)));
        for bad in [
            "web",
            "web:latest",
            "web:0",
            "arn:aws:ecs:us-east-1:1:task-definition/web",
            "arn:aws:ecs:us-east-1:1:service/prod/web:3",
            "arn:aws:ecs:us-east-1:1:task-definition/a/web:3",
            "arn:aws:ecs:us east:1:task-definition/web:3",
        ] {
            assert_eq!(family_and_revision(bad), None, "{bad}");
        }
        assert!(Arn::parse_kind(full, "lambda", "function").is_err());
    }
}
