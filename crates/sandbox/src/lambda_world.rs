//! The Lambda part of the world: functions with their published versions and aliases
//! (per account and region, [`RegionWorld`](crate::world::RegionWorld)), and how a
//! function's ARN is derived.
//!
//! Re-exported from [`world`](crate::world).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A Lambda function: its `$LATEST` configuration, published versions and aliases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LambdaFunction {
    /// Function name.
    pub name: String,
    /// Runtime such as `python3.12`; `None` for container-image functions.
    #[serde(default)]
    pub runtime: Option<String>,
    /// `Image` or `Zip`.
    pub package_type: String,
    /// When `$LATEST` was last changed.
    pub last_modified: DateTime<Utc>,
    /// `$LATEST`'s image as configured (a tag or digest reference); Image functions only.
    #[serde(default)]
    pub image_uri: Option<String>,
    /// `$LATEST`'s image pinned by digest, `<registry>/<repo>@sha256:...`; Image functions only.
    #[serde(default)]
    pub resolved_image_uri: Option<String>,
    /// Published versions, oldest first.
    #[serde(default)]
    pub versions: Vec<LambdaVersion>,
    /// Aliases.
    #[serde(default)]
    pub aliases: Vec<LambdaAlias>,
}

/// A published (immutable) version of a Lambda function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LambdaVersion {
    /// Version number: `"1"`, `"2"`, ...
    pub version: String,
    /// The image as configured when the version was published.
    #[serde(default)]
    pub image_uri: Option<String>,
    /// The image pinned by digest.
    #[serde(default)]
    pub resolved_image_uri: Option<String>,
    /// When the version was published.
    pub last_modified: DateTime<Utc>,
}

/// A Lambda alias: a name for a version, optionally splitting traffic with others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LambdaAlias {
    /// Alias name, e.g. `live`.
    pub name: String,
    /// The version it points to (`"3"`, or `"$LATEST"`).
    pub function_version: String,
    /// Weighted routing: other version -> share of traffic (0.0..1.0).
    #[serde(default)]
    pub additional_version_weights: BTreeMap<String, f64>,
}

impl LambdaFunction {
    /// A container-image function whose `$LATEST` runs `image_uri` (as configured)
    /// resolved to `resolved_image_uri` (`<registry>/<repo>@sha256:...`), changed now.
    pub fn image(name: &str, image_uri: &str, resolved_image_uri: &str) -> Self {
        LambdaFunction {
            name: name.to_owned(),
            runtime: None,
            package_type: "Image".to_owned(),
            last_modified: Utc::now(),
            image_uri: Some(image_uri.to_owned()),
            resolved_image_uri: Some(resolved_image_uri.to_owned()),
            versions: Vec::new(),
            aliases: Vec::new(),
        }
    }

    /// A `.zip` function on `runtime` (e.g. `python3.12`), changed now.
    pub fn zip(name: &str, runtime: &str) -> Self {
        LambdaFunction {
            name: name.to_owned(),
            runtime: Some(runtime.to_owned()),
            package_type: "Zip".to_owned(),
            last_modified: Utc::now(),
            image_uri: None,
            resolved_image_uri: None,
            versions: Vec::new(),
            aliases: Vec::new(),
        }
    }

    /// The same function with the next version published, running `image_uri`
    /// resolved to `resolved_image_uri` (pass empty strings for a Zip function).
    pub fn with_version(mut self, image_uri: &str, resolved_image_uri: &str) -> Self {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        self.versions.push(LambdaVersion {
            version: (self.versions.len() + 1).to_string(),
            image_uri: some(image_uri),
            resolved_image_uri: some(resolved_image_uri),
            last_modified: self.last_modified,
        });
        self
    }

    /// The same function with alias `name` pointing at `version`.
    pub fn with_alias(mut self, name: &str, version: &str) -> Self {
        self.aliases.push(LambdaAlias {
            name: name.to_owned(),
            function_version: version.to_owned(),
            additional_version_weights: BTreeMap::new(),
        });
        self
    }

    /// The same function with alias `name` sending `1 - weight` of the traffic to
    /// `version` and `weight` to `other_version` (a canary).
    pub fn with_weighted_alias(
        mut self,
        name: &str,
        version: &str,
        other_version: &str,
        weight: f64,
    ) -> Self {
        self.aliases.push(LambdaAlias {
            name: name.to_owned(),
            function_version: version.to_owned(),
            additional_version_weights: BTreeMap::from([(other_version.to_owned(), weight)]),
        });
        self
    }
}

/// `arn:aws:lambda:<region>:<acct>:function:<name>`; with a qualifier (a version or
/// an alias) `...:function:<name>:<qualifier>`.
pub fn lambda_function_arn(region: &str, account: &str, name: &str, qualifier: Option<&str>) -> String {
    match qualifier {
        Some(q) => format!("arn:aws:lambda:{region}:{account}:function:{name}:{q}"),
        None => format!("arn:aws:lambda:{region}:{account}:function:{name}"),
    }
}
