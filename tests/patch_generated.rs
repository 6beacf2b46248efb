//! The deployment writer against generated deployments: thousands of
//! combinations of the ways people write YAML (scalar styles, flow mappings,
//! comments, quoting of keys, markers, line endings, indentation, a byte
//! order mark, anchors and aliases). The
//! generator records where it wrote each ID, so the oracle is independent of
//! the writer: the result must be the original with exactly those characters
//! replaced, or a refusal where the case uses a style that cannot be edited
//! exactly. Cases it once found wrong are kept in
//! `tests/fixtures/patch-cases/` and checked by snapshot.

use std::collections::BTreeMap;
use std::path::Path;

use xtask::deployments::Deployment;
use xtask::patch::{self, Refusal};

mod common;
use common::Rng;

/// How one role's ID is written.
#[derive(Clone, Copy, Debug, PartialEq)]
enum IdStyle {
    Plain,
    Single,
    Double,
    FoldedStrip,
    LiteralStrip,
    Flow,
    // Styles the writer must refuse:
    LiteralKeep,
    FoldedKeep,
    Alias,
    Anchored,
    Tagged,
    Merged,
}

impl IdStyle {
    const ALL: [IdStyle; 12] = [
        IdStyle::Plain,
        IdStyle::Single,
        IdStyle::Double,
        IdStyle::FoldedStrip,
        IdStyle::LiteralStrip,
        IdStyle::Flow,
        IdStyle::LiteralKeep,
        IdStyle::FoldedKeep,
        IdStyle::Alias,
        IdStyle::Anchored,
        IdStyle::Tagged,
        IdStyle::Merged,
    ];

    fn refused(self) -> bool {
        matches!(
            self,
            IdStyle::LiteralKeep
                | IdStyle::FoldedKeep
                | IdStyle::Alias
                | IdStyle::Anchored
                | IdStyle::Tagged
                | IdStyle::Merged
        )
    }
}

/// A generated deployment: its text, where each role's ID sits, and the
/// styles used.
struct Case {
    text: String,
    ids: BTreeMap<String, (std::ops::Range<usize>, String)>,
    refused: bool,
}

/// Text with the byte positions of what it records.
struct Writer {
    text: String,
    nl: &'static str,
}

impl Writer {
    fn put(&mut self, text: &str) {
        self.text.push_str(text);
    }

    fn line(&mut self, text: &str) {
        self.text.push_str(text);
        self.text.push_str(self.nl);
    }

    /// Writes `id` and returns its byte range.
    fn id(&mut self, id: &str) -> std::ops::Range<usize> {
        let start = self.text.len();
        self.text.push_str(id);
        start..self.text.len()
    }
}

fn quoted_key(rng: &mut Rng, key: &str) -> String {
    match rng.below(6) {
        0 => format!("'{key}'"),
        1 => format!("\"{key}\""),
        _ => key.to_owned(),
    }
}

/// What may follow a value on its line: nothing, spaces, a tab, a comment
/// (which may repeat the ID, to tempt a writer that searches for it).
fn trailer(rng: &mut Rng, id: &str) -> String {
    match rng.below(7) {
        0 => "  ".to_owned(),
        1 => "\t".to_owned(),
        2 => "  # Ireland builds its own copy".to_owned(),
        3 => format!(" # was {id}"),
        4 => "\t# tab, then a comment".to_owned(),
        _ => String::new(),
    }
}

fn generate(rng: &mut Rng) -> Case {
    let nl = if rng.chance(20) { "\r\n" } else { "\n" };
    let unit = " ".repeat([2, 3, 4][rng.below(3)]);
    let mut w = Writer { text: String::new(), nl };
    if rng.chance(5) {
        w.put("\u{feff}");
    }
    if rng.chance(20) {
        w.line("# Deployment of the Ireland cluster");
    }
    if rng.chance(25) {
        w.line(rng.pick(&["---", "--- # first document"]));
    }
    let release = rng.pick(&["'3.11'", "\"3.11\"", "'3.9'"]);
    w.line(&format!("release: {release}"));
    w.line(&format!("cloud: {}", rng.pick(&["aws", "'aws'"])));
    let mut roles = vec!["bastion", "cluster"];
    if rng.chance(50) {
        roles.reverse();
    }
    if rng.chance(15) {
        roles.truncate(1);
    }
    let styles: Vec<IdStyle> = roles.iter().map(|_| IdStyle::ALL[rng.below(IdStyle::ALL.len())]).collect();
    // Anchors, aliases and merge keys need a node to refer to.
    if styles.iter().any(|s| matches!(s, IdStyle::Alias)) {
        let id = rng.ami();
        w.line(&format!("shared_image: &img {id}"));
    }
    if styles.iter().any(|s| matches!(s, IdStyle::Merged)) {
        w.line("base: &base");
        w.line(&format!("{unit}machine_image:"));
        let id = rng.ami();
        w.line(&format!("{unit}{unit}id: {id}"));
    }
    let mut ids = BTreeMap::new();
    for (role, style) in roles.iter().zip(&styles) {
        if rng.chance(30) {
            w.line("");
        }
        if rng.chance(20) {
            w.line(&format!("# the {role}"));
        }
        w.line(&format!("{}:", quoted_key(rng, role)));
        if *style == IdStyle::Merged {
            w.line(&format!("{unit}<<: *base"));
            w.line(&format!("{unit}instance_type: t2.medium"));
            ids.insert((*role).to_owned(), (0..0, String::new()));
            continue;
        }
        if *role == "cluster" {
            w.line(&format!("{unit}region: {}", rng.pick(&["eu-west-1", "'eu-central-1'"])));
        }
        if rng.chance(40) {
            w.line(&format!("{unit}instance_type: t2.medium"));
        }
        let old = rng.ami();
        let mi = quoted_key(rng, "machine_image");
        let id_key = quoted_key(rng, "id");
        if *style == IdStyle::Flow {
            let (open, close) = match rng.below(3) {
                0 => ("'", "'"),
                1 => ("\"", "\""),
                _ => ("", ""),
            };
            let before = if rng.chance(30) { "name: base, " } else { "" };
            let space = rng.pick(&["", " "]);
            w.put(&format!("{unit}{mi}: {{{space}{before}{id_key}: {open}"));
            let range = w.id(&old);
            let after = rng.pick(&["", ", size: 40", " , size: 40"]);
            let trail = trailer(rng, &old);
            w.line(&format!("{close}{after}{space}}}{trail}"));
            ids.insert((*role).to_owned(), (range, old));
            continue;
        }
        w.line(&format!("{unit}{mi}:"));
        let inner = format!("{unit}{unit}");
        if rng.chance(30) {
            w.line(&format!("{inner}name: base-image"));
        }
        if rng.chance(20) {
            w.line(&format!("{unit}# a comment between keys"));
        }
        let trail = trailer(rng, &old);
        let range = match style {
            IdStyle::Plain => {
                w.put(&format!("{inner}{id_key}: "));
                let range = w.id(&old);
                w.line(&trail);
                range
            }
            IdStyle::Single | IdStyle::Double => {
                let quote = if *style == IdStyle::Single { "'" } else { "\"" };
                w.put(&format!("{inner}{id_key}: {quote}"));
                let range = w.id(&old);
                w.line(&format!("{quote}{trail}"));
                range
            }
            IdStyle::FoldedStrip | IdStyle::LiteralStrip | IdStyle::LiteralKeep | IdStyle::FoldedKeep => {
                let header = match style {
                    IdStyle::FoldedStrip => ">-",
                    IdStyle::LiteralStrip => "|-",
                    IdStyle::LiteralKeep => "|",
                    _ => ">",
                };
                w.line(&format!("{inner}{id_key}: {header}{trail}"));
                w.put(&format!("{inner}{unit}"));
                let range = w.id(&old);
                w.line("");
                if rng.chance(40) {
                    w.line("");
                }
                range
            }
            IdStyle::Alias => {
                w.line(&format!("{inner}{id_key}: *img{trail}"));
                0..0
            }
            IdStyle::Anchored | IdStyle::Tagged => {
                let property = if *style == IdStyle::Anchored { format!("&own_{role} ") } else { "!!str ".to_owned() };
                w.put(&format!("{inner}{id_key}: {property}"));
                let range = w.id(&old);
                w.line(&trail);
                range
            }
            IdStyle::Flow | IdStyle::Merged => unreachable!("handled above"),
        };
        if rng.chance(30) {
            w.line(&format!("{inner}size: 40"));
        }
        ids.insert((*role).to_owned(), (range, old));
    }
    // An anchor counts only when something repeats it.
    for (role, style) in roles.iter().zip(&styles) {
        if *style == IdStyle::Anchored {
            w.line(&format!("copy_of_{role}: *own_{role}"));
        }
    }
    if rng.chance(20) {
        w.line("...");
    }
    if rng.chance(20) && w.text.ends_with(nl) {
        w.text.truncate(w.text.len() - nl.len());
    }
    Case { text: w.text, ids, refused: styles.iter().any(|s| s.refused()) }
}

fn load(text: &str) -> Deployment {
    Deployment::parse(Path::new("/repo"), Path::new("/repo/deployments/generated.yaml"), text.to_owned())
        .unwrap_or_else(|error| panic!("the generated case does not parse ({}):\n{text}", error.message))
}

#[test]
fn generated_deployments_are_patched_exactly_or_refused() {
    let cases: usize = std::env::var("PATCH_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(5_000);
    let seed: u64 = std::env::var("PATCH_SEED").ok().and_then(|n| n.parse().ok()).unwrap_or(0x5eed_0fc0_ffee);
    let mut rng = Rng(seed);
    let (mut patched, mut refused) = (0, 0);
    for number in 0..cases {
        let case = generate(&mut rng);
        let deployment = load(&case.text);
        let mut wanted = BTreeMap::new();
        let mut expected = case.text.clone();
        // Replace from the end so earlier ranges stay valid.
        let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
        for (role, (range, old)) in &case.ids {
            let new = if rng.chance(10) { old.clone() } else { rng.ami() };
            wanted.insert(role.clone(), new.clone());
            edits.push((range.clone(), new));
        }
        edits.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
        for (range, new) in edits {
            expected.replace_range(range, &new);
        }
        let replay = format!("case {number} (PATCH_SEED={seed}):\n{}", case.text);
        match patch::patch(&deployment, &wanted) {
            Ok(result) => {
                assert!(!case.refused, "a style that must be refused was patched, {replay}");
                let text = result.map_or(case.text.clone(), |p| p.text);
                assert_eq!(text, expected, "wrong patch, {replay}");
                patched += 1;
            }
            Err(Refusal::Unpatchable { .. }) if case.refused => refused += 1,
            Err(Refusal::Several(all))
                if case.refused && all.iter().all(|one| matches!(one, Refusal::Unpatchable { .. })) =>
            {
                refused += 1
            }
            Err(refusal) => panic!("refused a style it can patch: {}\n{replay}", refusal.message("generated.yaml")),
        }
    }
    // The generator must reach both sides.
    assert!(patched > cases / 4 && refused > cases / 10, "patched {patched}, refused {refused} of {cases}");
}

/// Cases found wrong once, by the generator or by people, each with the
/// outcome people read: the diff, or the refusal.
#[test]
fn kept_cases_match_their_snapshots() {
    let dir = common::fixtures().join("patch-cases");
    let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    assert!(names.len() >= 5, "the kept cases are missing from {}", dir.display());
    for path in names {
        let text = std::fs::read_to_string(&path).unwrap();
        let deployment = load(&text);
        let wanted = BTreeMap::from([
            ("bastion".to_owned(), "ami-0b0b0b0b0b0b0b0b0".to_owned()),
            ("cluster".to_owned(), "ami-0c0c0c0c0c0c0c0c0".to_owned()),
        ]);
        let wanted: BTreeMap<String, String> =
            wanted.into_iter().filter(|(role, _)| deployment.root.get(role).is_some()).collect();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let shown = match patch::patch(&deployment, &wanted) {
            Ok(Some(patched)) => patch::diff::unified_diff(&format!("{name}.yaml"), &text, &patched.text),
            Ok(None) => "no change".to_owned(),
            Err(refusal) => refusal.message(&format!("{name}.yaml")),
        };
        insta::assert_snapshot!(format!("patch-case-{name}"), shown);
    }
}

/// The generated deployments as a stable cluster of a repository with
/// channels, through `promote`, `promote` again, `rollback` and `revoke`
/// run as commands: after each write the file is the original with exactly
/// the recorded characters replaced by the image the channel was given (or
/// untouched, with the command failing, for a style that must be refused),
/// and the revoked image is reported where the generator wrote it.
#[test]
fn generated_deployments_through_promote_rollback_and_revoke() {
    use std::process::Command;

    if common::skip_slow_test("45 generated cases run through promote, rollback and revoke") {
        return;
    }

    let cases: usize = std::env::var("LIFECYCLE_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(45);
    let seed: u64 = std::env::var("PATCH_SEED").ok().and_then(|n| n.parse().ok()).unwrap_or(0x11fe_c7c1e);
    let mut rng = Rng(seed);
    let builder = |region: &str| {
        format!(
            "{{ \"type\": \"amazon-ebs\", \"name\": \"{region}\", \"region\": \"{region}\", \"source_ami\": \
             \"ami-03cf127a\", \"instance_type\": \"t2.micro\", \"ssh_username\": \"core\", \"ami_name\": \
             \"okd-{region}-{{{{timestamp}}}}\" }}"
        )
    };
    let template = format!("{{ \"builders\": [ {}, {} ] }}\n", builder("eu-west-1"), builder("eu-central-1"));
    let (mut written, mut refused) = (0, 0);
    for number in 0..cases {
        let case = generate(&mut rng);
        let replay = format!("case {number} (PATCH_SEED={seed}):\n{}", case.text);
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let packer = common::stand_in_packer(root);
        common::write(root, "xtask.toml", "[channels]\norder = [\"canary\", \"stable\"]\n");
        for release in ["3.11", "3.9"] {
            common::write(root, &format!("packer/{release}/aws/machine-image/template.json"), &template);
            for region in ["eu-west-1", "eu-central-1"] {
                common::write(
                    root,
                    &format!("deployments/canary-{release}-{region}.yaml"),
                    format!(
                        "channel: canary\nrelease: '{release}'\ncloud: aws\nbastion:\n  machine_image:\n    id: \
                         ami-00000000\ncluster:\n  region: {region}\n  machine_image:\n    id: ami-00000000\n"
                    ),
                );
            }
        }
        common::write(root, "deployments/generated.yaml", &case.text);
        let run = |args: &[&str]| {
            Command::new(env!("CARGO_BIN_EXE_xtask"))
                .args(args)
                .arg("--root")
                .arg(root)
                .env("NO_COLOR", "1")
                .env("PACKER", &packer)
                .output()
                .unwrap()
        };
        let generated = || std::fs::read_to_string(root.join("deployments/generated.yaml")).unwrap();
        // The image the canary deployment of the case's release and region boots.
        let deployment = load(&case.text);
        let place = deployment
            .release()
            .zip(deployment.region())
            .map(|(release, region)| (release.to_owned(), region.to_owned()));
        let canary_image = |place: &(String, String)| {
            let text =
                std::fs::read_to_string(root.join(format!("deployments/canary-{}-{}.yaml", place.0, place.1))).unwrap();
            let at = text.rfind("ami-").unwrap();
            text[at..].trim_end().to_owned()
        };
        let with = |id: &str| {
            let mut edits: Vec<&std::ops::Range<usize>> = case.ids.values().map(|(range, _)| range).collect();
            edits.sort_by_key(|range| std::cmp::Reverse(range.start));
            let mut text = case.text.clone();
            for range in edits {
                text.replace_range(range.clone(), id);
            }
            text
        };
        let mut given = Vec::new();
        for build in [&["images"][..], &["images", "--force"][..]] {
            let built = run(build);
            assert!(built.status.success(), "{}\n{replay}", common::text(&built));
            let promoted = run(&["promote", "--to", "stable"]);
            let Some(place) = &place else {
                // No region to place it in: no channel command touches it.
                assert_eq!(generated(), case.text, "{replay}");
                continue;
            };
            if case.refused {
                assert_eq!(promoted.status.code(), Some(1), "{}\n{replay}", common::text(&promoted));
                assert_eq!(generated(), case.text, "a style that must be refused was written, {replay}");
                continue;
            }
            assert!(promoted.status.success(), "{}\n{replay}", common::text(&promoted));
            given.push(canary_image(place));
            assert_eq!(generated(), with(given.last().unwrap()), "wrong promote, {replay}");
        }
        let [first, second] = &given[..] else {
            refused += usize::from(case.refused);
            continue;
        };
        let rolled_back = run(&["rollback", "--channel", "stable"]);
        assert!(rolled_back.status.success(), "{}\n{replay}", common::text(&rolled_back));
        assert_eq!(generated(), with(first), "wrong rollback from {second}, {replay}");
        let revoked = run(&["revoke", first, "--reason", "a bad kernel"]);
        assert!(revoked.status.success(), "{}\n{replay}", common::text(&revoked));
        let lint = run(&["lint-deployments", "--format", "json"]);
        let report: serde_json::Value = serde_json::from_slice(&lint.stdout).unwrap();
        // Each finding spans the line the generator wrote an ID on (a block
        // scalar's span starts at its header), one finding per ID.
        let spans: Vec<(u64, u64)> = report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|finding| finding["code"] == "DEP012" && finding["path"] == "deployments/generated.yaml")
            .map(|finding| (finding["line"].as_u64().unwrap(), finding["end_line"].as_u64().unwrap()))
            .collect();
        let lines: Vec<u64> =
            case.ids.values().map(|(range, _)| case.text[..range.start].matches('\n').count() as u64 + 1).collect();
        assert_eq!(spans.len(), lines.len(), "one finding per ID, {replay}\n{report}");
        for line in lines {
            assert!(
                spans.iter().any(|(start, end)| (*start..=*end).contains(&line)),
                "the revoked image on line {line} is not reported there, {replay}\n{report}"
            );
        }
        written += 1;
    }
    assert!(written > cases / 4 && refused > cases / 10, "written {written}, refused {refused} of {cases}");
}
