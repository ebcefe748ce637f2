//! Lambda (REST-JSON): paging with Marker/MaxItems, GetFunction by version, alias and
//! ARN, aliases and versions, errors, faults and throttling.

use serde_json::{Value, json};
use skyglue_sandbox::world::{LambdaFunction, RegionWorld};
use skyglue_sandbox::{Fault, Sandbox, SandboxConfig};

use crate::client::{PROD_KEY, Resp, lambda, rest_as};
use crate::worlds::{prod_world, start};

const REPO: &str = "111111111111.dkr.ecr.us-east-1.amazonaws.com/web";

fn digest(n: u32) -> String {
    format!("sha256:{n:064x}")
}

fn resolved(n: u32) -> String {
    format!("{REPO}@{}", digest(n))
}

/// `n` image functions `f000`, `f001`, ... plus the zip function `zip-fn`.
fn many_functions(n: u32) -> RegionWorld {
    let mut region = RegionWorld::new("us-east-1");
    for i in 0..n {
        region = region.with_lambda(LambdaFunction::image(
            &format!("f{i:03}"),
            &format!("{REPO}:v{i}"),
            &resolved(i),
        ));
    }
    region.with_lambda(LambdaFunction::zip("zip-fn", "python3.12"))
}

/// `api`: $LATEST on v4, versions 1..=3 (v1..v3), alias `live` -> 3 with 10% on 2,
/// alias `old` -> 1.
fn api_world() -> RegionWorld {
    let api = LambdaFunction::image("api", &format!("{REPO}:v4"), &resolved(4))
        .with_version(&format!("{REPO}:v1"), &resolved(1))
        .with_version(&format!("{REPO}:v2"), &resolved(2))
        .with_version(&resolved(3), &resolved(3))
        .with_weighted_alias("live", "3", "2", 0.1)
        .with_alias("old", "1");
    RegionWorld::new("us-east-1").with_lambda(api).with_lambda(LambdaFunction::zip("zip-fn", "nodejs20.x"))
}

fn ok(r: Resp) -> Value {
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

fn names(out: &Value, field: &str) -> Vec<String> {
    out[field].as_array().unwrap().iter().map(|f| f["FunctionName"].as_str().unwrap().to_owned()).collect()
}

/// Walks ListFunctions with `extra` query parameters; returns the page sizes.
async fn walk_functions(sb: &Sandbox, extra: &str) -> (Vec<usize>, Vec<String>) {
    let (mut sizes, mut all) = (Vec::new(), Vec::new());
    let mut marker: Option<String> = None;
    loop {
        let mut path = format!("/2015-03-31/functions/?{extra}");
        if let Some(m) = &marker {
            path.push_str(&format!("&Marker={m}"));
        }
        let out = ok(lambda(sb, &path).await);
        let page = names(&out, "Functions");
        sizes.push(page.len());
        all.extend(page);
        match out.get("NextMarker").and_then(Value::as_str) {
            Some(m) => marker = Some(m.to_owned()),
            None => return (sizes, all),
        }
    }
}

#[tokio::test]
async fn list_functions_pages_by_50_and_caps_max_items_at_50() {
    let sb = start(prod_world(many_functions(119))).await;
    let (sizes, all) = walk_functions(&sb, "").await;
    assert_eq!(sizes, [50, 50, 20]);
    assert_eq!(all.len(), 120);
    assert_eq!(all[0], "f000");
    assert_eq!(all[119], "zip-fn");
    let (sizes, _) = walk_functions(&sb, "MaxItems=7").await;
    assert_eq!(sizes.len(), 18);
    assert!(sizes[..17].iter().all(|&n| n == 7));
    // The model allows up to 10000, but a page never holds more than 50.
    let (sizes, _) = walk_functions(&sb, "MaxItems=51").await;
    assert_eq!(sizes, [50, 50, 20]);
    let (sizes, _) = walk_functions(&sb, "MaxItems=10000").await;
    assert_eq!(sizes, [50, 50, 20]);
    assert_eq!(sb.calls().get("lambda:ListFunctions"), Some(&(3 + 18 + 3 + 3)));
}

#[tokio::test]
async fn list_functions_rejects_bad_max_items_and_markers() {
    let sb = start(prod_world(many_functions(3))).await;
    for max in ["0", "10001", "-1"] {
        let r = lambda(&sb, &format!("/2015-03-31/functions/?MaxItems={max}")).await;
        assert_eq!((r.status, r.error_type()), (400, "ValidationException".into()), "MaxItems={max}");
        assert_eq!(r.header("x-amzn-errortype"), Some("ValidationException"));
        assert_eq!(r.json()["Type"], "User");
        assert!(r.json()["message"].as_str().unwrap().contains("'maxItems'"));
    }
    let r = lambda(&sb, "/2015-03-31/functions/?Marker=garbage").await;
    assert_eq!((r.status, r.error_type()), (400, "InvalidParameterValueException".into()));
}

#[tokio::test]
async fn list_functions_returns_configurations_without_code() {
    let sb = start(prod_world(api_world())).await;
    // The Rust SDK asks for `/2015-03-31/functions` (no trailing slash).
    let out = ok(lambda(&sb, "/2015-03-31/functions").await);
    assert!(out.get("NextMarker").is_none());
    let api = &out["Functions"][0];
    assert_eq!(api["FunctionName"], "api");
    assert_eq!(api["FunctionArn"], "arn:aws:lambda:us-east-1:111111111111:function:api");
    assert_eq!(api["PackageType"], "Image");
    assert_eq!(api["Version"], "$LATEST");
    assert!(api.get("Runtime").is_none());
    assert!(api.get("State").is_none(), "ListFunctions omits State");
    assert!(api.get("Code").is_none() && api.get("ImageUri").is_none());
    let modified = api["LastModified"].as_str().unwrap();
    assert_eq!(modified.len(), "2024-05-01T12:00:00.000+0000".len(), "{modified}");
    assert!(modified.ends_with("+0000"), "{modified}");
    assert_eq!(api["CodeSha256"], format!("{:064x}", 4));
    let zip = &out["Functions"][1];
    assert_eq!((zip["PackageType"].clone(), zip["Runtime"].clone()), (json!("Zip"), json!("nodejs20.x")));
    // FunctionVersion=ALL adds every published version.
    let all = ok(lambda(&sb, "/2015-03-31/functions/?FunctionVersion=ALL").await);
    let versions: Vec<&str> =
        all["Functions"].as_array().unwrap().iter().map(|f| f["Version"].as_str().unwrap()).collect();
    assert_eq!(versions, ["$LATEST", "1", "2", "3", "$LATEST"]);
    assert_eq!(all["Functions"][2]["FunctionArn"], "arn:aws:lambda:us-east-1:111111111111:function:api:2");
    // Another region of the same account has none.
    let r = rest_as(&sb, PROD_KEY, "eu-west-1", "lambda", "GET", "/2015-03-31/functions/", "").await;
    assert_eq!(r.json()["Functions"], json!([]));
}

#[tokio::test]
async fn get_function_resolves_versions_aliases_and_arns() {
    let sb = start(prod_world(api_world())).await;
    let latest = ok(lambda(&sb, "/2015-03-31/functions/api").await);
    assert_eq!(latest["Configuration"]["Version"], "$LATEST");
    assert_eq!(latest["Configuration"]["FunctionArn"], "arn:aws:lambda:us-east-1:111111111111:function:api");
    assert_eq!(latest["Configuration"]["State"], "Active");
    assert_eq!(
        latest["Code"],
        json!({"RepositoryType": "ECR", "ImageUri": format!("{REPO}:v4"), "ResolvedImageUri": resolved(4)})
    );
    let v2 = ok(lambda(&sb, "/2015-03-31/functions/api?Qualifier=2").await);
    assert_eq!(v2["Configuration"]["Version"], "2");
    assert_eq!(v2["Configuration"]["FunctionArn"], "arn:aws:lambda:us-east-1:111111111111:function:api:2");
    assert_eq!(v2["Code"]["ImageUri"], format!("{REPO}:v2"));
    let live = ok(lambda(&sb, "/2015-03-31/functions/api?Qualifier=live").await);
    assert_eq!(live["Configuration"]["Version"], "3");
    assert_eq!(
        live["Configuration"]["FunctionArn"],
        "arn:aws:lambda:us-east-1:111111111111:function:api:live"
    );
    assert_eq!(live["Code"]["ImageUri"], resolved(3), "configured by digest");
    let explicit = ok(lambda(&sb, "/2015-03-31/functions/api?Qualifier=%24LATEST").await);
    assert_eq!(explicit["Configuration"]["Version"], "$LATEST");
    // A (percent-encoded) ARN, with its own qualifier, as the SDK sends it.
    let arn = "arn%3Aaws%3Alambda%3Aus-east-1%3A111111111111%3Afunction%3Aapi%3Aold";
    let old = ok(lambda(&sb, &format!("/2015-03-31/functions/{arn}")).await);
    assert_eq!(old["Configuration"]["Version"], "1");
    let zip = ok(lambda(&sb, "/2015-03-31/functions/zip-fn").await);
    assert_eq!(zip["Code"]["RepositoryType"], "S3");
    assert!(zip["Code"]["Location"].as_str().unwrap().starts_with("https://"));
    assert_eq!(sb.calls().get("lambda:GetFunction"), Some(&6));
}

#[tokio::test]
async fn unknown_functions_and_qualifiers_are_404() {
    let sb = start(prod_world(api_world())).await;
    for path in [
        "/2015-03-31/functions/nope",
        "/2015-03-31/functions/api?Qualifier=9",
        "/2015-03-31/functions/api?Qualifier=canary",
        "/2015-03-31/functions/nope/aliases",
        "/2015-03-31/functions/nope/versions",
    ] {
        let r = lambda(&sb, path).await;
        assert_eq!((r.status, r.error_type()), (404, "ResourceNotFoundException".into()), "{path}");
        assert_eq!(r.header("x-amzn-errortype"), Some("ResourceNotFoundException"));
        assert!(r.json()["message"].as_str().unwrap().starts_with("Function not found: arn:aws:lambda:"));
    }
    let r = lambda(&sb, "/2015-03-31/functions/api?Qualifier=9").await;
    assert_eq!(
        r.json()["message"],
        "Function not found: arn:aws:lambda:us-east-1:111111111111:function:api:9"
    );
}

#[tokio::test]
async fn aliases_carry_routing_config_and_filter_by_version() {
    let sb = start(prod_world(api_world())).await;
    let out = ok(lambda(&sb, "/2015-03-31/functions/api/aliases").await);
    let aliases = out["Aliases"].as_array().unwrap();
    assert_eq!(aliases.len(), 2);
    let live = &aliases[0];
    assert_eq!(live["AliasArn"], "arn:aws:lambda:us-east-1:111111111111:function:api:live");
    assert_eq!((live["Name"].clone(), live["FunctionVersion"].clone()), (json!("live"), json!("3")));
    assert_eq!(live["RoutingConfig"], json!({"AdditionalVersionWeights": {"2": 0.1}}));
    assert!(live["RevisionId"].as_str().unwrap().len() == 36);
    assert!(aliases[1].get("RoutingConfig").is_none());
    let only_1 = ok(lambda(&sb, "/2015-03-31/functions/api/aliases?FunctionVersion=1").await);
    assert_eq!(only_1["Aliases"].as_array().unwrap().len(), 1);
    assert_eq!(only_1["Aliases"][0]["Name"], "old");
    let paged = ok(lambda(&sb, "/2015-03-31/functions/api/aliases?MaxItems=1").await);
    let marker = paged["NextMarker"].as_str().unwrap().to_owned();
    let rest =
        ok(lambda(&sb, &format!("/2015-03-31/functions/api/aliases?MaxItems=1&Marker={marker}")).await);
    assert_eq!(rest["Aliases"][0]["Name"], "old");
    assert!(rest.get("NextMarker").is_none());
    assert_eq!(sb.calls().get("lambda:ListAliases"), Some(&4));
}

#[tokio::test]
async fn versions_list_latest_first_and_page_by_50() {
    let mut f = LambdaFunction::image("busy", &format!("{REPO}:v0"), &resolved(0));
    for i in 1..=60 {
        f = f.with_version(&format!("{REPO}:v{i}"), &resolved(i));
    }
    let sb = start(prod_world(RegionWorld::new("us-east-1").with_lambda(f))).await;
    let first = ok(lambda(&sb, "/2015-03-31/functions/busy/versions").await);
    let versions = first["Versions"].as_array().unwrap();
    assert_eq!(versions.len(), 50);
    assert_eq!(versions[0]["Version"], "$LATEST");
    assert_eq!(versions[0]["FunctionArn"], "arn:aws:lambda:us-east-1:111111111111:function:busy:$LATEST");
    assert_eq!(versions[1]["Version"], "1");
    assert_eq!(versions[1]["CodeSha256"], format!("{:064x}", 1));
    let marker = first["NextMarker"].as_str().unwrap();
    let second = ok(lambda(&sb, &format!("/2015-03-31/functions/busy/versions?Marker={marker}")).await);
    assert_eq!(second["Versions"].as_array().unwrap().len(), 11);
    assert_eq!(second["Versions"][10]["Version"], "60");
    assert!(second.get("NextMarker").is_none());
    assert_eq!(sb.calls().get("lambda:ListVersionsByFunction"), Some(&2));
}

#[tokio::test]
async fn faults_and_throttles_answer_in_rest_json() {
    let config = SandboxConfig {
        faults: vec![
            Fault::nth_call("lambda:ListFunctions", 1).error(429, "TooManyRequestsException"),
            Fault::nth_call("lambda:GetFunction", 1),
        ],
        ..SandboxConfig::default()
    };
    let sb = Sandbox::start(prod_world(api_world()), config).await.unwrap();
    let r = lambda(&sb, "/2015-03-31/functions/").await;
    assert_eq!((r.status, r.error_type()), (429, "TooManyRequestsException".into()));
    assert_eq!(r.header("x-amzn-errortype"), Some("TooManyRequestsException"));
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(r.json()["Reason"], "CallerRateLimitExceeded");
    assert_eq!(r.json()["message"], "Injected fault");
    assert_eq!(lambda(&sb, "/2015-03-31/functions/").await.status, 200);
    let r = lambda(&sb, "/2015-03-31/functions/api").await;
    assert_eq!((r.status, r.error_type()), (500, "ServerException".into()));
    assert_eq!(r.json()["Type"], "Service");
    assert_eq!(sb.calls().get("lambda:ListFunctions"), Some(&2));

    let config = SandboxConfig { lambda_rate_per_sec: Some(2.0), ..SandboxConfig::default() };
    let sb = Sandbox::start(prod_world(api_world()), config).await.unwrap();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(lambda(&sb, "/2015-03-31/functions/api/aliases").await.status);
    }
    assert_eq!(statuses, [200, 200, 429]);
    assert_eq!(sb.throttled_calls().get("lambda:ListAliases"), Some(&1));
}
