//! STS over awsQuery: AssumeRole maps to the role's account; GetCallerIdentity.

use serde_json::json;
use skyglue_sandbox::World;

use crate::client::{PROD_KEY, Resp, auth, aws_as, request};
use crate::worlds::start;

async fn sts(sb: &skyglue_sandbox::Sandbox, key: &str, form: &str) -> Resp {
    let headers = [
        ("Content-Type", "application/x-www-form-urlencoded".to_owned()),
        ("Authorization", auth(key, "us-east-1", "sts")),
    ];
    request(sb.local_addr(), "POST", "/", &headers, form).await
}

fn xml_value(xml: &str, tag: &str) -> String {
    let start = xml.find(&format!("<{tag}>")).unwrap() + tag.len() + 2;
    let end = xml[start..].find(&format!("</{tag}>")).unwrap() + start;
    xml[start..end].to_owned()
}

#[tokio::test]
async fn assume_role_returns_the_role_accounts_credentials() {
    let sb = start(World::demo()).await;
    let role = "arn%3Aaws%3Aiam%3A%3A222222222222%3Arole%2Fskyglue-read";
    let form = format!("Action=AssumeRole&Version=2011-06-15&RoleArn={role}&RoleSessionName=skyglue");
    let r = sts(&sb, PROD_KEY, &form).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.starts_with("<AssumeRoleResponse"));
    let key = xml_value(&r.body, "AccessKeyId");
    assert_eq!(key, "SANDBOX222222222222");
    assert!(xml_value(&r.body, "Expiration").ends_with('Z'));
    assert_eq!(xml_value(&r.body, "Arn"), "arn:aws:sts::222222222222:assumed-role/skyglue-read/skyglue");

    let who = sts(&sb, &key, "Action=GetCallerIdentity&Version=2011-06-15").await;
    assert_eq!(xml_value(&who.body, "Account"), "222222222222");
    // The assumed credentials see the staging account's clusters.
    let clusters = aws_as(&sb, &key, "us-east-1", "ecs:ListClusters", json!({})).await.json();
    assert_eq!(clusters["clusterArns"], json!(["arn:aws:ecs:us-east-1:222222222222:cluster/staging"]));
    assert_eq!(sb.calls().get("sts:AssumeRole"), Some(&1));
}

#[tokio::test]
async fn assume_role_into_an_unknown_account_is_denied() {
    let sb = start(World::demo()).await;
    let form = "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A999999999999%3Arole%2Fx&RoleSessionName=s";
    let r = sts(&sb, PROD_KEY, form).await;
    assert_eq!(r.status, 403);
    assert_eq!(xml_value(&r.body, "Code"), "AccessDenied");
}
