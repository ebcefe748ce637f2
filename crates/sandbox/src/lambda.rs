//! AWS Lambda over REST-JSON (API version 2015-03-31, signed for service `lambda`):
//! ListFunctions, GetFunction, ListAliases and ListVersionsByFunction.
//!
//! The lists page with `Marker`/`MaxItems`/`NextMarker`. `MaxItems` may be 1..=10000,
//! as the API model says, but a page never holds more than 50 items (the documented
//! cap, also the default). ListFunctions returns a subset of each configuration (no
//! `State` or `LastUpdateStatus`, and never the code: GetFunction has the image URIs).
//! Errors are REST-JSON: status, `x-amzn-ErrorType` and `{"Type", "message"}`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::aws::{AwsError, Caller, PageRule, page};
use crate::ids::hex_id;
use crate::world::{LambdaFunction, LambdaVersion, RegionWorld, World, lambda_function_arn};

/// Query parameters of a request.
pub(crate) type Query = BTreeMap<String, String>;

const LATEST: &str = "$LATEST";
/// Items per page whatever `MaxItems` asks for.
const PAGE_CAP: usize = 50;
/// The model's bound on `MaxItems`.
const MAX_ITEMS: i64 = 10_000;

/// `ListFunctions`: every function's `$LATEST`, or with `FunctionVersion=ALL` every
/// version of every function too.
pub(crate) fn list_functions(world: &World, caller: &Caller, query: &Query) -> Result<Value, AwsError> {
    let all = match query.get("FunctionVersion").map(String::as_str) {
        None => false,
        Some("ALL") => true,
        Some(other) => {
            return Err(validation("functionVersion", other, "Member must satisfy enum value set: [ALL]"));
        }
    };
    let functions = &region(world, caller).lambda_functions;
    let mut rows: Vec<(&LambdaFunction, Option<&LambdaVersion>)> = Vec::new();
    for f in functions {
        rows.push((f, None));
        if all {
            rows.extend(f.versions.iter().map(|v| (f, Some(v))));
        }
    }
    let (start, end, next) = lambda_page(rows.len(), query)?;
    let items: Vec<Value> = rows[start..end]
        .iter()
        .map(|(f, v)| {
            let qualifier = v.map(|v| v.version.as_str());
            configuration(caller, f, *v, qualifier, false)
        })
        .collect();
    Ok(with_marker(json!({ "Functions": items }), next))
}

/// `GetFunction`: the configuration and code of `$LATEST`, a version or an alias.
pub(crate) fn get_function(
    world: &World,
    caller: &Caller,
    function_name: &str,
    query: &Query,
) -> Result<Value, AwsError> {
    let (name, arn_qualifier) = parse_function_name(function_name)?;
    let qualifier = match (query.get("Qualifier"), arn_qualifier) {
        (Some(q), Some(a)) if q != a => {
            return Err(AwsError::new(
                "InvalidParameterValueException",
                "The derived qualifier from the function name does not match the specified qualifier.",
            ));
        }
        (Some(q), _) => Some(q.as_str()),
        (None, a) => a,
    };
    let f = function(world, caller, name)?;
    let not_found = || {
        let arn = lambda_function_arn(&caller.region, &caller.account, name, qualifier);
        AwsError {
            status: 404,
            ..AwsError::new("ResourceNotFoundException", format!("Function not found: {arn}"))
        }
    };
    let version = match qualifier {
        None | Some(LATEST) => None,
        Some(q) => {
            let target = match f.aliases.iter().find(|a| a.name == q) {
                Some(alias) => alias.function_version.as_str(),
                None => q,
            };
            if target == LATEST {
                None
            } else {
                Some(f.versions.iter().find(|v| v.version == target).ok_or_else(not_found)?)
            }
        }
    };
    let config = configuration(caller, f, version, qualifier, true);
    let (image_uri, resolved) = match version {
        Some(v) => (&v.image_uri, &v.resolved_image_uri),
        None => (&f.image_uri, &f.resolved_image_uri),
    };
    let code = if f.package_type == "Image" {
        json!({
            "RepositoryType": "ECR",
            "ImageUri": image_uri.clone().unwrap_or_default(),
            "ResolvedImageUri": resolved.clone().unwrap_or_default(),
        })
    } else {
        let snapshot =
            hex_id(&format!("lambda-code:{}:{}", f.name, version.map_or(LATEST, |v| &v.version)), 32);
        let r = &caller.region;
        json!({
            "RepositoryType": "S3",
            "Location": format!(
                "https://awslambda-{r}-tasks.s3.{r}.amazonaws.com/snapshots/{}/{}-{snapshot}?X-Amz-Expires=600",
                caller.account, f.name
            ),
        })
    };
    Ok(json!({ "Configuration": config, "Code": code }))
}

/// `ListAliases`, optionally only those pointing at `FunctionVersion`.
pub(crate) fn list_aliases(
    world: &World,
    caller: &Caller,
    function_name: &str,
    query: &Query,
) -> Result<Value, AwsError> {
    let (name, _) = parse_function_name(function_name)?;
    let f = function(world, caller, name)?;
    let wanted = query.get("FunctionVersion");
    let aliases: Vec<_> =
        f.aliases.iter().filter(|a| wanted.is_none_or(|v| &a.function_version == v)).collect();
    let (start, end, next) = lambda_page(aliases.len(), query)?;
    let items: Vec<Value> = aliases[start..end]
        .iter()
        .map(|a| {
            let mut alias = json!({
                "AliasArn": lambda_function_arn(&caller.region, &caller.account, &f.name, Some(&a.name)),
                "Name": a.name,
                "FunctionVersion": a.function_version,
                "Description": "",
                "RevisionId": revision_id(&format!("alias:{}:{}:{}", f.name, a.name, a.function_version)),
            });
            if !a.additional_version_weights.is_empty() {
                alias["RoutingConfig"] = json!({ "AdditionalVersionWeights": a.additional_version_weights });
            }
            alias
        })
        .collect();
    Ok(with_marker(json!({ "Aliases": items }), next))
}

/// `ListVersionsByFunction`: `$LATEST` first, then the published versions.
pub(crate) fn list_versions(
    world: &World,
    caller: &Caller,
    function_name: &str,
    query: &Query,
) -> Result<Value, AwsError> {
    let (name, _) = parse_function_name(function_name)?;
    let f = function(world, caller, name)?;
    let versions: Vec<Option<&LambdaVersion>> =
        std::iter::once(None).chain(f.versions.iter().map(Some)).collect();
    let (start, end, next) = lambda_page(versions.len(), query)?;
    let items: Vec<Value> = versions[start..end]
        .iter()
        .map(|v| {
            let qualifier = v.map_or(LATEST, |v| v.version.as_str());
            configuration(caller, f, *v, Some(qualifier), false)
        })
        .collect();
    Ok(with_marker(json!({ "Versions": items }), next))
}

fn region<'w>(world: &'w World, caller: &Caller) -> &'w RegionWorld {
    crate::aws::region(world, caller)
}

fn function<'w>(world: &'w World, caller: &Caller, name: &str) -> Result<&'w LambdaFunction, AwsError> {
    region(world, caller).lambda_functions.iter().find(|f| f.name == name).ok_or_else(|| {
        let arn = lambda_function_arn(&caller.region, &caller.account, name, None);
        AwsError {
            status: 404,
            ..AwsError::new("ResourceNotFoundException", format!("Function not found: {arn}"))
        }
    })
}

/// The name and qualifier in a `FunctionName`: `name`, `name:qualifier`,
/// `<acct>:function:name[:qualifier]` or `arn:aws:lambda:<region>:<acct>:function:name[:qualifier]`.
fn parse_function_name(input: &str) -> Result<(&str, Option<&str>), AwsError> {
    let parts: Vec<&str> = input.split(':').collect();
    let rest = match parts.as_slice() {
        ["arn", _, "lambda", _, _, "function", rest @ ..] => rest,
        [_, "function", rest @ ..] => rest,
        rest => rest,
    };
    match rest {
        [name] if !name.is_empty() => Ok((name, None)),
        [name, qualifier] if !name.is_empty() && !qualifier.is_empty() => Ok((name, Some(qualifier))),
        _ => Err(validation(
            "functionName",
            input,
            "Member must satisfy regular expression pattern: \
             (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?\
             ([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
        )),
    }
}

/// A `ValidationException` as Lambda words it.
fn validation(field: &str, value: &str, constraint: &str) -> AwsError {
    AwsError::new(
        "ValidationException",
        format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"
        ),
    )
}

/// The page of a listing of `total` items `Marker` and `MaxItems` ask for, and the
/// next marker.
fn lambda_page(total: usize, query: &Query) -> Result<(usize, usize, Option<String>), AwsError> {
    let max_items = match query.get("MaxItems") {
        None => None,
        Some(raw) => {
            let n: i64 = raw.parse().map_err(|_| {
                AwsError::new("InvalidParameterValueException", format!("Invalid MaxItems: {raw}"))
            })?;
            if n < 1 {
                return Err(validation("maxItems", raw, "Member must have value greater than or equal to 1"));
            }
            if n > MAX_ITEMS {
                return Err(validation(
                    "maxItems",
                    raw,
                    &format!("Member must have value less than or equal to {MAX_ITEMS}"),
                ));
            }
            Some(n.min(PAGE_CAP as i64))
        }
    };
    let rule = PageRule { default: PAGE_CAP, max: PAGE_CAP };
    let p = page(total, query.get("Marker").map(String::as_str), max_items, rule)
        .map_err(|_| AwsError::new("InvalidParameterValueException", "Invalid marker"))?;
    Ok((p.start, p.end, p.next_token))
}

fn with_marker(mut out: Value, next: Option<String>) -> Value {
    if let Some(marker) = next {
        out["NextMarker"] = json!(marker);
    }
    out
}

/// Lambda's `LastModified`: `2024-05-01T12:00:00.000+0000`.
fn last_modified(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string()
}

/// A stable UUID-shaped revision id derived from `seed`.
fn revision_id(seed: &str) -> String {
    let h = hex_id(seed, 32);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// A `FunctionConfiguration` of `$LATEST` (`version` None) or a published version.
/// `qualifier` is what the ARN carries; `full` adds the fields only GetFunction has.
fn configuration(
    caller: &Caller,
    f: &LambdaFunction,
    version: Option<&LambdaVersion>,
    qualifier: Option<&str>,
    full: bool,
) -> Value {
    let (number, modified, resolved) = match version {
        Some(v) => (v.version.as_str(), &v.last_modified, &v.resolved_image_uri),
        None => (LATEST, &f.last_modified, &f.resolved_image_uri),
    };
    let code_sha = match resolved.as_deref().and_then(|r| r.rsplit_once("@sha256:")) {
        Some((_, hex)) => hex.to_owned(),
        None => hex_id(&format!("lambda-zip:{}:{number}", f.name), 64),
    };
    let mut config = json!({
        "FunctionName": f.name,
        "FunctionArn": lambda_function_arn(&caller.region, &caller.account, &f.name, qualifier),
        "Role": format!("arn:aws:iam::{}:role/{}-role", caller.account, f.name),
        "CodeSize": if f.package_type == "Image" { 0 } else { 1024 },
        "Description": "",
        "Timeout": 3,
        "MemorySize": 128,
        "LastModified": last_modified(modified),
        "CodeSha256": code_sha,
        "Version": number,
        "TracingConfig": { "Mode": "PassThrough" },
        "RevisionId": revision_id(&format!("function:{}:{number}:{}", f.name, modified.timestamp_millis())),
        "PackageType": f.package_type,
        "Architectures": ["x86_64"],
        "EphemeralStorage": { "Size": 512 },
    });
    if let Some(runtime) = &f.runtime {
        config["Runtime"] = json!(runtime);
        config["Handler"] = json!("index.handler");
    }
    if full {
        config["State"] = json!("Active");
        config["LastUpdateStatus"] = json!("Successful");
    }
    config
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn function_names_may_be_arns_with_qualifiers() {
        assert_eq!(parse_function_name("api").unwrap(), ("api", None));
        assert_eq!(parse_function_name("api:live").unwrap(), ("api", Some("live")));
        let arn = "arn:aws:lambda:us-east-1:111111111111:function:api:3";
        assert_eq!(parse_function_name(arn).unwrap(), ("api", Some("3")));
        assert_eq!(parse_function_name("111111111111:function:api").unwrap(), ("api", None));
        assert!(parse_function_name("a:b:c:d").is_err());
        assert!(parse_function_name("").is_err());
    }

    #[test]
    fn last_modified_has_lambdas_format() {
        let t = DateTime::parse_from_rfc3339("2024-05-01T12:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(last_modified(&t), "2024-05-01T12:00:00.000+0000");
    }
}
