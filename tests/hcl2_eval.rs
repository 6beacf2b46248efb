//! xtask's HCL2 evaluator against Packer 1.6.6's own `packer console`.
//!
//! Expressions are generated from a grammar with a fixed seed (literals,
//! references to variables set by default, auto var file, `-var-file`,
//! `-var` and `PKR_VAR_`, locals with heredocs and strip markers,
//! operators, templates, `for` expressions, conditionals, splats, indexes,
//! and calls of the functions Packer 1.6.6 has, with arguments of the
//! right and of wrong types). Each is evaluated by xtask and, in batches,
//! by one `packer console` session: `jsonencode(expression)` on a line,
//! then a marker. They agree when both give the same JSON, both refuse, or
//! xtask says it cannot know (an unknown: it never guesses). Every
//! disagreement found is kept in `tests/hcl2_eval/cases.tsv` with Packer's
//! answer, which a second test checks without Packer.
//!
//! `HCL2_EVAL_SEED` and `HCL2_EVAL_CASES` explore other expressions.

mod common;
use common::Rng;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};

use xtask::hcl2::Given;
use xtask::hcl2::eval::{Evaluator, Options};
use xtask::hcl2::{At, Hcl2Template};
use xtask::schema::functions::{self, Purity};
use xtask::version::Version;

const TEMPLATE: &str = r#"variable "s" {
  default = "abc"
}
variable "n" {
  type    = number
  default = 3
}
variable "l" {
  type    = list(string)
  default = ["x", "y", "z"]
}
variable "m" {
  type    = map(number)
  default = { a = 1, b = 2 }
}
variable "o" {
  default = { name = "web", tags = ["a", "b"], size = 10 }
}
variable "b" {
  type    = bool
  default = true
}
variable "objs" {
  default = [{ id = 1, name = "a" }, { id = 2, name = "b" }]
}
variable "empty" {
  default = ""
}
variable "from_auto_file" {
  default = "default"
}
variable "from_var_file" {
  default = "default"
}
variable "from_env" {
  default = "default"
}
variable "from_cli" {
  type    = list(number)
  default = []
}
variable "unset_typed" {
  type = string
}
locals {
  greeting = "hello-${var.s}"
  twice    = var.n * 2
  names    = [for o in var.objs : o.name]
  by_name  = { for o in var.objs : o.name => o.id }
  heredoc  = <<EOT
line ${var.s}
  indented
EOT
  indented = <<-EOT
    a
      b
    EOT
  stripped = "x %{~ if var.b ~} yes %{~ else ~} no %{~ endif ~} y"
  listed   = "%{ for i, v in var.l ~}${i}=${v} %{ endfor ~}."
}
source "null" "n" {
  communicator = "none"
}
build {
  sources = ["source.null.n"]
}
"#;

/// The folder every expression is evaluated in.
fn write_folder(dir: &Path) {
    std::fs::write(dir.join("template.pkr.hcl"), TEMPLATE).unwrap();
    std::fs::write(dir.join("values.auto.pkrvars.hcl"), "from_auto_file = \"auto\"\n").unwrap();
    std::fs::write(dir.join("extra.pkrvars.hcl"), "from_var_file = \"extra\"\nfrom_auto_file = \"overridden\"\n")
        .unwrap();
    std::fs::write(dir.join("data.txt"), "file text\n").unwrap();
}

/// What `packer console` is given besides the folder.
const VAR_FILE: &str = "extra.pkrvars.hcl";
const CLI_VAR: (&str, &str) = ("from_cli", "[1, 2]");
const ENV_VAR: (&str, &str) = ("from_env", "env");

fn options(template: &Hcl2Template, dir: &Path) -> Options {
    let var_file = template.files.iter().position(|file| file.name == VAR_FILE).unwrap();
    Options {
        packer_version: Some(Version(1, 6, 6)),
        environment: None,
        env_vars: BTreeMap::from([(ENV_VAR.0.to_owned(), ENV_VAR.1.to_owned())]),
        var_files: vec![var_file],
        vars: BTreeMap::from([(CLI_VAR.0.to_owned(), Given::Arg(CLI_VAR.1.to_owned()))]),
        folder: Some(dir.to_owned()),
        read_root: None,
        clock: None,
        unknown_variables: Default::default(),
    }
}

/// An answer to `jsonencode(expression)`.
#[derive(Clone, Debug, PartialEq)]
enum Answer {
    Json(String),
    Unknown,
    Refused,
}

impl Answer {
    fn recorded(&self) -> String {
        match self {
            Answer::Json(json) => format!("json {json}"),
            Answer::Unknown => "unknown".to_owned(),
            Answer::Refused => "refused".to_owned(),
        }
    }

    fn from_record(text: &str) -> Answer {
        match text {
            "unknown" => Answer::Unknown,
            "refused" => Answer::Refused,
            other => Answer::Json(
                other.strip_prefix("json ").expect("a case's answer: json …, unknown or refused").to_owned(),
            ),
        }
    }
}

/// xtask's answer to the same `jsonencode(expression)`.
fn xtask_answer(evaluator: &Evaluator<'_>, expression: &str) -> Answer {
    match evaluator.text(&At { file: 0, bytes: 0..0 }, &format!("jsonencode({expression})")) {
        Err(_) => Answer::Refused,
        Ok(value) => value.as_str().map_or(Answer::Unknown, |json| Answer::Json(json.to_owned())),
    }
}

/// Do xtask's answer and Packer's agree? An unknown never disagrees.
fn agree(xtask: &Answer, packer: &Answer) -> bool {
    xtask == packer || *xtask == Answer::Unknown
}

/// Evaluates `expressions` in one `packer console` session. Packer 1.6.6
/// prints only the last result when its input is a pipe, so its input is
/// a terminal (its output a pipe, which keeps readline from drawing).
fn packer_answers(packer: &Path, dir: &Path, expressions: &[String]) -> Vec<Answer> {
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two new descriptors, which are owned below.
    let status =
        unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), std::ptr::null()) };
    assert_eq!(status, 0, "openpty failed: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are new and owned by nothing else.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let (mut output, writer) = std::io::pipe().unwrap();
    let mut child = Command::new(packer)
        .args(["console", &format!("-var-file={VAR_FILE}"), "-var", &format!("{}={}", CLI_VAR.0, CLI_VAR.1), "."])
        .current_dir(dir)
        .env("CHECKPOINT_DISABLE", "1")
        .env(format!("PKR_VAR_{}", ENV_VAR.0), ENV_VAR.1)
        .stdin(Stdio::from(slave))
        .stdout(writer.try_clone().unwrap())
        .stderr(writer)
        .spawn()
        .expect("packer console starts");
    let mut terminal = std::fs::File::from(master);
    let mut input = String::new();
    for (index, expression) in expressions.iter().enumerate() {
        input.push_str(&format!("jsonencode({expression})\n\"@@${{\"M\"}}-{index}@@\"\n"));
    }
    input.push_str("exit\n");
    // The terminal echoes what is typed: read it away while writing.
    let mut echo = terminal.try_clone().unwrap();
    let drain = std::thread::spawn(move || {
        let mut sink = [0u8; 4096];
        while matches!(echo.read(&mut sink), Ok(n) if n > 0) {}
    });
    let writing = std::thread::spawn(move || {
        terminal.write_all(input.as_bytes()).unwrap();
        terminal
    });
    let mut text = String::new();
    output.read_to_string(&mut text).unwrap();
    let status = child.wait().unwrap();
    drop(writing.join().unwrap());
    drop(drain);
    assert!(
        text.contains(&format!("@@M-{}@@", expressions.len().saturating_sub(1))),
        "packer console ({status}) said:\n{text}"
    );
    let mut answers = Vec::new();
    let mut block = String::new();
    for line in text.lines() {
        if line.starts_with("@@M-") && line.ends_with("@@") {
            let answer = block.trim();
            answers.push(if answer.contains("Error: ") {
                Answer::Refused
            } else if answer == "<unknown>" {
                Answer::Unknown
            } else {
                Answer::Json(answer.to_owned())
            });
            block.clear();
        } else {
            block.push_str(line);
            block.push('\n');
        }
    }
    assert_eq!(answers.len(), expressions.len(), "packer console said:\n{text}");
    answers
}

const NUMBERS: &[&str] = &["0", "1", "2", "3", "7", "10", "-4", "0.5", "1.25", "2.5", "0.1", "1e3", "1.5e2", "100"];
const STRINGS: &[&str] = &[
    "\"\"",
    "\"a\"",
    "\"abc\"",
    "\"Hello World\"",
    "\"10\"",
    "\"2.5\"",
    "\"true\"",
    "\"false\"",
    "\" pad \"",
    "\"a,b,c\"",
    "\"x-y-z\"",
    "\"é\"",
    "\"<&>\"",
    "\"line\\nbreak\"",
    "\"10.0.0.0/16\"",
    "\"192.168.1.0/24\"",
    "\"2024-02-29T10:20:30Z\"",
    "\"%s-%d\"",
    "\"data.txt\"",
    "\"missing.txt\"",
    "\"[1, 2]\"",
    "\"{\\\"a\\\": 1}\"",
    "\"aGVsbG8=\"",
    "\"ff\"",
];
const REFERENCES: &[&str] = &[
    "var.s",
    "var.n",
    "var.l",
    "var.m",
    "var.o",
    "var.o.name",
    "var.o.tags[1]",
    "var.b",
    "var.objs",
    "var.empty",
    "var.from_auto_file",
    "var.from_var_file",
    "var.from_env",
    "var.from_cli",
    "var.unset_typed",
    "var.l[0]",
    "var.m[\"a\"]",
    "var.m.b",
    "var.objs[*].name",
    "var.objs.*.id",
    "var.objs[1].id",
    "local.greeting",
    "local.twice",
    "local.names",
    "local.by_name",
    "local.heredoc",
    "local.indented",
    "local.stripped",
    "local.listed",
    "path.root",
    "var.nope",
    "local.nope",
    "var.l[5]",
    "data.amazon-ami.x.id",
];
const BINARY: &[&str] = &["+", "-", "*", "/", "%", "==", "!=", "<", ">", "<=", ">=", "&&", "||"];

/// The functions Packer 1.6.6 has that depend only on their arguments
/// (or on the folder's files).
fn callable() -> Vec<&'static functions::Function> {
    functions::FUNCTIONS
        .iter()
        .filter(|function| function.in_release(Version(1, 6, 6)))
        .filter(|function| matches!(function.purity, Purity::Pure) || ["file", "fileexists"].contains(&function.name))
        .collect()
}

fn expression(random: &mut Rng, depth: usize, functions: &[&functions::Function]) -> String {
    let leaf = depth == 0 || random.chance(30);
    if leaf {
        return match random.below(5) {
            0 => random.pick(NUMBERS).to_owned(),
            1 | 2 => random.pick(STRINGS).to_owned(),
            3 => random.pick(REFERENCES).to_owned(),
            _ => random.pick(&["true", "false", "null"]).to_owned(),
        };
    }
    let sub = |random: &mut Rng| expression(random, depth - 1, functions);
    match random.below(13) {
        0 => format!("[{}, {}]", sub(random), sub(random)),
        1 => format!("{{ {} = {}, k = {} }}", random.pick(&["a", "b", "\"c\""]), sub(random), sub(random)),
        2 => format!("{}{}", random.pick(&["-", "!"]), sub(random)),
        3 | 4 => format!("({} {} {})", sub(random), random.pick(BINARY), sub(random)),
        5 => format!("({} ? {} : {})", sub(random), sub(random), sub(random)),
        6 => format!("\"pre-${{{}}}-post\"", sub(random)),
        7 => format!("\"%{{ if {} }}yes%{{ else }}no%{{ endif }}\"", sub(random)),
        8 => match random.below(3) {
            0 => format!("[for x in {} : x]", sub(random)),
            1 => format!("[for k, v in {} : \"${{k}}:${{v}}\" if v != null]", sub(random)),
            _ => format!("{{ for k, v in {} : v => k... }}", sub(random)),
        },
        9 => format!("{}[{}]", sub(random), sub(random)),
        10 => format!("\"%{{ for x in {} }}<${{x}}>%{{ endfor }}\"", sub(random)),
        _ => call(random, depth, functions),
    }
}

fn call(random: &mut Rng, depth: usize, functions: &[&functions::Function]) -> String {
    let function = functions[random.below(functions.len())];
    let signature = function.signature(Some(Version(1, 6, 6)));
    let mut count = signature.params.len() + if signature.variadic.is_some() { random.below(3) } else { 0 };
    // Sometimes one argument too many or too few.
    if random.chance(8) {
        count = if count > 0 && random.chance(50) { count - 1 } else { count + 1 };
    }
    let mut args = Vec::new();
    for index in 0..count {
        let ty = signature.params.get(index).or(signature.variadic.as_ref()).map_or("any", |param| param.ty);
        let arg = if random.chance(80) { typed(random, ty, depth) } else { expression(random, depth - 1, functions) };
        args.push(arg);
    }
    format!("{}({})", function.name, args.join(", "))
}

/// An argument of the type a parameter wants, mostly.
fn typed(random: &mut Rng, ty: &str, depth: usize) -> String {
    let _ = depth;
    match ty {
        "string" => {
            if random.chance(70) {
                random.pick(STRINGS).to_owned()
            } else {
                random.pick(&["var.s", "local.greeting", "var.o.name", "var.l[0]"]).to_owned()
            }
        }
        "number" => random.pick(NUMBERS).to_owned(),
        "bool" => random.pick(&["true", "false", "var.b"]).to_owned(),
        "list(string)" | "set(string)" => random
            .pick(&["[\"a\", \"b\"]", "var.l", "[]", "[\"b\", \"a\", \"b\"]", "local.names", "[\"x\", \"\"]"])
            .to_owned(),
        "list(number)" | "set(number)" => random.pick(&["[1, 2, 3]", "var.from_cli", "[]", "[3, 1]"]).to_owned(),
        "list(bool)" => random.pick(&["[true, false]", "[]"]).to_owned(),
        _ => random
            .pick(&[
                "[\"a\", \"b\"]",
                "var.l",
                "var.m",
                "var.o",
                "var.objs",
                "{ a = 1, b = \"x\" }",
                "[1, [2, 3]]",
                "\"abc\"",
                "7",
                "null",
                "local.by_name",
                "[[\"a\"], [\"b\", \"c\"]]",
                "{ a = [1] }",
            ])
            .to_owned(),
    }
}

fn generated(seed: u64, count: usize) -> Vec<String> {
    let functions = callable();
    let mut random = Rng(seed.max(1));
    (0..count).map(|_| expression(&mut random, 3, &functions)).filter(|text| text.len() < 900).collect()
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|value| value.parse().ok()).unwrap_or(default)
}

/// The recorded cases: (expression, Packer 1.6.6's answer).
fn recorded() -> Vec<(String, Answer)> {
    let path = common::workspace().join("tests/hcl2_eval/cases.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (expression, answer) = line.split_once('\t').expect("a case is `expression<TAB>answer`");
            (expression.to_owned(), Answer::from_record(answer))
        })
        .collect()
}

#[test]
fn the_evaluator_agrees_with_packer_console() {
    let packer = common::packer();
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path());
    let template = Hcl2Template::read(dir.path()).unwrap();
    let evaluator = Evaluator::new(&template, options(&template, dir.path()));
    let mut expressions: Vec<String> = recorded().into_iter().map(|(expression, _)| expression).collect();
    expressions.extend(generated(env_number("HCL2_EVAL_SEED", 1966), env_number("HCL2_EVAL_CASES", 600) as usize));
    let (mut agreed, mut unknown, mut disagreed) = (0, 0, Vec::new());
    for batch in expressions.chunks(300) {
        let answers = packer_answers(&packer, dir.path(), batch);
        for (expression, packer) in batch.iter().zip(answers) {
            let xtask = xtask_answer(&evaluator, expression);
            if !agree(&xtask, &packer) {
                disagreed.push(format!("{expression}\t{}\t(xtask: {})", packer.recorded(), xtask.recorded()));
            } else if xtask == Answer::Unknown && packer != Answer::Unknown {
                unknown += 1;
            } else {
                agreed += 1;
            }
        }
    }
    eprintln!("{agreed} agreed, {unknown} unknown to xtask only, {} disagreed", disagreed.len());
    assert!(
        disagreed.is_empty(),
        "xtask and packer console disagree on these (add each, without the xtask part, to tests/hcl2_eval/cases.tsv once fixed):\n{}",
        disagreed.join("\n")
    );
    assert!(agreed > expressions.len() / 2, "too few definite answers: {agreed} of {}", expressions.len());
}

#[test]
fn recorded_cases_keep_packers_answers() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path());
    let template = Hcl2Template::read(dir.path()).unwrap();
    let evaluator = Evaluator::new(&template, options(&template, dir.path()));
    let cases = recorded();
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|(expression, packer)| {
            let xtask = xtask_answer(&evaluator, expression);
            (!agree(&xtask, packer))
                .then(|| format!("{expression}: packer {}, xtask {}", packer.recorded(), xtask.recorded()))
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Random expressions, and random damage to them, never make the
/// evaluator panic or hang: every one is a value or an error.
#[test]
fn random_expressions_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path());
    let template = Hcl2Template::read(dir.path()).unwrap();
    let functions: Vec<&functions::Function> = functions::FUNCTIONS.iter().collect();
    let mut random = Rng(env_number("HCL2_EVAL_SEED", 1966) ^ 0x5eed);
    const NOISE: &[&str] =
        &["(", ")", "[", "]", "{", "}", "${", "%{", "\"", "...", "*", ".", "~", "1e999999", "-", "=>"];
    for _ in 0..3000 {
        let mut text = expression(&mut random, 4, &functions);
        if random.chance(50) {
            let at = random.below(text.len() + 1);
            if text.is_char_boundary(at) {
                text.insert_str(at, random.pick(NOISE));
            }
        }
        let evaluator = Evaluator::new(&template, options(&template, dir.path()));
        let _ = evaluator.text(&At { file: 0, bytes: 0..0 }, &text);
    }
}

/// Every attribute of every folder of the HCL2 corpus evaluates to a
/// value or an error, none panics, and most are known (1,067 known, 249
/// unknown, 20 refused, each refusal a name the folder does not declare).
#[test]
fn the_corpus_evaluates() {
    let Some(corpus) = common::corpus_hcl2() else { return };
    let (mut known, mut unknown, mut refused) = (0, 0, 0);
    for entry in std::fs::read_dir(&corpus).unwrap() {
        let dir = entry.unwrap().path();
        let Ok(template) = Hcl2Template::read(&dir) else { continue };
        let options = Options { folder: Some(dir.clone()), ..Options::default() };
        let evaluator = Evaluator::new(&template, options);
        // Values, not the type constraints and defaults of variables (read
        // by their own evaluation) nor what `dynamic` blocks repeat.
        let mut attrs = Vec::new();
        fn collect<'a>(body: &'a xtask::hcl2::Body, out: &mut Vec<&'a xtask::hcl2::Attr>) {
            out.extend(&body.attrs);
            for block in body.blocks.iter().filter(|block| !block.dynamic) {
                if block.ident != "variable" {
                    collect(&block.body, out);
                }
            }
        }
        for file in template.files.iter().filter(|file| file.kind == xtask::hcl2::FileKind::Template) {
            collect(&file.body, &mut attrs);
        }
        let variables = template.variables();
        let values = attrs.into_iter().map(|attr| (attr, evaluator.value(&attr.at, &attr.value))).chain(
            variables.iter().filter_map(|variable| {
                Some((variable.default().or_else(|| variable.type_expr())?, evaluator.variable(variable.name)?))
            }),
        );
        for (attr, value) in values {
            match value {
                Ok(value) if value.is_wholly_known() => known += 1,
                Ok(_) => unknown += 1,
                Err(error) => {
                    refused += 1;
                    if std::env::var_os("HCL2_EVAL_SHOW").is_some() {
                        let file = &template.files[attr.at.file];
                        eprintln!("{} {}: {} = {}", dir.display(), file.name, attr.key, error.message);
                    }
                }
            }
        }
    }
    eprintln!("{known} known, {unknown} unknown, {refused} refused");
    assert!(known > 3 * (unknown + refused), "{known} known, {unknown} unknown, {refused} refused");
}
