//! Where a template's AMIs are made, as xtask plans it and as the real
//! Packer (Debian's 1.6.6) builds it against moto: generated templates
//! spell `region` and `ami_regions` in every way Packer accepts (literals,
//! variables with defaults, locals, lists, comma strings, `env` defaults,
//! `-var`, var files in HCL and JSON, auto var files, `PKR_VAR_`,
//! `AWS_REGION`, `AWS_DEFAULT_REGION`, the AWS shared config), and for each
//! one the regions of every builder in `images --dry-run --format json`
//! must be those Packer reports. Where xtask refuses, Packer must fail too,
//! or the region must be one xtask declines to guess (the shared config)
//! or two builders must really share a region. Cases once found wrong are
//! kept in [`fixed_cases`].

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{text, write};
use serde_json::Value;

const SOURCE_AMI: &str = "ami-03cf127a";
/// Generated cases per run: each is one Packer build of up to three
/// builders, about two seconds, two at a time.
const GENERATED: usize = 32;
const SEED: u64 = 0x5eed_2e61_0e5f_0001;

/// Each builder draws its regions from its own pool, so that builders
/// share a region only through the environment.
const POOLS: [[&str; 3]; 3] = [
    ["eu-west-1", "eu-west-2", "eu-west-3"],
    ["us-east-1", "us-east-2", "us-west-1"],
    ["ap-south-1", "ap-northeast-1", "ap-southeast-1"],
];
const AWS_REGION: &str = "sa-east-1";
const AWS_DEFAULT_REGION: &str = "ca-central-1";
const PROFILE_REGION: &str = "eu-north-1";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Json,
    Hcl2,
}

/// One template and the run around it.
#[derive(Clone, Debug, Default)]
struct Case {
    name: String,
    hcl2: bool,
    /// Per builder, `region` and `ami_regions` as written: JSON values in a
    /// JSON template, HCL expressions in HCL2. `None`: not set.
    builders: Vec<(Option<String>, Option<String>)>,
    /// The builders that set `skip_save_build_region`, by index.
    skip_build_region: Vec<usize>,
    /// JSON: `"name": default` entries of `variables`. HCL2: whole
    /// `variable` blocks.
    variables: Vec<String>,
    /// HCL2 `locals` entries.
    locals: Vec<String>,
    /// `-var` arguments.
    vars: Vec<(String, String)>,
    /// Lines of a JSON var file (`"name": value`) and of an HCL one.
    json_var_file: Vec<String>,
    hcl_var_file: Vec<String>,
    /// Lines of an auto var file (HCL2).
    auto_var_file: Vec<String>,
    env: Vec<(String, String)>,
    /// The region of the default profile in `~/.aws/config`.
    profile_region: Option<String>,
    /// JSON builders named other than `b<index>`, by index.
    renamed: Vec<(usize, String)>,
    /// The builders that are `amazon-ebsvolume`, by index: they make EBS
    /// volumes, not images.
    volumes: Vec<usize>,
    /// A region is spelled in a way xtask does not evaluate (a Go template
    /// pipe or `or`): it must decline to tell, never plan a region.
    declined: bool,
}

impl Case {
    fn format(&self) -> Format {
        if self.hcl2 { Format::Hcl2 } else { Format::Json }
    }

    fn kind(&self, index: usize) -> &'static str {
        if self.volumes.contains(&index) { "amazon-ebsvolume" } else { "amazon-ebs" }
    }

    fn template(&self) -> String {
        match self.format() {
            Format::Json => {
                let mut variables = vec!["\"endpoint\": \"\"".to_owned()];
                variables.extend(self.variables.iter().cloned());
                let builders: Vec<String> = self
                    .builders
                    .iter()
                    .enumerate()
                    .map(|(index, (region, copies))| {
                        let mut settings = vec![
                            format!("\"type\": \"{}\"", self.kind(index)),
                            format!("\"name\": {}", quoted(&builder_name(self, index))),
                            "\"custom_endpoint_ec2\": \"{{user `endpoint`}}\"".to_owned(),
                            "\"communicator\": \"none\"".to_owned(),
                            "\"skip_credential_validation\": true".to_owned(),
                            "\"skip_metadata_api_check\": true".to_owned(),
                            format!("\"source_ami\": \"{SOURCE_AMI}\""),
                            "\"instance_type\": \"t2.micro\"".to_owned(),
                        ];
                        if self.volumes.contains(&index) {
                            settings.push(
                                "\"ebs_volumes\": [{\"device_name\": \"/dev/xvdf\", \"volume_size\": 1}]".to_owned(),
                            );
                        } else {
                            settings.push(format!("\"ami_name\": \"gen-b{index}-{{{{uuid}}}}\""));
                        }
                        settings.extend(region.iter().map(|region| format!("\"region\": {region}")));
                        settings.extend(copies.iter().map(|copies| format!("\"ami_regions\": {copies}")));
                        if self.skip_build_region.contains(&index) {
                            settings.push("\"skip_save_build_region\": true".to_owned());
                        }
                        format!("    {{\n      {}\n    }}", settings.join(",\n      "))
                    })
                    .collect();
                format!(
                    "{{\n  \"variables\": {{\n    {}\n  }},\n  \"builders\": [\n{}\n  ]\n}}\n",
                    variables.join(",\n    "),
                    builders.join(",\n")
                )
            }
            Format::Hcl2 => {
                let mut out = String::from("variable \"endpoint\" {\n  type = string\n}\n\n");
                for variable in &self.variables {
                    out.push_str(variable);
                    out.push_str("\n\n");
                }
                if !self.locals.is_empty() {
                    let _ = writeln!(out, "locals {{\n  {}\n}}\n", self.locals.join("\n  "));
                }
                for (index, (region, copies)) in self.builders.iter().enumerate() {
                    let _ = writeln!(out, "source \"{}\" \"b{index}\" {{", self.kind(index));
                    out.push_str(
                        "  custom_endpoint_ec2        = var.endpoint\n  communicator               = \"none\"\n  \
                         skip_credential_validation = true\n  skip_metadata_api_check    = true\n",
                    );
                    let _ = writeln!(out, "  source_ami                 = \"{SOURCE_AMI}\"");
                    out.push_str("  instance_type              = \"t2.micro\"\n");
                    if self.volumes.contains(&index) {
                        out.push_str("  ebs_volumes {\n    device_name = \"/dev/xvdf\"\n    volume_size = 1\n  }\n");
                    } else {
                        let _ = writeln!(out, "  ami_name                   = \"gen-b{index}-${{uuidv4()}}\"");
                    }
                    if let Some(region) = region {
                        let _ = writeln!(out, "  region = {region}");
                    }
                    if let Some(copies) = copies {
                        let _ = writeln!(out, "  ami_regions = {copies}");
                    }
                    if self.skip_build_region.contains(&index) {
                        out.push_str("  skip_save_build_region = true\n");
                    }
                    out.push_str("}\n\n");
                }
                let sources: Vec<String> =
                    (0..self.builders.len()).map(|index| format!("\"source.{}.b{index}\"", self.kind(index))).collect();
                let _ = writeln!(out, "build {{\n  sources = [{}]\n}}", sources.join(", "));
                out
            }
        }
    }

    /// The case as a reader of a failure needs it.
    fn describe(&self) -> String {
        let mut out = format!("case {}\n--- template\n{}", self.name, self.template());
        for (title, lines) in [
            ("JSON var file", &self.json_var_file),
            ("HCL var file", &self.hcl_var_file),
            ("auto var file", &self.auto_var_file),
        ] {
            if !lines.is_empty() {
                let _ = writeln!(out, "--- {title}\n{}", lines.join("\n"));
            }
        }
        let _ = writeln!(
            out,
            "--- -var {:?}\n--- environment {:?}\n--- profile region {:?}\n--- declined {}",
            self.vars, self.env, self.profile_region, self.declined
        );
        out
    }
}

/// splitmix64: the generator's fixed, reproducible choices.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

/// An HCL list of regions, written in one of the ways HCL reads: on one
/// line or several, with trailing commas and comments.
fn hcl_list(rng: &mut Rng, regions: &[&str]) -> String {
    let items: Vec<String> = regions.iter().map(|region| quoted(region)).collect();
    if items.is_empty() {
        return if rng.chance(50) { "[]".to_owned() } else { "[\n    # none\n  ]".to_owned() };
    }
    match rng.below(4) {
        0 => format!("[{}]", items.join(", ")),
        1 => format!("[{},]", items.join(", ")),
        2 => format!("[\n    {}, # copies\n  ]", items.join(",\n    ")),
        _ => format!("[ // the copies\n    {}\n  ]", items.join(",\n    /* next */ ")),
    }
}

fn json_list(regions: &[&str]) -> String {
    format!("[{}]", regions.iter().map(|region| quoted(region)).collect::<Vec<_>>().join(", "))
}

/// Copies drawn from a builder's pool, sometimes repeating one or naming
/// the build region.
fn copies_from<'a>(rng: &mut Rng, pool: &[&'a str; 3]) -> Vec<&'a str> {
    let mut copies: Vec<&str> = (0..rng.below(3)).map(|_| *rng.pick(pool)).collect();
    if rng.chance(15) {
        copies.push(pool[0]);
    }
    copies
}

fn generate(rng: &mut Rng, index: usize) -> Case {
    let hcl2 = rng.chance(50);
    let mut case = Case { name: format!("generated #{index}"), hcl2, ..Case::default() };
    let builders = 1 + rng.below(3);
    for (builder, pool) in POOLS.iter().enumerate().take(builders) {
        let region = *rng.pick(pool);
        let copies = copies_from(rng, pool);
        let spelled = if hcl2 {
            (hcl2_region(rng, &mut case, builder, region), hcl2_copies(rng, &mut case, builder, &copies))
        } else {
            (json_region(rng, &mut case, builder, region), json_copies(rng, &mut case, builder, &copies))
        };
        case.builders.push(spelled);
        if rng.chance(12) {
            case.skip_build_region.push(builder);
        }
    }
    match rng.below(5) {
        0 => {}
        1 => case.env.push(("AWS_REGION".to_owned(), AWS_REGION.to_owned())),
        2 => case.env.push(("AWS_DEFAULT_REGION".to_owned(), AWS_DEFAULT_REGION.to_owned())),
        3 => {
            case.env.push(("AWS_REGION".to_owned(), String::new()));
            case.env.push(("AWS_DEFAULT_REGION".to_owned(), AWS_DEFAULT_REGION.to_owned()));
        }
        _ => {
            case.env.push(("AWS_REGION".to_owned(), AWS_REGION.to_owned()));
            case.env.push(("AWS_DEFAULT_REGION".to_owned(), AWS_DEFAULT_REGION.to_owned()));
        }
    }
    if rng.chance(30) {
        case.profile_region = Some(PROFILE_REGION.to_owned());
    }
    case
}

/// A Go template call of `function` with one argument, spelled in one of
/// the ways Packer's templates read alike: spaces, either quote, trim
/// markers (with whitespace for them to take), a comment before it.
fn go_call(rng: &mut Rng, function: &str, argument: &str) -> String {
    match rng.below(5) {
        0 => format!("{{{{{function} `{argument}`}}}}"),
        1 => format!("{{{{ {function} `{argument}` }}}}"),
        2 => format!("{{{{{function} \"{argument}\"}}}}"),
        3 => format!(" \t{{{{- {function} `{argument}` -}}}}\n "),
        _ => format!("{{{{/* the {function} */}}}}{{{{{function} `{argument}`}}}}"),
    }
}

fn json_region(rng: &mut Rng, case: &mut Case, builder: usize, region: &str) -> Option<String> {
    let name = format!("region_{builder}");
    let user = Some(format!("\"{{{{user `{name}`}}}}\""));
    match rng.below(13) {
        // The region in two variables: `{{user `area`}}-{{user `rest`}}`.
        9 => {
            let (area, rest) = region.split_once('-').unwrap();
            case.variables.push(format!("\"{name}_area\": {}", quoted(area)));
            case.variables.push(format!("\"{name}_rest\": \"\""));
            if rng.chance(50) {
                case.vars.push((format!("{name}_rest"), rest.to_owned()));
            } else {
                case.json_var_file.push(format!("\"{name}_rest\": {}", quoted(rest)));
            }
            let text = format!(
                "{}-{}",
                go_call(rng, "user", &format!("{name}_area")),
                go_call(rng, "user", &format!("{name}_rest"))
            );
            Some(quoted(&text))
        }
        // A variable whose default is another variable, which Packer
        // renders in turn.
        10 => {
            case.variables.push(format!("\"{name}\": {}", quoted(&go_call(rng, "user", &format!("{name}_base")))));
            case.variables.push(format!("\"{name}_base\": {}", quoted(region)));
            Some(quoted(&go_call(rng, "user", &name)))
        }
        // Builders named after their region.
        11 => {
            case.renamed.push((builder, region.to_owned()));
            Some(quoted(if rng.chance(50) { "{{build_name}}" } else { "{{ build_name }}" }))
        }
        // What xtask does not evaluate: it must decline.
        12 => {
            case.declined = true;
            if rng.chance(50) {
                case.variables.push(format!("\"{name}\": \"\""));
                Some(quoted(&format!("{{{{ or (user `{name}`) \"{region}\" }}}}")))
            } else {
                case.variables.push(format!("\"{name}\": {}", quoted(&region.to_uppercase())));
                Some(quoted(&format!("{{{{user `{name}` | lower}}}}")))
            }
        }
        0 | 1 => Some(quoted(region)),
        2 => None,
        3 => Some(if rng.chance(50) { "\"\"" } else { "null" }.to_owned()),
        4 => {
            case.variables.push(format!("\"{name}\": {}", quoted(region)));
            user
        }
        5 => {
            case.variables.push(format!("\"{name}\": \"\""));
            user
        }
        6 => {
            let variable = format!("REGION_{builder}");
            case.variables.push(format!("\"{name}\": \"{{{{env `{variable}`}}}}\""));
            if rng.chance(70) {
                case.env.push((variable, region.to_owned()));
            }
            user
        }
        7 => {
            case.variables.push(format!("\"{name}\": \"\""));
            case.vars.push((name, region.to_owned()));
            user
        }
        _ => {
            case.variables.push(format!("\"{name}\": \"\""));
            case.json_var_file.push(format!("\"{name}\": {}", quoted(region)));
            user
        }
    }
}

fn json_copies(rng: &mut Rng, case: &mut Case, builder: usize, copies: &[&str]) -> Option<String> {
    let name = format!("copies_{builder}");
    let user = Some(format!("\"{{{{user `{name}`}}}}\""));
    let comma = copies.join(",");
    match rng.below(11) {
        // One variable a copy, joined by commas in the template.
        9 => {
            let mut items = Vec::new();
            for (index, copy) in copies.iter().enumerate() {
                case.variables.push(format!("\"{name}_{index}\": {}", quoted(copy)));
                items.push(go_call(rng, "user", &format!("{name}_{index}")));
            }
            Some(quoted(&items.join(",")))
        }
        // A default read from the environment.
        10 => {
            let variable = format!("COPIES_{builder}");
            case.variables.push(format!("\"{name}\": {}", quoted(&go_call(rng, "env", &variable))));
            case.env.push((variable, comma));
            user
        }
        0 => None,
        1 | 2 => Some(json_list(copies)),
        3 => Some(quoted(&comma)),
        4 => {
            case.variables.push(format!("\"{name}\": {}", quoted(&comma)));
            user
        }
        5 => {
            case.variables.push(format!("\"{name}\": \"\""));
            case.vars.push((name, comma));
            user
        }
        6 => {
            case.variables.push(format!("\"{name}\": \"\""));
            case.json_var_file.push(format!("\"{name}\": {}", quoted(&comma)));
            user
        }
        7 => {
            let first = copies.first().copied().unwrap_or("us-west-2");
            case.variables.push(format!("\"{name}\": {}", quoted(first)));
            let mut items = vec![format!("\"{{{{user `{name}`}}}}\"")];
            items.extend(copies.iter().skip(1).map(|copy| quoted(copy)));
            Some(format!("[{}]", items.join(", ")))
        }
        // A space after a comma: a region named " us-east-2", which
        // Packer refuses.
        _ => Some(quoted(&copies.join(", "))),
    }
}

fn hcl2_region(rng: &mut Rng, case: &mut Case, builder: usize, region: &str) -> Option<String> {
    let name = format!("region_{builder}");
    let var = Some(format!("var.{name}"));
    let declare = |case: &mut Case, body: &str| case.variables.push(format!("variable \"{name}\" {{\n{body}}}"));
    match rng.below(12) {
        0 | 1 => Some(quoted(region)),
        2 => None,
        3 => Some(if rng.chance(50) { "\"\"" } else { "null" }.to_owned()),
        4 => {
            declare(case, &format!("  type    = string\n  default = {}\n", quoted(region)));
            var
        }
        5 => {
            declare(case, &format!("  default = {}\n", quoted(region)));
            Some(format!("\"${{var.{name}}}\""))
        }
        6 => {
            let empty = if rng.chance(50) { "\"\"" } else { "null" };
            declare(case, &format!("  type    = string\n  default = {empty}\n"));
            var
        }
        7 => {
            let variable = format!("REGION_{builder}");
            declare(case, &format!("  type    = string\n  default = env(\"{variable}\")\n"));
            if rng.chance(70) {
                case.env.push((variable, region.to_owned()));
            }
            var
        }
        8 => {
            case.locals.push(format!("{name} = {}", quoted(region)));
            Some(format!("local.{name}"))
        }
        _ => {
            declare(case, "  type    = string\n  default = \"unset-1\"\n");
            give(rng, case, &name, &quoted(region), region);
            var
        }
    }
}

/// Gives a variable its value for the run in one of the ways Packer takes
/// one: `-var`, `PKR_VAR_`, an HCL or JSON var file, an auto var file.
fn give(rng: &mut Rng, case: &mut Case, name: &str, hcl: &str, text: &str) {
    match rng.below(5) {
        0 => case.vars.push((name.to_owned(), text.to_owned())),
        1 => case.env.push((format!("PKR_VAR_{name}"), text.to_owned())),
        2 => case.hcl_var_file.push(format!("{name} = {hcl}")),
        3 => {
            let json: Value = serde_json::from_str(&hcl_to_json(hcl)).unwrap();
            case.json_var_file.push(format!("{}: {json}", quoted(name)));
        }
        _ => case.auto_var_file.push(format!("{name} = {hcl}")),
    }
}

/// The JSON of an HCL literal the generator wrote: comments and trailing
/// commas out.
fn hcl_to_json(hcl: &str) -> String {
    let mut out = String::new();
    for line in hcl.lines() {
        let line = line.split(" #").next().unwrap().split("// ").next().unwrap().replace("/* next */ ", "");
        out.push_str(line.trim());
    }
    out.replace(",]", "]")
}

fn hcl2_copies(rng: &mut Rng, case: &mut Case, builder: usize, copies: &[&str]) -> Option<String> {
    let name = format!("copies_{builder}");
    let var = Some(format!("var.{name}"));
    let declare = |case: &mut Case, body: &str| case.variables.push(format!("variable \"{name}\" {{\n{body}}}"));
    let list = hcl_list(rng, copies);
    match rng.below(10) {
        0 => None,
        1 | 2 => Some(list),
        3 => {
            declare(case, &format!("  type    = list(string)\n  default = {list}\n"));
            var
        }
        4 => {
            // Untyped: the default's tuple type, so a value of another
            // length is refused.
            declare(case, &format!("  default = {}\n", json_list(copies)));
            if rng.chance(50) {
                give(rng, case, &name, &list, &list);
            }
            var
        }
        5 => {
            case.locals.push(format!("{name} = {list}"));
            Some(format!("local.{name}"))
        }
        6 => {
            declare(case, "  type    = list(string)\n  default = []\n");
            give(rng, case, &name, &list, &list);
            var
        }
        7 => {
            // Neither type nor default: a var file's list is a list, a
            // `-var` or `PKR_VAR_` text is a string, which Packer refuses.
            declare(case, "");
            give(rng, case, &name, &list, &list);
            var
        }
        8 => {
            let first = copies.first().copied().unwrap_or("us-west-2");
            declare(case, &format!("  type    = string\n  default = {}\n", quoted(first)));
            let mut items = vec![format!("var.{name}")];
            items.extend(copies.iter().skip(1).map(|copy| quoted(copy)));
            Some(format!("[{}]", items.join(", ")))
        }
        // A comma string, which HCL2 does not split: Packer refuses it.
        _ => {
            declare(case, &format!("  type    = string\n  default = {}\n", quoted(&copies.join(","))));
            var
        }
    }
}

/// Cases a run of the generator once found xtask wrong on, or the issue
/// that started this file named; each stays.
fn fixed_cases() -> Vec<Case> {
    let json_copies = Case {
        name: "a JSON comma string through a user variable".to_owned(),
        builders: vec![(Some("\"eu-west-1\"".to_owned()), Some("\"{{user `copies`}}\"".to_owned()))],
        variables: vec!["\"copies\": \"us-east-1,us-west-2\"".to_owned()],
        ..Case::default()
    };
    let hcl_trailing_comma = Case {
        name: "an HCL var file list with a trailing comma".to_owned(),
        hcl2: true,
        builders: vec![(Some("\"eu-central-1\"".to_owned()), Some("var.copies".to_owned()))],
        variables: vec!["variable \"copies\" {\n  type    = list(string)\n  default = []\n}".to_owned()],
        hcl_var_file: vec!["copies = [ \"eu-west-1\", \"us-east-1\", ]".to_owned()],
        ..Case::default()
    };
    let from_environment = |hcl2: bool| Case {
        name: format!("no region, AWS_REGION set ({})", if hcl2 { "HCL2" } else { "JSON" }),
        hcl2,
        builders: vec![(None, None)],
        env: vec![("AWS_REGION".to_owned(), "eu-west-1".to_owned())],
        ..Case::default()
    };
    let from_profile = Case {
        name: "no region, only the profile's".to_owned(),
        builders: vec![(None, None)],
        profile_region: Some(PROFILE_REGION.to_owned()),
        ..Case::default()
    };
    let copy_is_the_environment_region = Case {
        name: "a copy to the region AWS_REGION builds in".to_owned(),
        hcl2: true,
        builders: vec![(None, Some("[\"eu-west-1\", \"us-east-1\"]".to_owned()))],
        env: vec![("AWS_REGION".to_owned(), "eu-west-1".to_owned())],
        ..Case::default()
    };
    // Packer reports the build region's AMI that it deregistered.
    let skip_build_region = Case {
        name: "skip_save_build_region".to_owned(),
        builders: vec![(Some("\"eu-west-1\"".to_owned()), Some("[\"us-east-1\"]".to_owned()))],
        skip_build_region: vec![0],
        ..Case::default()
    };
    // duplicate-region took an empty region and an empty `ami_regions` for
    // one region `` and refused the template.
    let empty_settings = Case {
        name: "an empty region beside an empty ami_regions".to_owned(),
        builders: vec![(Some("\"\"".to_owned()), None), (Some("\"us-east-1\"".to_owned()), Some("\"\"".to_owned()))],
        env: vec![("AWS_REGION".to_owned(), "eu-west-1".to_owned())],
        ..Case::default()
    };
    // duplicate-region compared the two variables' common default, not the
    // regions the run gives them.
    let placeholder = |name: &str| format!("variable \"{name}\" {{\n  type    = string\n  default = \"unset-1\"\n}}");
    let given_placeholders = Case {
        name: "two regions defaulting to one placeholder, each given a value".to_owned(),
        hcl2: true,
        builders: vec![(Some("var.region_0".to_owned()), None), (Some("var.region_1".to_owned()), None)],
        variables: vec![placeholder("region_0"), placeholder("region_1")],
        vars: vec![("region_0".to_owned(), "eu-west-1".to_owned())],
        env: vec![("PKR_VAR_region_1".to_owned(), "us-east-1".to_owned())],
        ..Case::default()
    };
    // A null default was a region xtask could not tell; Packer takes it as
    // no region.
    let null_default = Case {
        name: "a region variable whose default is null".to_owned(),
        hcl2: true,
        builders: vec![(Some("var.region_0".to_owned()), Some("var.copies_0".to_owned()))],
        variables: vec![
            "variable \"region_0\" {\n  type    = string\n  default = null\n}".to_owned(),
            "variable \"copies_0\" {\n  type    = list(string)\n  default = null\n}".to_owned(),
        ],
        env: vec![("AWS_DEFAULT_REGION".to_owned(), "eu-west-2".to_owned())],
        ..Case::default()
    };
    // The evaluator read `PKR_VAR_` as Packer 1.8+ does (an untyped empty
    // list default has no type there, so the text is a string), while the
    // Packer that builds, 1.6.6, types it as an empty tuple and reads the
    // text as an expression: the plan reads as the installed release.
    let pkr_var_by_release = Case {
        name: "PKR_VAR_ for untyped empty-list and null defaults, read as the installed Packer reads it".to_owned(),
        hcl2: true,
        builders: vec![(Some("var.region_0".to_owned()), Some("var.copies_0".to_owned()))],
        variables: vec![
            "variable \"region_0\" {\n  default = null\n}".to_owned(),
            "variable \"copies_0\" {\n  default = []\n}".to_owned(),
        ],
        env: vec![
            ("PKR_VAR_region_0".to_owned(), "\"eu-west-1\"".to_owned()),
            ("PKR_VAR_copies_0".to_owned(), "[\n    # none\n  ]".to_owned()),
        ],
        ..Case::default()
    };
    // Regions through a conditional, a function and a `for` in locals, as
    // the evaluator reads them.
    let computed_locals = Case {
        name: "regions computed in locals".to_owned(),
        hcl2: true,
        builders: vec![(Some("local.home".to_owned()), Some("local.copies".to_owned()))],
        variables: vec!["variable \"stage\" {\n  type    = string\n  default = \"test\"\n}".to_owned()],
        locals: vec![
            "home   = var.stage == \"prod\" ? \"eu-west-1\" : lower(\"EU-CENTRAL-1\")".to_owned(),
            "copies = [for r in [\"us-east\", \"us-west\"] : \"${r}-${length(var.stage) - 2}\"]".to_owned(),
        ],
        vars: vec![("stage".to_owned(), "prod".to_owned())],
        ..Case::default()
    };
    // An action with a user call in it was taken for the variable alone:
    // xtask planned AWS_REGION's region, and Packer built us-east-1.
    let through_or = Case {
        name: "a JSON region through `or`, its variable empty".to_owned(),
        builders: vec![(Some(quoted("{{ or (user `r`) \"us-east-1\" }}")), None)],
        variables: vec!["\"r\": \"\"".to_owned()],
        env: vec![("AWS_REGION".to_owned(), "sa-east-1".to_owned())],
        declined: true,
        ..Case::default()
    };
    let env_through_or = Case {
        name: "a JSON variable's default through `or` and `env`".to_owned(),
        builders: vec![(Some(quoted("{{user `r`}}")), None)],
        variables: vec![format!("\"r\": {}", quoted("{{ or (env `UNSET_REGION`) \"eu-west-2\" }}"))],
        env: vec![("AWS_REGION".to_owned(), "sa-east-1".to_owned())],
        declined: true,
        ..Case::default()
    };
    // Packer renders defaults, and values given, with user variables and
    // `env`; xtask took them as unknown.
    let variables_in_variables = Case {
        name: "JSON variables whose values are variables and environment variables".to_owned(),
        builders: vec![(Some(quoted("{{user `r`}}")), Some(quoted("{{user `c`}}")))],
        variables: vec![
            format!("\"r\": {}", quoted("{{user `base`}}")),
            "\"base\": \"eu-west-3\"".to_owned(),
            "\"c\": \"\"".to_owned(),
            "\"first\": \"us-west-1\"".to_owned(),
        ],
        json_var_file: vec![format!("\"c\": {}", quoted("{{user `first`}},{{ env `SECOND_COPY` }}"))],
        env: vec![("SECOND_COPY".to_owned(), "ap-south-1".to_owned())],
        ..Case::default()
    };
    let build_name = Case {
        name: "a JSON builder named after its region, `{{build_name}}`".to_owned(),
        builders: vec![(Some(quoted("{{build_name}}")), None)],
        renamed: vec![(0, "eu-west-1".to_owned())],
        ..Case::default()
    };
    // An amazon-ebsvolume builder was planned as one that makes images; its
    // build made volumes, and the run failed after them.
    let volumes = |hcl2: bool| Case {
        name: format!("an amazon-ebsvolume builder beside an amazon-ebs one ({})", if hcl2 { "HCL2" } else { "JSON" }),
        hcl2,
        builders: vec![(Some(quoted("eu-west-1")), None), (Some(quoted("us-east-1")), None)],
        volumes: vec![0],
        ..Case::default()
    };
    // duplicate-region took two `{{build_name}}` for one region.
    let build_names = Case {
        name: "two JSON builders named after their regions, `{{build_name}}` each".to_owned(),
        builders: vec![(Some(quoted("{{build_name}}")), None), (Some(quoted("{{build_name}}")), None)],
        renamed: vec![(0, "eu-west-1".to_owned()), (1, "us-east-2".to_owned())],
        ..Case::default()
    };
    let trim_markers = Case {
        name: "JSON trim markers and comments".to_owned(),
        builders: vec![(Some(quoted("  {{- user `r` -}}\n")), Some(quoted("{{/* none */}}{{user `c`}}")))],
        variables: vec!["\"r\": \"eu-west-1\"".to_owned(), "\"c\": \"us-east-1\"".to_owned()],
        ..Case::default()
    };
    vec![
        pkr_var_by_release,
        computed_locals,
        through_or,
        env_through_or,
        variables_in_variables,
        build_name,
        build_names,
        volumes(false),
        volumes(true),
        trim_markers,
        skip_build_region,
        empty_settings,
        given_placeholders,
        null_default,
        json_copies,
        hcl_trailing_comma,
        from_environment(false),
        from_environment(true),
        from_profile,
        copy_is_the_environment_region,
    ]
}

/// What one side says of a case: per builder its regions, or why it
/// builds nothing.
type Regions = Result<BTreeMap<String, BTreeSet<String>>, String>;

struct Run {
    root: tempfile::TempDir,
    home: PathBuf,
    args: Vec<String>,
    case: Case,
}

impl Run {
    fn new(case: Case) -> Run {
        let root = tempfile::tempdir().unwrap();
        let home = root.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        if let Some(region) = &case.profile_region {
            write(&home, ".aws/config", format!("[default]\nregion = {region}\n"));
        }
        let folder = match case.format() {
            Format::Json => "packer/3.11/aws/machine-image/template.json",
            Format::Hcl2 => "packer/4.0/aws/machine-image/main.pkr.hcl",
        };
        write(root.path(), folder, case.template());
        std::fs::create_dir_all(root.path().join("deployments")).unwrap();
        let mut args: Vec<String> = Vec::new();
        for (name, value) in &case.vars {
            args.extend(["-var".to_owned(), format!("{name}={value}")]);
        }
        if !case.json_var_file.is_empty() {
            let text = format!("{{\n  {}\n}}\n", case.json_var_file.join(",\n  "));
            let path = write(root.path(), "vars/values.json", text);
            args.extend(["-var-file".to_owned(), path.display().to_string()]);
        }
        if !case.hcl_var_file.is_empty() {
            let path = write(root.path(), "vars/values.pkrvars.hcl", case.hcl_var_file.join("\n") + "\n");
            args.extend(["-var-file".to_owned(), path.display().to_string()]);
        }
        if !case.auto_var_file.is_empty() {
            let text = case.auto_var_file.join("\n") + "\n";
            write(root.path(), "packer/4.0/aws/machine-image/given.auto.pkrvars.hcl", text);
        }
        Run { root, home, args, case }
    }

    fn template_dir(&self) -> PathBuf {
        let release = if self.case.hcl2 { "4.0" } else { "3.11" };
        self.root.path().join(format!("packer/{release}/aws/machine-image"))
    }

    /// The run's environment, and nothing of the caller's AWS settings.
    fn environment(&self, command: &mut Command) {
        for name in ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SDK_LOAD_CONFIG"] {
            command.env_remove(name);
        }
        for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("PKR_VAR_")) {
            command.env_remove(name);
        }
        command
            .env("HOME", &self.home)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("NO_COLOR", "1")
            .envs(self.case.env.iter().map(|(name, value)| (name, value)));
    }

    fn xtask(&self, endpoint: &str) -> Regions {
        let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
        command.args(["images", "--dry-run", "--format", "json", "--root"]).arg(self.root.path());
        command.args(["--var", &format!("endpoint={endpoint}")]);
        for pair in self.args.chunks(2) {
            // `images` takes Packer's -var and -var-file as --var and --var-file.
            command.args([format!("-{}", pair[0]), pair[1].clone()]);
        }
        self.environment(&mut command);
        let output = command.output().expect("xtask runs");
        // A run refused as a whole (a var file that is not HCL) prints no plan.
        let Ok(plan) = serde_json::from_slice::<Value>(&output.stdout) else {
            assert_eq!(output.status.code(), Some(2), "{}", text(&output));
            return Err(common::stderr(&output));
        };
        let template = &plan["templates"][0];
        if template["action"] != "build" {
            return Err(template["reason"].as_str().unwrap_or_default().to_owned());
        }
        assert_eq!(output.status.code(), Some(0), "{}", text(&output));
        Ok(template["builders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|builder| {
                let regions = builder["regions"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_owned());
                (builder["name"].as_str().unwrap().to_owned(), regions.collect())
            })
            .collect())
    }

    fn packer(&self, moto: &xtask::moto::Moto) -> Regions {
        let endpoint = &moto.endpoint;
        let mut command = Command::new(common::packer());
        command.args(["build", "-machine-readable", "-color=false", "-var", &format!("endpoint={endpoint}")]);
        // A JSON template takes JSON var files only, as `images` passes them.
        for pair in self.args.chunks(2) {
            if self.case.hcl2 || !pair[1].ends_with(".hcl") {
                command.args(pair);
            }
        }
        command.arg(if self.case.hcl2 { "." } else { "template.json" }).current_dir(self.template_dir());
        self.environment(&mut command);
        let output = command.output().expect("packer runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let mut reported: Vec<(String, String, String)> = Vec::new();
        for line in stdout.lines() {
            let fields: Vec<&str> = line.splitn(6, ',').collect();
            if let [_, builder, "artifact", _, "id", id] = fields.as_slice() {
                let id = id.replace("%!(PACKER_COMMA)", ",");
                for (region, image) in id.split(',').filter_map(|pair| pair.split_once(':')) {
                    reported.push(((*builder).to_owned(), region.to_owned(), image.to_owned()));
                }
            }
        }
        // An image is an AMI: `amazon-ebsvolume` reports its volumes where
        // the others report AMIs, and no deployment boots a volume.
        reported.retain(|(_, _, id)| id.starts_with("ami-"));
        // Packer reports the AMI `skip_save_build_region` deregistered:
        // built is what exists.
        if !self.case.skip_build_region.is_empty() {
            let existing = moto_images(moto, reported.iter().map(|(_, region, _)| region.as_str()));
            reported.retain(|(_, _, image)| existing.contains(image));
        }
        let mut built: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (builder, region, _) in reported {
            built.entry(builder).or_default().insert(region);
        }
        if output.status.success() {
            Ok(built)
        } else {
            let errors: Vec<String> = stdout
                .lines()
                .filter(|line| line.contains(",ui,error,"))
                .map(|line| line.split(",ui,error,").nth(1).unwrap_or_default().replace("%!(PACKER_COMMA)", ","))
                .collect();
            Err(format!("{}{}", errors.join(" | "), String::from_utf8_lossy(&output.stderr)))
        }
    }
}

/// Packer's name for a builder of a case.
fn builder_name(case: &Case, index: usize) -> String {
    if let Some((_, name)) = case.renamed.iter().find(|(renamed, _)| *renamed == index) {
        return name.clone();
    }
    if case.hcl2 { format!("{}.b{index}", case.kind(index)) } else { format!("b{index}") }
}

/// The AMIs of moto's EC2 in these regions.
fn moto_images<'a>(moto: &xtask::moto::Moto, regions: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    let regions: BTreeSet<&str> = regions.collect();
    let script = format!(
        "import boto3\nfor r in {regions:?}:\n    c = boto3.client('ec2', region_name=r, endpoint_url='{}', \
         aws_access_key_id='t', aws_secret_access_key='t')\n    for i in c.describe_images(Owners=['self'])['Images']:\n        \
         print(i['ImageId'])",
        moto.endpoint
    );
    let output = Command::new(&moto.python).arg("-c").arg(script).output().expect("python runs");
    assert!(output.status.success(), "boto3 failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).lines().map(str::to_owned).collect()
}

/// Whether xtask's answer is Packer's, and if not, why.
fn agree(case: &Case, planned: &Regions, built: &Regions) -> Result<(), String> {
    match (planned, built) {
        (Ok(planned), Ok(built)) if planned == built => Ok(()),
        (Ok(planned), Ok(built)) => Err(format!("xtask plans {planned:?}, Packer built {built:?}")),
        (Ok(planned), Err(why)) => Err(format!("xtask plans {planned:?}, and Packer fails: {why}")),
        (Err(_), Err(_)) => Ok(()),
        (Err(refusal), Ok(built)) => {
            let overlap = {
                let all: Vec<&String> = built.values().flatten().collect();
                all.len() != all.iter().collect::<BTreeSet<_>>().len()
            };
            let from_profile = case.profile_region.is_some() && refusal.contains("neither AWS_REGION nor AWS_DEFAULT");
            let twice = refusal.contains("both make an image in");
            // A region listed twice is refused by the linter on purpose:
            // Packer copies once, and the template says it twice.
            let listed_twice = refusal.contains("is listed twice in `ami_regions` [duplicate-region]");
            // `skip_save_build_region` without a copy keeps nothing.
            let keeps_nothing = refusal.contains("it keeps no image")
                && (0..case.builders.len()).any(|index| !built.contains_key(&builder_name(case, index)));
            // A builder of EBS volumes builds nothing xtask patches with.
            let volumes = !case.volumes.is_empty() && refusal.contains("makes EBS volumes, not images");
            // A spelling xtask does not evaluate: declining is its answer.
            let declined = case.declined && refusal.contains("cannot tell before the build");
            if (twice && overlap) || (from_profile && !twice) || listed_twice || keeps_nothing || declined || volumes {
                Ok(())
            } else {
                Err(format!("xtask refuses ({refusal}), and Packer built {built:?}"))
            }
        }
    }
}

/// The fixed cases and the generated ones. `REGIONS_SEED` and
/// `REGIONS_CASES` run other or more generated cases, for a longer search.
fn cases() -> Vec<Case> {
    let number = |name: &str| std::env::var(name).ok().and_then(|value| value.parse::<u64>().ok());
    let mut rng = Rng(number("REGIONS_SEED").unwrap_or(SEED));
    let count = number("REGIONS_CASES").map_or(GENERATED, |count| count as usize);
    let mut cases = fixed_cases();
    cases.extend((0..count).map(|index| generate(&mut rng, index)));
    cases
}

#[test]
fn xtask_plans_the_regions_packer_builds() {
    if common::skip_slow_test("52 generated templates built with the real Packer against moto") {
        return;
    }
    let moto = xtask::moto::Moto::start().unwrap_or_else(|error| panic!("{error:#}"));
    let cases = cases();
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let counts = Mutex::new((0, 0));
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                while let Some(case) = cases.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let run = Run::new(case.clone());
                    let planned = run.xtask(&moto.endpoint);
                    let built = run.packer(&moto);
                    let mut counts = counts.lock().unwrap();
                    if built.is_ok() {
                        counts.0 += 1
                    } else {
                        counts.1 += 1
                    }
                    if let Err(why) = agree(case, &planned, &built) {
                        failures.lock().unwrap().push(format!("{why}\n{}", case.describe()));
                    }
                }
            });
        }
    });
    let (built, refused) = *counts.lock().unwrap();
    eprintln!("{} cases: Packer built {built}, refused {refused}", cases.len());
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{} disagreement(s):\n\n{}", failures.len(), failures.join("\n\n"));
    // A generator whose cases all fail would check nothing.
    assert!(built * 2 > cases.len(), "too few cases built: {built} of {}", cases.len());
}

/// The generator writes what it means to: its HCL lists read as JSON.
#[test]
fn generated_hcl_lists_are_the_regions_written() {
    let mut rng = Rng(SEED);
    for _ in 0..20 {
        let regions = copies_from(&mut rng, &POOLS[1]);
        let list = hcl_list(&mut rng, &regions);
        let back: Vec<String> = serde_json::from_str(&hcl_to_json(&list)).unwrap_or_else(|e| panic!("{list}: {e}"));
        assert_eq!(back, regions, "{list}");
    }
}
