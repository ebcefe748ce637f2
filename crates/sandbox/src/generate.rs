//! Seeded generation of large worlds for benchmarks and scale tests.
//!
//! Shape: every (account, region) is a *slot*. ECR repository `i` lives in slot
//! `i % slots` and is built from GitHub repository `i % github_repos`; its images are
//! tagged with the short SHAs of that GitHub repository's commits (the rest untagged,
//! some tagged images are multi-arch indexes over two untagged children, and some carry
//! an SBOM, an untagged OCI referrer). Every slot
//! deploys every repository: one task-definition family per ECR repository (oldest
//! revisions INACTIVE, the newest ACTIVE, revision k running the k-th newest image),
//! referencing the image in the repository's own slot (so usage crosses accounts and
//! regions). Services run their family's latest revision (every 10th mid-rollout, every
//! 20th scaled to zero); tasks belong to services, and every 25th is a standalone task.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::world::{
    Account, Cluster, Commit, Container, ContainerDefinition, DOCKER_CONFIG, DOCKER_MANIFEST_V2, Deployment,
    EventRule, GithubRepo, Image, KubeCluster, KubeWorkload, OCI_IMAGE_INDEX, OCI_IMAGE_MANIFEST,
    RegionWorld, Repository, SPDX_SBOM, Schedule, Service, Storage, Task, TaskDefinition, World,
    access_key_for, cluster_arn, repository_uri, task_definition_arn,
};

/// How big a generated world is.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateSpec {
    /// RNG seed: the same spec always gives the same world (up to `now`).
    pub seed: u64,
    /// Number of accounts (`111111111111`, `222222222222`, ...).
    pub accounts: usize,
    /// Regions of every account.
    pub regions: Vec<String>,
    /// ECR repositories in total.
    pub repositories: usize,
    /// ECR images in total.
    pub images: usize,
    /// Fraction of images without a tag.
    pub untagged_fraction: f64,
    /// Task definition revisions in total.
    pub task_definitions: usize,
    /// Fraction of each family's revisions (the oldest) that are INACTIVE.
    pub inactive_fraction: f64,
    /// ECS clusters per (account, region).
    pub clusters_per_region: usize,
    /// ECS services in total.
    pub services: usize,
    /// Running ECS tasks in total.
    pub tasks: usize,
    /// GitHub repositories (`acme/app-1`, ...).
    pub github_repos: usize,
    /// Distinct commits in total, over one year.
    pub commits: usize,
}

impl GenerateSpec {
    /// The benchmark world of DESIGN.md: 2 accounts x 2 regions, 100,000 images in 40
    /// repositories, 20,000 task definitions, 400 services, 1,000 tasks, 5,000 commits.
    pub fn benchmark() -> Self {
        GenerateSpec {
            seed: 42,
            accounts: 2,
            regions: vec!["us-east-1".to_owned(), "eu-west-1".to_owned()],
            repositories: 40,
            images: 100_000,
            untagged_fraction: 0.1,
            task_definitions: 20_000,
            inactive_fraction: 0.5,
            clusters_per_region: 4,
            services: 400,
            tasks: 1_000,
            github_repos: 2,
            commits: 5_000,
        }
    }

    /// A small world of the same shape, for tests.
    pub fn small() -> Self {
        GenerateSpec {
            seed: 7,
            repositories: 8,
            images: 2_000,
            task_definitions: 400,
            clusters_per_region: 2,
            services: 40,
            tasks: 100,
            commits: 300,
            ..Self::benchmark()
        }
    }
}

/// What the generator remembers about a repository to point task definitions at it.
struct RepoRefs {
    uri: String,
    /// (tag, digest) of tagged images, oldest first.
    tagged: Vec<(String, String)>,
}

fn hex(rng: &mut SmallRng, digits: usize) -> String {
    let mut s = String::with_capacity(digits + 16);
    while s.len() < digits {
        s.push_str(&format!("{:016x}", rng.random::<u64>()));
    }
    s.truncate(digits);
    s
}

/// `111111111111` to `999999999999` for the first nine accounts, then
/// `100000000010`, `100000000011`, ...: every account of a large world
/// (hundreds, for the many-machines tests) has its own id and access key.
fn account_id(i: usize) -> String {
    if i < 9 {
        let d = char::from(b'1' + i as u8);
        return std::iter::repeat_n(d, 12).collect();
    }
    format!("{:012}", 100_000_000_001 + i)
}

#[cfg(test)]
#[test]
fn account_ids_are_distinct_in_a_large_world() {
    let ids: std::collections::HashSet<String> = (0..500).map(account_id).collect();
    assert_eq!(ids.len(), 500);
    assert_eq!(account_id(0), "111111111111");
    assert_eq!(account_id(9), "100000000010");
}

fn split(total: usize, parts: usize, i: usize) -> usize {
    total / parts + usize::from(i < total % parts)
}

impl World {
    /// Generates a world of the given size, deterministically from `spec.seed`.
    pub fn generate(spec: &GenerateSpec) -> World {
        let mut rng = SmallRng::seed_from_u64(spec.seed);
        let now = Utc::now();
        let slots = (spec.accounts * spec.regions.len()).max(1);
        let github = commits(spec, &mut rng, now);
        let mut accounts: Vec<Account> = (0..spec.accounts)
            .map(|a| Account {
                id: account_id(a),
                name: format!("account-{}", a + 1),
                access_key_id: access_key_for(&account_id(a)),
                regions: spec
                    .regions
                    .iter()
                    .map(|r| RegionWorld { region: r.clone(), ..RegionWorld::default() })
                    .collect(),
            })
            .collect();
        let slot = |s: usize| (s / spec.regions.len(), s % spec.regions.len());
        let mut refs = Vec::with_capacity(spec.repositories);
        for i in 0..spec.repositories {
            let (a, r) = slot(i % slots);
            let gh = &github[i % github.len().max(1)];
            let n = split(spec.images, spec.repositories, i);
            let (repo, repo_refs) = repository(i, n, spec, gh, &accounts[a], &spec.regions[r], &mut rng, now);
            accounts[a].regions[r].repositories.push(repo);
            refs.push(repo_refs);
        }
        let digests = digests(&refs);
        for s in 0..slots {
            let (a, r) = slot(s);
            let account = accounts[a].id.clone();
            let rw = &mut accounts[a].regions[r];
            let td_count = split(spec.task_definitions, slots, s);
            rw.task_definitions = task_definitions(spec, &refs, td_count, now, &mut rng);
            rw.clusters = clusters(
                spec,
                &refs,
                &digests,
                rw,
                &account,
                split(spec.services, slots, s),
                split(spec.tasks, slots, s),
                now,
            );
        }
        World { accounts, github, ..World::default() }
    }
}

fn commits(spec: &GenerateSpec, rng: &mut SmallRng, now: DateTime<Utc>) -> Vec<GithubRepo> {
    let mut shorts = HashSet::with_capacity(spec.commits);
    let authors = ["alice", "bob", "carol", "dave", "erin"];
    (0..spec.github_repos.max(1))
        .map(|g| {
            let n = split(spec.commits, spec.github_repos.max(1), g);
            let mut commits: Vec<Commit> = (0..n)
                .map(|_| {
                    // Short SHAs must stay unique so a 7-char tag finds one commit.
                    let sha = loop {
                        let sha = hex(rng, 40);
                        if shorts.insert(sha[..7].to_owned()) {
                            break sha;
                        }
                    };
                    let at = now - Duration::seconds(rng.random_range(3_600..365 * 86_400));
                    let who = authors[rng.random_range(0..authors.len())];
                    Commit {
                        sha,
                        author_login: Some(who.to_owned()),
                        author_name: who.to_owned(),
                        author_email: format!("{who}@acme.example"),
                        authored_date: at,
                        committer_name: "GitHub".to_owned(),
                        committed_date: at,
                        message: format!("Change by {who}"),
                    }
                })
                .collect();
            commits.sort_by_key(|c| c.committed_date);
            GithubRepo {
                full_name: format!("acme/app-{}", g + 1),
                default_branch: "main".to_owned(),
                commits,
            }
        })
        .collect()
}

fn image(digest: String, tags: Vec<String>, pushed_at: DateTime<Utc>, rng: &mut SmallRng) -> Image {
    Image {
        digest,
        tags,
        size_in_bytes: rng.random_range(10_000_000..500_000_000),
        pushed_at,
        last_recorded_pull_time: rng
            .random_bool(0.3)
            .then(|| pushed_at + Duration::hours(rng.random_range(1..2_000))),
        manifest_media_type: DOCKER_MANIFEST_V2.into(),
        artifact_media_type: Some(DOCKER_CONFIG.into()),
        child_digests: Vec::new(),
        subject_digest: None,
        storage: Storage::default(),
    }
}

#[allow(clippy::too_many_arguments)]
fn repository(
    i: usize,
    n: usize,
    spec: &GenerateSpec,
    gh: &GithubRepo,
    account: &Account,
    region: &str,
    rng: &mut SmallRng,
    now: DateTime<Utc>,
) -> (Repository, RepoRefs) {
    let name = format!("app-{:02}", i + 1);
    let tagged_n = ((n as f64 * (1.0 - spec.untagged_fraction)).round() as usize).min(gh.commits.len());
    let offset = rng.random_range(0..gh.commits.len().max(1));
    let mut chosen: Vec<&Commit> =
        (0..tagged_n).map(|k| &gh.commits[(offset + k) % gh.commits.len()]).collect();
    chosen.sort_by_key(|c| c.committed_date);
    let mut images = Vec::with_capacity(n);
    let mut tagged = Vec::with_capacity(tagged_n);
    for c in chosen {
        let digest = format!("sha256:{}", hex(rng, 64));
        let pushed = c.committed_date + Duration::minutes(rng.random_range(5..30));
        tagged.push((c.sha[..7].to_owned(), digest.clone()));
        images.push(image(digest, vec![c.sha[..7].to_owned()], pushed, rng));
    }
    let first_untagged = images.len();
    while images.len() < n {
        let pushed = now - Duration::seconds(rng.random_range(60..365 * 86_400));
        images.push(image(format!("sha256:{}", hex(rng, 64)), Vec::new(), pushed, rng));
    }
    // Every 100th tagged image becomes a multi-arch index over two untagged images.
    let mut child = first_untagged;
    for k in (0..first_untagged).step_by(100) {
        if child + 1 >= images.len() {
            break;
        }
        let children = vec![images[child].digest.clone(), images[child + 1].digest.clone()];
        let index = &mut images[k];
        index.manifest_media_type = OCI_IMAGE_INDEX.into();
        index.artifact_media_type = None;
        index.child_digests = children;
        child += 2;
    }
    // From the 50th, every 100th tagged image carries an SBOM: the next
    // untagged image becomes its OCI referrer.
    for k in (50..first_untagged).step_by(100) {
        if child >= images.len() {
            break;
        }
        let subject = images[k].digest.clone();
        let sbom = &mut images[child];
        sbom.manifest_media_type = OCI_IMAGE_MANIFEST.into();
        sbom.artifact_media_type = Some(SPDX_SBOM.into());
        sbom.subject_digest = Some(subject);
        child += 1;
    }
    images.sort_by_key(|i| i.pushed_at);
    let repo = Repository {
        name: name.clone(),
        created_at: now - Duration::days(400),
        image_tag_mutability: "MUTABLE".to_owned(),
        images,
        tags: Default::default(),
    };
    let uri = repository_uri(region, &account.id, &name);
    (repo, RepoRefs { uri, tagged })
}

fn task_definitions(
    spec: &GenerateSpec,
    refs: &[RepoRefs],
    count: usize,
    now: DateTime<Utc>,
    rng: &mut SmallRng,
) -> Vec<TaskDefinition> {
    let mut out = Vec::with_capacity(count);
    for (f, repo) in refs.iter().enumerate() {
        let revisions = split(count, refs.len(), f);
        let inactive = (revisions as f64 * spec.inactive_fraction).round() as usize;
        for k in 0..revisions {
            let image = match repo.tagged.len() {
                0 => format!("{}:latest", repo.uri),
                len => {
                    let idx = (len + k).saturating_sub(revisions) % len;
                    format!("{}:{}", repo.uri, repo.tagged[idx].0)
                }
            };
            let registered =
                now - Duration::seconds(((revisions - k) as i64) * 3_000 + rng.random_range(0..600));
            out.push(TaskDefinition {
                family: format!("app-{:02}", f + 1),
                revision: k as i32 + 1,
                status: if k < inactive { "INACTIVE" } else { "ACTIVE" }.to_owned(),
                registered_at: registered,
                deregistered_at: (k < inactive).then(|| registered + Duration::days(1)),
                container_definitions: vec![ContainerDefinition {
                    name: "app".to_owned(),
                    image,
                    essential: true,
                }],
            });
        }
    }
    out
}

/// `<uri>:<tag>` -> digest of every tagged image, for the digests tasks run.
fn digests(refs: &[RepoRefs]) -> HashMap<String, &str> {
    refs.iter()
        .flat_map(|r| r.tagged.iter().map(move |(t, d)| (format!("{}:{t}", r.uri), d.as_str())))
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn clusters(
    spec: &GenerateSpec,
    refs: &[RepoRefs],
    digests: &HashMap<String, &str>,
    rw: &RegionWorld,
    account: &str,
    services: usize,
    tasks: usize,
    now: DateTime<Utc>,
) -> Vec<Cluster> {
    let region = rw.region.as_str();
    let latest = |family: &str, back: i32| {
        rw.task_definitions
            .iter()
            .filter(|td| td.family == family && td.status == "ACTIVE")
            .map(|td| td.revision)
            .max()
            .map(|rev| (rev - back).max(1))
    };
    let image_of = |family: &str, rev: i32| {
        rw.task_definitions
            .iter()
            .find(|td| td.family == family && td.revision == rev)
            .and_then(|td| td.container_definitions.first())
            .map(|c| c.image.clone())
            .unwrap_or_default()
    };
    let n_clusters = spec.clusters_per_region.max(1);
    let mut clusters: Vec<Cluster> = (0..n_clusters)
        .map(|c| Cluster { name: format!("cluster-{}", c + 1), services: Vec::new(), tasks: Vec::new() })
        .collect();
    let families = refs.len().max(1);
    let mut service_revs = Vec::with_capacity(services);
    for j in 0..services {
        let family = format!("app-{:02}", j % families + 1);
        let Some(rev) = latest(&family, 0) else {
            continue;
        };
        let mut deployments = vec![(rev, "PRIMARY")];
        if j % 10 == 0 && rev > 1 {
            deployments.push((rev - 1, "ACTIVE"));
        }
        let desired = if j % 20 == 19 { 0 } else { 2 };
        let name = format!("svc-{:03}", j + 1);
        let deployments: Vec<Deployment> = deployments
            .iter()
            .enumerate()
            .map(|(d, (rev, status))| Deployment {
                id: format!("ecs-svc/{}", 4_000_000_000_000_000_000u64 + (j * 10 + d) as u64),
                status: (*status).to_owned(),
                task_definition: task_definition_arn(region, account, &family, *rev),
                desired_count: desired,
                running_count: desired,
                rollout_state: if d == 0 && deployments.len() > 1 { "IN_PROGRESS" } else { "COMPLETED" }
                    .to_owned(),
                created_at: now - Duration::hours(d as i64 * 24 + 1),
            })
            .collect();
        service_revs.push((j % n_clusters, name.clone(), family.clone(), rev));
        clusters[j % n_clusters].services.push(Service {
            name,
            status: "ACTIVE".to_owned(),
            task_definition: task_definition_arn(region, account, &family, rev),
            desired_count: desired,
            running_count: desired,
            launch_type: "FARGATE".to_owned(),
            deployments,
            deployment_controller: "ECS".to_owned(),
            task_sets: Vec::new(),
        });
    }
    for t in 0..tasks {
        let (cluster, group, family, rev) = match service_revs.get(t % service_revs.len().max(1)) {
            Some((c, name, family, rev)) if t % 25 != 24 => {
                (*c, format!("service:{name}"), family.clone(), *rev)
            }
            _ => {
                let family = format!("app-{:02}", t % families + 1);
                let rev = latest(&family, 3).unwrap_or(1);
                (t % n_clusters, format!("family:{family}"), family, rev)
            }
        };
        let image = image_of(&family, rev);
        clusters[cluster].tasks.push(Task {
            id: format!("{:032x}", (t as u128 + 1) * 0x9e37_79b9_7f4a_7c15),
            task_definition_arn: task_definition_arn(region, account, &family, rev),
            group,
            last_status: "RUNNING".to_owned(),
            desired_status: "RUNNING".to_owned(),
            launch_type: "FARGATE".to_owned(),
            started_at: Some(now - Duration::hours(2)),
            containers: vec![Container {
                name: "app".to_owned(),
                image_digest: digests.get(&image).map(|d| (*d).to_owned()),
                image,
                last_status: "RUNNING".to_owned(),
            }],
        });
    }
    clusters
}

impl GenerateSpec {
    /// Ten times the benchmark world (issue 35): 10 accounts x 2 regions,
    /// 1,000,000 images in 400 repositories, 200,000 task definitions, 4,000
    /// services, 10,000 tasks, 50,000 commits.
    pub fn benchmark_x10() -> Self {
        GenerateSpec {
            accounts: 10,
            repositories: 400,
            images: 1_000_000,
            task_definitions: 200_000,
            services: 4_000,
            tasks: 10_000,
            commits: 50_000,
            ..Self::benchmark()
        }
    }

    /// Many connections with a few resources each: `accounts` x 2 regions,
    /// 20 repositories of 50 images (in the first 20 connections), and in
    /// every connection one cluster with one service and two tasks, and the
    /// 20 task definition families (every connection deploys every
    /// repository) with two revisions each, the older INACTIVE.
    pub fn many_connections(accounts: usize) -> Self {
        let slots = accounts * 2;
        GenerateSpec {
            accounts,
            repositories: 20,
            images: 1_000,
            task_definitions: slots * 40,
            clusters_per_region: 1,
            services: slots,
            tasks: slots * 2,
            commits: 2_000,
            ..Self::benchmark()
        }
    }
}

/// The Kubernetes context (and cluster) of [`World::with_schedules_and_workloads`].
pub const BENCH_KUBE_CONTEXT: &str = "bench-eks";

/// The workload kinds, in the order [`World::with_schedules_and_workloads`] deals them.
const WORKLOAD_KINDS: [&str; 6] = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"];

impl World {
    /// Adds, to every (account, region) of a generated world, `per_region`
    /// EventBridge rules (on the default bus, one ECS target each, every
    /// fourth DISABLED) and as many EventBridge Scheduler schedules, each
    /// running a revision 5 below its family's newest ACTIVE one (so no
    /// service runs it: only the schedule keeps it in use); and a Kubernetes
    /// cluster [`BENCH_KUBE_CONTEXT`] with `workloads` workloads (the six
    /// kinds in turn, every tenth scaled to zero), each running a tagged
    /// image of a repository in turn, by tag. Deterministic: no randomness.
    pub fn with_schedules_and_workloads(mut self, per_region: usize, workloads: usize) -> World {
        for account in &mut self.accounts {
            let id = account.id.clone();
            for rw in &mut account.regions {
                scheduled(rw, &id, per_region);
            }
        }
        let repositories: Vec<(String, &Repository)> = self
            .accounts
            .iter()
            .flat_map(|a| {
                a.regions.iter().flat_map(move |r| {
                    r.repositories
                        .iter()
                        .map(move |repo| (repository_uri(&r.region, &a.id, &repo.name), repo))
                })
            })
            .filter(|(_, repo)| repo.images.iter().any(|i| !i.tags.is_empty()))
            .collect();
        let mut cluster = KubeCluster::new(BENCH_KUBE_CONTEXT);
        for k in 0..workloads {
            let Some((uri, repo)) = repositories.get(k % repositories.len().max(1)) else { break };
            let tagged: Vec<&Image> = repo.images.iter().filter(|i| !i.tags.is_empty()).collect();
            let image = tagged[(k / repositories.len() * 7) % tagged.len()];
            let kind = WORKLOAD_KINDS[k % WORKLOAD_KINDS.len()];
            let name = format!("w-{k:04}");
            let workload = KubeWorkload::new(kind, "bench", &name)
                .with_replicas(if k % 10 == 9 { 0 } else { 2 })
                .with_container("app", &format!("{uri}:{}", image.tags[0]));
            cluster = cluster.with_workload(workload);
        }
        self.kubernetes.push(cluster);
        self
    }
}

/// `per_region` rules and as many schedules in `rw`, each pinning an older
/// ACTIVE revision of a family (see [`World::with_schedules_and_workloads`]).
fn scheduled(rw: &mut RegionWorld, account: &str, per_region: usize) {
    let mut newest: Vec<(&str, i32)> = Vec::new();
    for td in rw.task_definitions.iter().filter(|td| td.status == "ACTIVE") {
        match newest.iter_mut().find(|(f, _)| *f == td.family) {
            Some((_, rev)) => *rev = (*rev).max(td.revision),
            None => newest.push((&td.family, td.revision)),
        }
    }
    newest.sort();
    let Some(cluster) = rw.clusters.first().map(|c| cluster_arn(&rw.region, account, &c.name)) else {
        return;
    };
    let pinned = |k: usize| {
        let (family, rev) = newest[k % newest.len()];
        // Rules and schedules pin different revisions: 5 and 6 below the newest.
        (family.to_owned(), (rev - 5 - (k / newest.len()) as i32 * 2).max(1))
    };
    if newest.is_empty() {
        return;
    }
    let mut rules = Vec::with_capacity(per_region);
    let mut schedules = Vec::with_capacity(per_region);
    for k in 0..per_region {
        let (family, rev) = pinned(k);
        let arn = task_definition_arn(&rw.region, account, &family, rev);
        let rule = EventRule::ecs(&format!("nightly-{k:03}"), "cron(0 3 * * ? *)", &cluster, &arn);
        rules.push(if k % 4 == 3 { rule.with_state("DISABLED") } else { rule });
        let (family, rev) = pinned(k);
        let name = format!("report-{k:03}");
        let pin = format!("{family}:{}", (rev - 1).max(1));
        schedules.push(Schedule::ecs(&name, "rate(1 day)", &cluster, &pin));
    }
    rw.event_rules.extend(rules);
    rw.schedules.extend(schedules);
}
