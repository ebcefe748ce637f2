//! World construction helpers, the demo story, JSON loading and the generator.

use std::collections::{BTreeSet, HashSet};

use chrono::{Duration, Utc};
use skyglue_sandbox::demo::{demo_digest, demo_sha};
use skyglue_sandbox::world::*;
use skyglue_sandbox::{GenerateSpec, Sandbox, SandboxConfig, World};

/// One account (`111111111111`, us-east-1) with `n` of everything: images in repo
/// `big`, services and tasks in cluster `big`, revisions of family `big` (all ACTIVE),
/// plus `n` repositories and `n` clusters in total.
pub fn sized_world(n: usize) -> World {
    let now = Utc::now();
    let images = (0..n)
        .map(|i| Image {
            digest: format!("sha256:{i:064x}"),
            tags: if i % 2 == 0 { vec![format!("t{i}")] } else { Vec::new() },
            size_in_bytes: 1000 + i as i64,
            pushed_at: now - Duration::minutes(i as i64),
            last_recorded_pull_time: None,
            manifest_media_type: DOCKER_MANIFEST_V2.into(),
            artifact_media_type: Some(DOCKER_CONFIG.into()),
            child_digests: Vec::new(),
            subject_digest: None,
            storage: Storage::default(),
        })
        .collect();
    let mut repositories = vec![Repository {
        name: "big".into(),
        created_at: now,
        image_tag_mutability: "MUTABLE".into(),
        images,
        tags: Default::default(),
    }];
    for i in 1..n {
        repositories.push(Repository {
            name: format!("r{i}"),
            created_at: now,
            image_tag_mutability: "MUTABLE".into(),
            images: Vec::new(),
            tags: Default::default(),
        });
    }
    let td_arn = |rev: usize| task_definition_arn("us-east-1", "111111111111", "big", rev as i32);
    let services = (0..n)
        .map(|i| Service {
            name: format!("s{i}"),
            status: "ACTIVE".into(),
            task_definition: td_arn(1),
            desired_count: 1,
            running_count: 1,
            launch_type: "FARGATE".into(),
            deployments: Vec::new(),
            deployment_controller: "ECS".into(),
            task_sets: Vec::new(),
        })
        .collect();
    let tasks = (0..n)
        .map(|i| Task {
            id: format!("{i:032x}"),
            task_definition_arn: td_arn(1),
            group: "family:big".into(),
            last_status: "RUNNING".into(),
            desired_status: "RUNNING".into(),
            launch_type: "FARGATE".into(),
            started_at: Some(now),
            containers: Vec::new(),
        })
        .collect();
    let mut clusters = vec![Cluster { name: "big".into(), services, tasks }];
    for i in 1..n {
        clusters.push(Cluster { name: format!("c{i}"), services: Vec::new(), tasks: Vec::new() });
    }
    let task_definitions = (1..=n)
        .map(|rev| TaskDefinition {
            family: "big".into(),
            revision: rev as i32,
            status: "ACTIVE".into(),
            registered_at: now,
            deregistered_at: None,
            container_definitions: Vec::new(),
        })
        .collect();
    World {
        accounts: vec![Account {
            id: "111111111111".into(),
            name: "prod".into(),
            access_key_id: access_key_for("111111111111"),
            regions: vec![RegionWorld {
                region: "us-east-1".into(),
                repositories,
                clusters,
                task_definitions,
                ..RegionWorld::default()
            }],
        }],
        ..World::default()
    }
}

/// The prod account (`111111111111`) with just this region's resources.
pub fn prod_world(region: RegionWorld) -> World {
    World {
        accounts: vec![Account {
            id: "111111111111".into(),
            name: "prod".into(),
            access_key_id: access_key_for("111111111111"),
            regions: vec![region],
        }],
        ..World::default()
    }
}

/// A sandbox over `world` without ECS throttling (so limit tests can call freely).
pub async fn start(world: World) -> Sandbox {
    let config = SandboxConfig { ecs_throttling: false, ..SandboxConfig::default() };
    Sandbox::start(world, config).await.unwrap()
}

#[test]
fn demo_story_in_use_images_are_the_documented_ones() {
    let world = World::demo();
    let web = &world.region("111111111111", "us-east-1").unwrap().repositories[0];
    assert_eq!(web.name, "web");
    let by_tag =
        |tag: &str| web.images.iter().find(|i| i.tags.iter().any(|t| t == tag)).map(|i| i.digest.clone());
    let mut in_use = BTreeSet::new();
    for region in world.regions() {
        let image_of = |arn: &str| {
            let td = region
                .task_definitions
                .iter()
                .find(|td| arn.ends_with(&format!("task-definition/{}:{}", td.family, td.revision)))
                .unwrap_or_else(|| panic!("task definition {arn} exists"));
            td.container_definitions[0].image.clone()
        };
        for cluster in &region.clusters {
            for service in &cluster.services {
                for d in &service.deployments {
                    in_use.insert(image_of(&d.task_definition));
                }
            }
            for task in cluster.tasks.iter().filter(|t| t.last_status != "STOPPED") {
                in_use.insert(task.containers[0].image.clone());
            }
        }
    }
    let digests: BTreeSet<String> = in_use
        .iter()
        .filter_map(|image| match image.split_once('@') {
            Some((_, digest)) => Some(digest.to_owned()),
            None => by_tag(image.rsplit(':').next().unwrap()),
        })
        .collect();
    let expected: BTreeSet<String> =
        ["aaa0003", "aaa0004", "aaa0005", "aaa0006", "aaa0007", "bbb0010", "bbb0011"]
            .iter()
            .map(|s| demo_digest(s))
            .collect();
    assert_eq!(digests, expected);
    let index = web.images.iter().find(|i| i.tags == ["aaa0009"]).unwrap();
    assert_eq!(index.child_digests, [demo_digest("aaa0009-amd64"), demo_digest("aaa0009-arm64")]);
    assert!(web.images.iter().any(|i| i.tags == [demo_sha("aaa0008")]));
    let gh = world.github_repo("acme/web").unwrap();
    assert!(gh.commits.iter().any(|c| c.sha == demo_sha("aaa0001")));
    assert!(!gh.commits.iter().any(|c| c.sha.starts_with("dead000")));
}

#[test]
fn worlds_round_trip_through_json_files() {
    let world = World::generate(&GenerateSpec::small());
    let path = std::env::temp_dir().join(format!("skyglue-sandbox-world-{}.json", std::process::id()));
    std::fs::write(&path, world.to_json_string()).unwrap();
    let loaded = World::from_json_file(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(loaded, world);
    let err = World::from_json_file("/nonexistent/world.json").unwrap_err();
    assert!(err.to_string().contains("failed to read world file"));
}

fn check_generated(spec: &GenerateSpec) {
    let world = World::generate(spec);
    assert_eq!(world.accounts.len(), spec.accounts);
    assert_eq!(world.image_count(), spec.images);
    assert_eq!(world.task_definition_count(), spec.task_definitions);
    let repos: usize = world.regions().map(|r| r.repositories.len()).sum();
    assert_eq!(repos, spec.repositories);
    let clusters = || world.regions().flat_map(|r| &r.clusters);
    assert_eq!(clusters().map(|c| c.services.len()).sum::<usize>(), spec.services);
    assert_eq!(clusters().map(|c| c.tasks.len()).sum::<usize>(), spec.tasks);
    let shas: HashSet<&str> = world.github.iter().flat_map(|g| &g.commits).map(|c| c.sha.as_str()).collect();
    assert_eq!(shas.len(), spec.commits);
    let shorts: HashSet<&str> = shas.iter().map(|s| &s[..7]).collect();
    // Every tag is the short SHA of a known commit, unique within its repository.
    for repo in world.regions().flat_map(|r| &r.repositories) {
        let mut seen = HashSet::new();
        for tag in repo.images.iter().flat_map(|i| &i.tags) {
            assert!(shorts.contains(tag.as_str()), "tag {tag}");
            assert!(seen.insert(tag), "duplicate tag {tag}");
        }
    }
    let again = World::generate(spec);
    let shas_of =
        |w: &World| w.github.iter().flat_map(|g| &g.commits).map(|c| c.sha.clone()).collect::<Vec<_>>();
    assert_eq!(shas_of(&again), shas_of(&world), "generation is seeded");
}

#[test]
fn generator_small_has_the_requested_sizes() {
    check_generated(&GenerateSpec::small());
}

#[test]
fn generator_benchmark_has_the_requested_sizes() {
    check_generated(&GenerateSpec::benchmark());
}
