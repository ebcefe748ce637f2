//! The bundled demo world: one CI pipeline's images, the services and tasks that use
//! some of them across two accounts and two regions, and the commits behind them.

use chrono::{DateTime, Duration, Utc};

use serde_json::json;

use crate::ids::hex_id;
use crate::world::{
    Account, COSIGN_SIGNATURE, Cluster, Commit, Container, ContainerDefinition, DOCKER_CONFIG,
    DOCKER_MANIFEST_V2, Deployment, GithubRepo, Image, OCI_IMAGE_INDEX, OCI_IMAGE_MANIFEST, RegionWorld,
    Repository, S3Bucket, SPDX_SBOM, Service, Storage, Task, TaskDefinition, World, access_key_for,
    task_definition_arn,
};

/// The production account (owns the `web` ECR repository in us-east-1).
pub const PROD: &str = "111111111111";
/// The staging account (pulls prod's images cross-account).
pub const STAGING: &str = "222222222222";
/// The demo's S3 bucket of CI build artifacts (prod, us-east-1).
pub const CI_ARTIFACTS_BUCKET: &str = "acme-ci-artifacts";
const WEB: &str = "111111111111.dkr.ecr.us-east-1.amazonaws.com/web";

/// The 40-hex SHA of a demo commit whose short SHA is `short`.
pub fn demo_sha(short: &str) -> String {
    format!("{short}{}", hex_id(short, 40 - short.len()))
}

/// The image digest of a demo image labelled `label` (its short SHA, or e.g. `untagged-old`).
pub fn demo_digest(label: &str) -> String {
    format!("sha256:{}", hex_id(&format!("digest:{label}"), 64))
}

/// The demo commits: (short sha, days ago, message).
const COMMITS: [(&str, i64, &str); 12] = [
    ("aaa0001", 200, "Initial web service"),
    ("aaa0002", 180, "Add health check"),
    ("aaa0003", 150, "Legacy checkout flow"),
    ("aaa0004", 120, "Nightly batch job"),
    ("aaa0005", 100, "Schema migration runner"),
    ("aaa0006", 90, "Pin staging build"),
    ("aaa0007", 75, "Switch to structured logs"),
    ("aaa0008", 60, "Tag builds with the full SHA"),
    ("aaa0009", 45, "Multi-arch build (amd64 + arm64)"),
    ("bbb0010", 20, "New checkout page"),
    ("bbb0011", 10, "Faster image resizing"),
    ("bbb0012", 3, "Dark mode"),
];

impl World {
    /// The bundled demo world, with every time relative to now so the story stays true.
    ///
    /// A CI pipeline builds GitHub repo `acme/web` into ECR repository `web` of account
    /// `111111111111` ("prod") in `us-east-1`, tagging each image with its commit's
    /// 7-character short SHA (`aaa0001` ... `bbb0013`; see [`demo_sha`] and
    /// [`demo_digest`] for the full SHAs and digests). Account `222222222222`
    /// ("staging") and region `eu-west-1` pull those images cross-account/cross-region.
    ///
    /// Images in `prod/us-east-1/web` and why they must stay or may go (age in days):
    /// - `aaa0001` (200): only a STOPPED staging task used it: **deletable**.
    /// - `aaa0002` (180): unused: **deletable**.
    /// - `aaa0003` (150): service `web-legacy` of staging in eu-west-1 (by tag): in use.
    /// - `aaa0004` (120): prod service `web-batch`, scaled to zero: in use.
    /// - `aaa0005` (100): only a running standalone task (`jobs` cluster, prod
    ///   eu-west-1, group `family:web-migrate`): in use.
    /// - `aaa0006` (90): staging service `web-pinned` references it **by digest**
    ///   (`...web@sha256:...`): in use.
    /// - `aaa0007` (75): old deployment of prod service `web`, mid-rollout: in use.
    /// - `aaa0008` (60): tagged with the full 40-char SHA only; unused: **deletable**.
    /// - `aaa0009` (45): a multi-arch image index with two untagged child manifests
    ///   (`aaa0009-amd64`, `aaa0009-arm64`); unused: the index is **deletable**, its
    ///   children fail with `ImageReferencedByManifestList` until the index is gone.
    /// - `aaa0002` and `bbb0011` are signed and carry an SBOM: a cosign
    ///   signature tagged `sha256-<hex>.sig` (labelled `<sha>-sig`) and an
    ///   untagged SPDX SBOM whose OCI `subject` names the image (`<sha>-sbom`),
    ///   pushed a minute after their image. `aaa0002`'s go with it; `bbb0011`'s
    ///   stay with it.
    /// - `dead000` (100): its commit is not on GitHub (force-pushed away); unused.
    /// - `untagged-old` (150): untagged, unused: **deletable**.
    /// - `bbb0010` (20): new deployment of prod service `web` (rollout in progress).
    /// - `bbb0011` (10), also tagged `latest`: prod service `web` in eu-west-1 and
    ///   staging service `web` in us-east-1.
    /// - `bbb0012` (3), `bbb0013` (1, tagged with both short and full SHA) and
    ///   `untagged-recent` (2): unused but recent, so kept.
    ///
    /// Repository `base-images` holds two old non-SHA tags (`bookworm`, `alpine`).
    /// Task definitions: prod us-east-1 `web:1`..`web:12` (1-6 INACTIVE, 7-12 ACTIVE;
    /// revision n runs the nth commit above, 10 = `bbb0010`), `web-batch:1..3`, and
    /// `cron:1..20` (17 INACTIVE) on a non-ECR busybox image; smaller families elsewhere.
    ///
    /// S3: prod's versioned bucket [`CI_ARTIFACTS_BUCKET`] in us-east-1 (lifecycle:
    /// noncurrent versions under `builds/` expire after 30 days) holds 76 keys
    /// `builds/<branch>/<n>/app.tar.gz`, 40-100 MB each: `main` 1..=48 (120 days old
    /// down to 1; 47 and 48 were rebuilt, so each has an older noncurrent version),
    /// `release-1.4` 1..=12 (95 down to 62 days), `dark-mode` 1..=10 (21 down to 3
    /// days) and `fix-footer` 1..=6 (110 down to 100 days; build 6 was deleted, so its
    /// current version is a delete marker): 75 listed objects, 79 versions and markers.
    pub fn demo() -> World {
        let now = Utc::now();
        let ago = |days: i64| now - Duration::days(days);
        let mut commits: Vec<Commit> =
            COMMITS.iter().map(|(short, days, msg)| commit(short, ago(*days), msg)).collect();
        commits.push(commit("bbb0013", ago(1), "Fix typo in footer"));
        World {
            accounts: vec![
                Account {
                    id: PROD.to_owned(),
                    name: "prod".to_owned(),
                    access_key_id: access_key_for(PROD),
                    regions: vec![prod_us_east_1(now), prod_eu_west_1(now)],
                },
                Account {
                    id: STAGING.to_owned(),
                    name: "staging".to_owned(),
                    access_key_id: access_key_for(STAGING),
                    regions: vec![staging_us_east_1(now), staging_eu_west_1(now)],
                },
            ],
            github: vec![GithubRepo {
                full_name: "acme/web".to_owned(),
                default_branch: "main".to_owned(),
                commits,
            }],
            kubernetes: Vec::new(),
            s3_buckets: vec![ci_artifacts(now)],
        }
    }
}

/// The CI artifacts bucket described on [`World::demo`].
fn ci_artifacts(now: DateTime<Utc>) -> S3Bucket {
    let ago = |days: i64| now - Duration::days(days);
    let size = |key: &str| 40_000_000 + i64::from_str_radix(&hex_id(key, 6), 16).unwrap_or(0) % 60_000_000;
    let key = |branch: &str, n: i64| format!("builds/{branch}/{n}/app.tar.gz");
    let mut bucket = S3Bucket::new(PROD, "us-east-1", CI_ARTIFACTS_BUCKET)
        .created_at(ago(400))
        .versioned()
        .with_lifecycle_rule(json!({
            "ID": "expire-noncurrent-builds",
            "Filter": { "Prefix": "builds/" },
            "Status": "Enabled",
            "NoncurrentVersionExpiration": { "NoncurrentDays": 30 },
        }));
    // (branch, builds, age of build 1 in days, age of the last build in days)
    for (branch, builds, oldest, newest) in [
        ("main", 48, 120, 1),
        ("release-1.4", 12, 95, 62),
        ("dark-mode", 10, 21, 3),
        ("fix-footer", 6, 110, 100),
    ] {
        for n in 1..=builds {
            let age_hours = oldest * 24 - (n - 1) * (oldest - newest) * 24 / (builds - 1);
            let at = now - Duration::hours(age_hours);
            let k = key(branch, n);
            bucket = bucket.with_object(&k, size(&k), at);
            if branch == "main" && n >= 47 {
                bucket = bucket.with_object(&k, size(&format!("{k}#rebuild")), at + Duration::hours(1));
            }
        }
    }
    bucket.with_delete_marker(&key("fix-footer", 6), ago(99))
}

fn commit(short: &str, at: DateTime<Utc>, message: &str) -> Commit {
    Commit {
        sha: demo_sha(short),
        author_login: Some("octo-dev".to_owned()),
        author_name: "Octo Dev".to_owned(),
        author_email: "dev@acme.example".to_owned(),
        authored_date: at,
        committer_name: "GitHub".to_owned(),
        committed_date: at,
        message: message.to_owned(),
    }
}

fn image(label: &str, tags: &[String], pushed: DateTime<Utc>, pulled: Option<DateTime<Utc>>) -> Image {
    Image {
        digest: demo_digest(label),
        tags: tags.to_vec(),
        size_in_bytes: 20_000_000 + i64::from_str_radix(&hex_id(label, 6), 16).unwrap_or(0) % 50_000_000,
        pushed_at: pushed,
        last_recorded_pull_time: pulled,
        manifest_media_type: DOCKER_MANIFEST_V2.into(),
        artifact_media_type: Some(DOCKER_CONFIG.into()),
        child_digests: Vec::new(),
        subject_digest: None,
        storage: Storage::default(),
    }
}

/// A cosign signature (`<label>-sig`, tagged `sha256-<hex>.sig`) and an SPDX
/// SBOM (`<label>-sbom`, untagged, its `subject` the image) of the image `label`.
fn referrers(label: &str, pushed: DateTime<Utc>) -> [Image; 2] {
    let digest = demo_digest(label);
    let cosign_tag = format!("{}.sig", digest.replacen(':', "-", 1));
    let mut signature = image(&format!("{label}-sig"), &[cosign_tag], pushed, None);
    signature.manifest_media_type = OCI_IMAGE_MANIFEST.into();
    signature.artifact_media_type = Some(COSIGN_SIGNATURE.into());
    signature.size_in_bytes = 1_200;
    let mut sbom = image(&format!("{label}-sbom"), &[], pushed, None);
    sbom.manifest_media_type = OCI_IMAGE_MANIFEST.into();
    sbom.artifact_media_type = Some(SPDX_SBOM.into());
    sbom.subject_digest = Some(digest);
    sbom.size_in_bytes = 48_000;
    [signature, sbom]
}

fn web_repo(now: DateTime<Utc>) -> Repository {
    let ago = |days: i64| now - Duration::days(days);
    let short = |s: &str| vec![s.to_owned()];
    let mut images = Vec::new();
    for (sha, days, _) in COMMITS {
        let pushed = ago(days) + Duration::minutes(12);
        let in_use =
            matches!(sha, "aaa0003" | "aaa0004" | "aaa0005" | "aaa0006" | "aaa0007" | "bbb0010" | "bbb0011");
        let pulled = in_use.then(|| ago(1));
        let img = match sha {
            "aaa0008" => image(sha, &[demo_sha(sha)], pushed, None),
            "aaa0009" => {
                images.push(image("aaa0009-amd64", &[], pushed, None));
                images.push(image("aaa0009-arm64", &[], pushed, None));
                let mut index = image(sha, &short(sha), pushed, None);
                index.manifest_media_type = OCI_IMAGE_INDEX.into();
                index.artifact_media_type = None;
                index.child_digests = vec![demo_digest("aaa0009-amd64"), demo_digest("aaa0009-arm64")];
                index
            }
            "bbb0011" => {
                images.extend(referrers(sha, pushed + Duration::minutes(1)));
                image(sha, &[sha.to_owned(), "latest".to_owned()], pushed, pulled)
            }
            "aaa0002" => {
                images.extend(referrers(sha, pushed + Duration::minutes(1)));
                image(sha, &short(sha), pushed, pulled)
            }
            _ => image(sha, &short(sha), pushed, pulled),
        };
        images.push(img);
    }
    images.push(image("dead000", &short("dead000"), ago(100), None));
    images.push(image("untagged-old", &[], ago(150), None));
    images.push(image("untagged-recent", &[], ago(2), None));
    images.push(image("bbb0013", &["bbb0013".to_owned(), demo_sha("bbb0013")], ago(1), None));
    images.sort_by_key(|i| i.pushed_at);
    Repository {
        name: "web".to_owned(),
        created_at: ago(400),
        image_tag_mutability: "MUTABLE".to_owned(),
        images,
        // how the shipped policy finds the GitHub repository the images are built from
        tags: [("github_repository".to_owned(), "acme/web".to_owned())].into(),
    }
}

/// A task definition revision running `image`.
fn td(family: &str, revision: i32, image: &str, registered: DateTime<Utc>, active: bool) -> TaskDefinition {
    TaskDefinition {
        family: family.to_owned(),
        revision,
        status: if active { "ACTIVE" } else { "INACTIVE" }.to_owned(),
        registered_at: registered,
        deregistered_at: (!active).then(|| registered + Duration::days(7)),
        container_definitions: vec![ContainerDefinition {
            name: family.to_owned(),
            image: image.to_owned(),
            essential: true,
        }],
    }
}

fn service(
    region: &str,
    account: &str,
    name: &str,
    deployments: &[(&str, i32, DateTime<Utc>)],
    desired: i32,
) -> Service {
    let deployments: Vec<Deployment> = deployments
        .iter()
        .enumerate()
        .map(|(i, (family, rev, at))| Deployment {
            id: format!(
                "ecs-svc/{}",
                u64::from_str_radix(&hex_id(&format!("{name}:{rev}"), 15), 16).unwrap_or(0)
            ),
            status: if i == 0 { "PRIMARY" } else { "ACTIVE" }.to_owned(),
            task_definition: task_definition_arn(region, account, family, *rev),
            desired_count: desired,
            running_count: desired,
            rollout_state: if deployments.len() > 1 && i == 0 { "IN_PROGRESS" } else { "COMPLETED" }
                .to_owned(),
            created_at: *at,
        })
        .collect();
    Service {
        name: name.to_owned(),
        status: "ACTIVE".to_owned(),
        task_definition: deployments.first().map(|d| d.task_definition.clone()).unwrap_or_default(),
        desired_count: desired,
        running_count: desired,
        launch_type: "FARGATE".to_owned(),
        deployments,
        deployment_controller: "ECS".to_owned(),
        task_sets: Vec::new(),
    }
}

/// A task of `(region, account)` running `(family, revision)`; `digest_of` labels the
/// image digest it actually runs.
fn task(
    (region, account): (&str, &str),
    (family, rev): (&str, i32),
    group: &str,
    image_ref: &str,
    digest_of: &str,
    started: DateTime<Utc>,
    running: bool,
) -> Task {
    let status = if running { "RUNNING" } else { "STOPPED" };
    Task {
        id: hex_id(&format!("task:{account}:{region}:{family}:{rev}:{group}"), 32),
        task_definition_arn: task_definition_arn(region, account, family, rev),
        group: group.to_owned(),
        last_status: status.to_owned(),
        desired_status: status.to_owned(),
        launch_type: "FARGATE".to_owned(),
        started_at: Some(started),
        containers: vec![Container {
            name: family.to_owned(),
            image: image_ref.to_owned(),
            image_digest: Some(demo_digest(digest_of)),
            last_status: status.to_owned(),
        }],
    }
}

fn tag(sha: &str) -> String {
    format!("{WEB}:{sha}")
}

fn prod_us_east_1(now: DateTime<Utc>) -> RegionWorld {
    let (r, a) = ("us-east-1", PROD);
    let ago = |days: i64| now - Duration::days(days);
    let mut tds: Vec<TaskDefinition> = COMMITS
        .iter()
        .enumerate()
        .map(|(i, (sha, days, _))| {
            td("web", i as i32 + 1, &tag(sha), ago(*days) + Duration::hours(1), i >= 6)
        })
        .collect();
    tds.push(td("web-batch", 1, &tag("aaa0001"), ago(190), false));
    tds.push(td("web-batch", 2, &tag("aaa0002"), ago(170), false));
    tds.push(td("web-batch", 3, &tag("aaa0004"), ago(119), true));
    for rev in 1..=20 {
        tds.push(td(
            "cron",
            rev,
            "public.ecr.aws/docker/library/busybox:1.36",
            ago(300 - rev as i64 * 10),
            rev > 17,
        ));
    }
    let base = Repository {
        name: "base-images".to_owned(),
        created_at: ago(500),
        image_tag_mutability: "IMMUTABLE".to_owned(),
        tags: Default::default(),
        images: vec![
            image("bookworm", &["bookworm".to_owned()], ago(300), Some(ago(5))),
            image("alpine", &["alpine".to_owned()], ago(250), None),
        ],
    };
    let web = service(r, a, "web", &[("web", 10, ago(0)), ("web", 7, ago(75))], 2);
    let batch = service(r, a, "web-batch", &[("web-batch", 3, ago(119))], 0);
    RegionWorld {
        region: r.to_owned(),
        repositories: vec![web_repo(now), base],
        clusters: vec![Cluster {
            name: "prod".to_owned(),
            services: vec![web, batch],
            tasks: vec![
                task((r, a), ("web", 7), "service:web", &tag("aaa0007"), "aaa0007", ago(30), true),
                task((r, a), ("web", 10), "service:web", &tag("bbb0010"), "bbb0010", ago(0), true),
            ],
        }],
        task_definitions: tds,
        ..RegionWorld::default()
    }
}

fn prod_eu_west_1(now: DateTime<Utc>) -> RegionWorld {
    let (r, a) = ("eu-west-1", PROD);
    let ago = |days: i64| now - Duration::days(days);
    RegionWorld {
        region: r.to_owned(),
        repositories: Vec::new(),
        clusters: vec![
            Cluster {
                name: "prod-eu".to_owned(),
                services: vec![service(r, a, "web", &[("web", 3, ago(9))], 2)],
                tasks: vec![task(
                    (r, a),
                    ("web", 3),
                    "service:web",
                    &tag("bbb0011"),
                    "bbb0011",
                    ago(9),
                    true,
                )],
            },
            Cluster {
                name: "jobs".to_owned(),
                services: Vec::new(),
                tasks: vec![task(
                    (r, a),
                    ("web-migrate", 1),
                    "family:web-migrate",
                    &tag("aaa0005"),
                    "aaa0005",
                    ago(2),
                    true,
                )],
            },
        ],
        task_definitions: vec![
            td("web", 1, &tag("aaa0002"), ago(179), false),
            td("web", 2, &tag("aaa0007"), ago(74), false),
            td("web", 3, &tag("bbb0011"), ago(9), true),
            td("web-migrate", 1, &tag("aaa0005"), ago(99), true),
        ],
        ..RegionWorld::default()
    }
}

fn staging_us_east_1(now: DateTime<Utc>) -> RegionWorld {
    let (r, a) = ("us-east-1", STAGING);
    let ago = |days: i64| now - Duration::days(days);
    let pinned = format!("{WEB}@{}", demo_digest("aaa0006"));
    RegionWorld {
        region: r.to_owned(),
        repositories: Vec::new(),
        clusters: vec![Cluster {
            name: "staging".to_owned(),
            services: vec![
                service(r, a, "web", &[("web", 5, ago(10))], 1),
                service(r, a, "web-pinned", &[("web-pinned", 1, ago(89))], 1),
            ],
            tasks: vec![
                task((r, a), ("web", 5), "service:web", &tag("bbb0011"), "bbb0011", ago(10), true),
                task((r, a), ("web-pinned", 1), "service:web-pinned", &pinned, "aaa0006", ago(20), true),
                task((r, a), ("web", 1), "service:web", &tag("aaa0001"), "aaa0001", ago(199), false),
            ],
        }],
        task_definitions: vec![
            td("web", 1, &tag("aaa0001"), ago(199), false),
            td("web", 2, &tag("aaa0002"), ago(179), false),
            td("web", 3, &tag("aaa0003"), ago(149), false),
            td("web", 4, &tag("bbb0010"), ago(19), false),
            td("web", 5, &tag("bbb0011"), ago(10), true),
            td("web-pinned", 1, &pinned, ago(89), true),
        ],
        ..RegionWorld::default()
    }
}

fn staging_eu_west_1(now: DateTime<Utc>) -> RegionWorld {
    let (r, a) = ("eu-west-1", STAGING);
    let ago = |days: i64| now - Duration::days(days);
    RegionWorld {
        region: r.to_owned(),
        repositories: Vec::new(),
        clusters: vec![Cluster {
            name: "staging-eu".to_owned(),
            services: vec![service(r, a, "web-legacy", &[("web-legacy", 1, ago(149))], 1)],
            tasks: vec![task(
                (r, a),
                ("web-legacy", 1),
                "service:web-legacy",
                &tag("aaa0003"),
                "aaa0003",
                ago(40),
                true,
            )],
        }],
        task_definitions: vec![td("web-legacy", 1, &tag("aaa0003"), ago(149), true)],
        ..RegionWorld::default()
    }
}
