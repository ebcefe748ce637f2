//! `image_ref(uri)`: parses a container image reference into its parts.
//!
//! ```sql
//! SELECT image_ref('111111111111.dkr.ecr.us-east-1.amazonaws.com/web:abc1234')['repository_name'];
//! ```
//!
//! The struct has `registry, registry_id, region, repository_name, tag, digest`.
//! `registry_id` and `region` are set only for ECR registries; `tag` defaults to
//! `latest` only when the reference has neither tag nor digest. Docker Hub
//! short names are normalised as Docker does (`nginx` is
//! `docker.io/library/nginx:latest`).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, StringArray, StringViewBuilder, StructArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

/// A parsed image reference.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageRef {
    /// Registry host, e.g. `111111111111.dkr.ecr.us-east-1.amazonaws.com`.
    pub registry: String,
    /// ECR registry (account) id.
    pub registry_id: Option<String>,
    /// ECR region.
    pub region: Option<String>,
    /// Repository path within the registry.
    pub repository_name: String,
    /// Tag, if any (`latest` when neither tag nor digest is given).
    pub tag: Option<String>,
    /// Digest (`sha256:...`), if pinned.
    pub digest: Option<String>,
}

/// Parses `uri`; `None` for an empty string.
pub fn parse_image_ref(uri: &str) -> Option<ImageRef> {
    let uri = uri.trim();
    if uri.is_empty() {
        return None;
    }
    let (name, digest) = match uri.split_once('@') {
        Some((n, d)) => (n, Some(d.to_string())),
        None => (uri, None),
    };
    // A tag is after the last ':' of the last path component (a ':' before it is a port).
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name[last_slash..].rfind(':') {
        Some(i) => (&name[..last_slash + i], Some(name[last_slash + i + 1..].to_string())),
        None => (name, None),
    };
    let (registry, repository) = match name.split_once('/') {
        Some((first, rest)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            (first.to_string(), rest.to_string())
        }
        _ => {
            let repo = if name.contains('/') { name.to_string() } else { format!("library/{name}") };
            ("docker.io".to_string(), repo)
        }
    };
    let tag = match (tag, &digest) {
        (None, None) => Some("latest".to_string()),
        (t, _) => t,
    };
    let (registry_id, region) = ecr_parts(&registry);
    Some(ImageRef { registry, registry_id, region, repository_name: repository, tag, digest })
}

/// `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]` → account and region.
fn ecr_parts(registry: &str) -> (Option<String>, Option<String>) {
    let parts: Vec<&str> = registry.split('.').collect();
    let is_ecr = parts.len() >= 6
        && parts[0].len() == 12
        && parts[0].bytes().all(|b| b.is_ascii_digit())
        && parts[1] == "dkr"
        && parts[2].starts_with("ecr")
        && parts[4] == "amazonaws";
    if is_ecr { (Some(parts[0].to_string()), Some(parts[3].to_string())) } else { (None, None) }
}

/// The struct fields `image_ref` returns.
pub fn image_ref_fields() -> Fields {
    Fields::from(
        ["registry", "registry_id", "region", "repository_name", "tag", "digest"]
            .map(|n| Field::new(n, DataType::Utf8View, true))
            .to_vec(),
    )
}

/// The `image_ref` scalar function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ImageRefUdf {
    signature: Signature,
}

impl Default for ImageRefUdf {
    fn default() -> Self {
        Self {
            signature: Signature::uniform(
                1,
                vec![DataType::Utf8View, DataType::Utf8, DataType::LargeUtf8],
                Volatility::Immutable,
            ),
        }
    }
}

impl ScalarUDFImpl for ImageRefUdf {
    fn name(&self) -> &str {
        "image_ref"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(image_ref_fields()))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = args.args[0].clone().into_array(args.number_rows)?;
        let input = cast(&input, &DataType::Utf8)?;
        let input = input
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| datafusion::error::DataFusionError::Internal("image_ref input".into()))?;
        let mut builders: Vec<StringViewBuilder> = (0..6).map(|_| StringViewBuilder::new()).collect();
        let mut valid = Vec::with_capacity(input.len());
        for i in 0..input.len() {
            let parsed = if input.is_null(i) { None } else { parse_image_ref(input.value(i)) };
            valid.push(parsed.is_some());
            let r = parsed.unwrap_or_default();
            let values =
                [Some(r.registry), r.registry_id, r.region, Some(r.repository_name), r.tag, r.digest];
            for (b, v) in builders.iter_mut().zip(values) {
                b.append_option(v.filter(|_| valid[i]));
            }
        }
        let arrays: Vec<ArrayRef> = builders.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef).collect();
        let array = StructArray::try_new(image_ref_fields(), arrays, Some(valid.into()))?;
        Ok(ColumnarValue::Array(Arc::new(array)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(uri: &str) -> ImageRef {
        parse_image_ref(uri).expect("parses")
    }

    #[test]
    fn ecr_by_tag() {
        let p = r("111111111111.dkr.ecr.us-east-1.amazonaws.com/team/web:abc1234");
        assert_eq!(p.registry_id.as_deref(), Some("111111111111"));
        assert_eq!(p.region.as_deref(), Some("us-east-1"));
        assert_eq!(p.repository_name, "team/web");
        assert_eq!(p.tag.as_deref(), Some("abc1234"));
        assert_eq!(p.digest, None);
    }

    #[test]
    fn ecr_by_digest_has_no_default_tag() {
        let p = r("111111111111.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:00ff");
        assert_eq!(p.tag, None);
        assert_eq!(p.digest.as_deref(), Some("sha256:00ff"));
        assert_eq!(p.region.as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn tag_and_digest() {
        let p = r("111111111111.dkr.ecr.us-east-1.amazonaws.com/web:v1@sha256:aa");
        assert_eq!((p.tag.as_deref(), p.digest.as_deref()), (Some("v1"), Some("sha256:aa")));
    }

    #[test]
    fn docker_hub_and_ports() {
        let p = r("nginx");
        assert_eq!(
            (p.registry.as_str(), p.repository_name.as_str(), p.tag.as_deref()),
            ("docker.io", "library/nginx", Some("latest"))
        );
        assert_eq!(p.registry_id, None);
        let p = r("localhost:5000/app");
        assert_eq!(
            (p.registry.as_str(), p.repository_name.as_str(), p.tag.as_deref()),
            ("localhost:5000", "app", Some("latest"))
        );
        let p = r("ghcr.io/org/app:1.2");
        assert_eq!(
            (p.registry.as_str(), p.repository_name.as_str(), p.tag.as_deref()),
            ("ghcr.io", "org/app", Some("1.2"))
        );
        assert_eq!(parse_image_ref(""), None);
    }
}
