//! TLS between `skyglue worker` processes and a coordinator, with
//! certificates made here (rcgen): a worker with `[cluster] tls` cert/key
//! serves TLS that a coordinator checks against `ca`; with `ca` on the worker
//! too it requires a client certificate `ca` signed (mutual TLS). A
//! coordinator that trusts another CA, or presents no certificate or one of
//! another CA, or does not speak TLS, fails naming the worker. Workers come
//! in pairs: with one, the planner keeps a stage of one task on the coordinator.

use std::path::Path;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use skyglue_sandbox::{Sandbox, SandboxConfig};

use crate::distributed::many_accounts;
use crate::distributed_loopback::Site;

const QUERY: &str = "SELECT repository_name FROM aws_ecr_repository ORDER BY repository_name";

/// A CA, as `NAME-ca.pem`, and a certificate it signs for 127.0.0.1 and
/// localhost, as `NAME.pem` and `NAME.key`, in `dir`.
fn pki(dir: &Path, name: &str) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, format!("{name} test CA"));
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut node = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    node.distinguished_name.push(DnType::CommonName, format!("{name} node"));
    let node = node.signed_by(&key, &*ca).unwrap();
    std::fs::write(dir.join(format!("{name}-ca.pem")), ca.pem()).unwrap();
    std::fs::write(dir.join(format!("{name}.pem")), node.pem()).unwrap();
    std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
}

/// Sets the site's `[cluster]` table (the `[[aws]]` entries stay).
fn set_cluster(site: &Site, aws: &str, cluster: &str) {
    std::fs::write(site.dir.path().join("skyglue.toml"), format!("[cluster]\n{cluster}\n\n{aws}")).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_and_mutual_tls_round_trip_and_a_coordinator_outside_the_ca_is_refused() {
    let world = many_accounts(3);
    let sandbox = Sandbox::start(world.clone(), SandboxConfig::default()).await.unwrap();
    let site = Site::new(&sandbox, &world);
    let aws = std::fs::read_to_string(site.dir.path().join("skyglue.toml")).unwrap();
    pki(site.dir.path(), "team");
    pki(site.dir.path(), "stranger");
    let alone = site.run(&["query", QUERY, "--format", "ndjson"]);
    assert!(alone.status.success(), "{}", String::from_utf8_lossy(&alone.stderr));

    // A worker serving TLS, and one requiring client certificates too.
    set_cluster(&site, &aws, r#"tls = { cert = "team.pem", key = "team.key" }"#);
    let tls_pair = [site.worker(), site.worker()];
    set_cluster(&site, &aws, r#"tls = { cert = "team.pem", key = "team.key", ca = "team-ca.pem" }"#);
    let mutual_pair = [site.worker(), site.worker()];
    let tls = format!("{},{}", tls_pair[0].address, tls_pair[1].address);
    let mutual = format!("{},{}", mutual_pair[0].address, mutual_pair[1].address);

    let query = |workers: &str| site.run(&["query", QUERY, "--format", "ndjson", "--workers", workers]);
    // The coordinator checks workers against team-ca and presents team.pem.
    for workers in [&tls, &mutual] {
        let out = query(workers);
        assert!(out.status.success(), "{workers}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.stdout, alone.stdout, "{workers}: other rows over TLS");
    }
    // Server-only TLS: a coordinator without a certificate reaches the first worker only.
    set_cluster(&site, &aws, r#"tls = { ca = "team-ca.pem" }"#);
    let out = query(&tls);
    assert!(out.status.success(), "server-only TLS: {}", String::from_utf8_lossy(&out.stderr));

    let refusals = [
        ("no client certificate", r#"tls = { ca = "team-ca.pem" }"#, &mutual),
        (
            "a client certificate of another CA",
            r#"tls = { cert = "stranger.pem", key = "stranger.key", ca = "team-ca.pem" }"#,
            &mutual,
        ),
        (
            "a coordinator trusting another CA",
            r#"tls = { cert = "team.pem", key = "team.key", ca = "stranger-ca.pem" }"#,
            &tls,
        ),
        ("no TLS at all", r#"workers = []"#, &tls),
    ];
    for (case, cluster, workers) in refusals {
        set_cluster(&site, &aws, cluster);
        let out = query(workers);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{case}: {stderr}");
        let named = workers.split(',').any(|w| stderr.contains(&format!("worker {w} failed")));
        assert!(named, "{case}: the error does not name a worker of {workers}: {stderr}");
    }
}
