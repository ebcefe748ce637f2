//! AWS STS over the awsQuery protocol (form-encoded `Action=...`, XML answers):
//! AssumeRole and GetCallerIdentity.
//!
//! Like moto, AssumeRole hands out credentials of the role's account: the returned
//! access key id is that account's key, so later calls signed with it act there.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{Duration, SecondsFormat, Utc};

use crate::aws::{AwsError, Caller};
use crate::s3_xml::escape;
use crate::world::World;

const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// Decodes an `application/x-www-form-urlencoded` body.
pub(crate) fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// Answers one STS action.
pub(crate) fn handle(
    world: &World,
    caller: &Caller,
    action: &str,
    form: &[(String, String)],
) -> Result<String, AwsError> {
    let param = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    match action {
        "GetCallerIdentity" => Ok(format!(
            "<GetCallerIdentityResponse xmlns=\"{XMLNS}\"><GetCallerIdentityResult>\
             <Arn>arn:aws:iam::{acct}:user/sandbox</Arn><UserId>AIDASANDBOX{acct}</UserId>\
             <Account>{acct}</Account></GetCallerIdentityResult>\
             <ResponseMetadata><RequestId>sandbox</RequestId></ResponseMetadata>\
             </GetCallerIdentityResponse>",
            acct = caller.account
        )),
        "AssumeRole" => {
            let role_arn = param("RoleArn").unwrap_or_default();
            let session = param("RoleSessionName").unwrap_or("sandbox");
            let role_account = role_arn.split(':').nth(4).unwrap_or_default();
            let role_name = role_arn.rsplit('/').next().unwrap_or_default();
            let account = world
                .accounts
                .iter()
                .find(|a| a.id == role_account && role_arn.starts_with("arn:aws:iam::"))
                .ok_or_else(|| AwsError {
                    status: 403,
                    code: "AccessDenied".to_owned(),
                    message: format!(
                        "User: arn:aws:iam::{}:user/sandbox is not authorized to perform: \
                         sts:AssumeRole on resource: {role_arn}",
                        caller.account
                    ),
                })?;
            let expiration = (Utc::now() + Duration::hours(1)).to_rfc3339_opts(SecondsFormat::Secs, true);
            Ok(format!(
                "<AssumeRoleResponse xmlns=\"{XMLNS}\"><AssumeRoleResult>\
                 <AssumedRoleUser><AssumedRoleId>AROASANDBOX:{session}</AssumedRoleId>\
                 <Arn>arn:aws:sts::{acct}:assumed-role/{role}/{session}</Arn></AssumedRoleUser>\
                 <Credentials><AccessKeyId>{key}</AccessKeyId><SecretAccessKey>sandbox</SecretAccessKey>\
                 <SessionToken>sandbox-session-{acct}</SessionToken><Expiration>{expiration}</Expiration>\
                 </Credentials></AssumeRoleResult>\
                 <ResponseMetadata><RequestId>sandbox</RequestId></ResponseMetadata></AssumeRoleResponse>",
                acct = account.id,
                role = escape(role_name),
                session = escape(session),
                key = escape(&account.access_key_id),
            ))
        }
        _ => Err(AwsError::new("InvalidAction", format!("the sandbox does not implement STS {action}"))),
    }
}

/// A successful XML answer.
pub(crate) fn xml_response(body: String) -> Response {
    ([("content-type", "text/xml")], body).into_response()
}

/// The awsQuery error form: `<ErrorResponse><Error><Code>..</Code>..`.
pub(crate) fn xml_error(e: AwsError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let kind = if e.status >= 500 { "Receiver" } else { "Sender" };
    let body = format!(
        "<ErrorResponse xmlns=\"{XMLNS}\"><Error><Type>{kind}</Type><Code>{}</Code>\
         <Message>{}</Message></Error><RequestId>sandbox</RequestId></ErrorResponse>",
        escape(&e.code),
        escape(&e.message)
    );
    (status, [("content-type", "text/xml")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_decode() {
        let form = parse_form(b"Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx&A=b+c");
        assert_eq!(form[1].1, "arn:aws:iam::1:role/x");
        assert_eq!(form[2].1, "b c");
    }
}
