//! Linting an HCL2 template: read every file of its folder, run the rules
//! that have a meaning for HCL2, and report per file.

use crate::diagnostic::{FileReport, Finding, Findings, RuleMeta, text_or_report};
use crate::fsutil::{self, Unreadable};
use crate::hcl2::{self, At, FileKind, Hcl2Template};
use crate::location::{Location, Syntax};
use crate::project::TemplateFile;
use crate::template::MAX_TEMPLATE_BYTES;

use super::Judging;
use super::rules::{BAD_LAYOUT, Hcl2Context, INVALID_HCL, RULES, UNREADABLE_FILE};
use crate::schema::in_force::{InForce, Required, Setting};

/// What rules find in a folder, kept per file: an [`At`] says which.
/// Findings about the folder as a whole go to the folder's own report.
pub struct FolderFindings {
    files: Vec<Findings>,
    folder: Findings,
}

impl FolderFindings {
    pub fn report(&mut self, rule: &'static RuleMeta, at: &At, message: impl Into<String>) -> &mut Finding {
        self.files[at.file].report(rule, Location::Bytes(at.bytes.clone()), message)
    }

    pub fn report_folder(&mut self, rule: &'static RuleMeta, message: impl Into<String>) -> &mut Finding {
        self.folder.report(rule, Location::File, message)
    }
}

/// Reads a folder into the model. Files that cannot be read or parsed are
/// reported and left out (their text kept for the snippet); the others
/// are still read, so that a syntax error in one file does not hide
/// findings in the rest. Returns the model, the files' texts and findings.
pub fn load(file: &TemplateFile) -> (Hcl2Template, Vec<(String, String)>, FolderFindings) {
    let mut findings = FolderFindings { files: Vec::new(), folder: Findings::default() };
    let mut texts = Vec::new();
    let mut template = Hcl2Template::default();
    if let Some(reason) = &file.walk_error {
        findings.report_folder(&UNREADABLE_FILE.meta, format!("cannot read the template folder: {reason}"));
        return (template, texts, findings);
    }
    let names = match hcl2::file_names(&file.path) {
        Ok(names) => names,
        Err(error) => {
            findings
                .report_folder(&UNREADABLE_FILE.meta, format!("cannot read the template folder: {error}"))
                .help("make the folder readable");
            return (template, texts, findings);
        }
    };
    for name in names {
        let mut file_findings = Findings::default();
        let path = file.path.join(&name);
        let text = match fsutil::read_regular(&path, MAX_TEMPLATE_BYTES) {
            Ok(bytes) => text_or_report(bytes, &INVALID_HCL.meta, "template file", &mut file_findings),
            Err(problem) => {
                let help = match problem {
                    Unreadable::Folder => "a folder named like a template file: rename it",
                    Unreadable::TooLarge { .. } => {
                        "a Packer template file is a few KiB: check it is the file you meant"
                    }
                    _ => "make it a regular, readable file",
                };
                file_findings
                    .report(&UNREADABLE_FILE.meta, Location::File, format!("cannot read the file: {problem}"))
                    .help(help);
                Err(String::new())
            }
        };
        match text {
            Ok(text) => {
                texts.push((name.clone(), text.clone()));
                match hcl2::parse_file(template.files.len(), &name, text) {
                    Ok(parsed) => template.files.push(parsed),
                    Err(error) => {
                        file_findings
                            .report(
                                &INVALID_HCL.meta,
                                Location::Offset(error.offset),
                                format!("invalid HCL: {}", first_line(&error.message)),
                            )
                            .help("correct the syntax here; nothing else in this file is checked until it parses");
                    }
                }
            }
            Err(lossy) => texts.push((name, lossy)),
        }
        findings.files.push(file_findings);
    }
    (template, texts, findings)
}

fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or(message)
}

/// Lints one HCL2 template folder: a report per file, and one for the
/// folder when something concerns it as a whole.
pub fn lint_folder(file: &TemplateFile, judging: &Judging) -> Vec<FileReport> {
    let (mut template, texts, mut findings) = load(file);
    if let Err(problem) = &file.layout {
        findings
            .report_folder(&BAD_LAYOUT.meta, problem.clone())
            .help("templates live at packer/<release>/<cloud>/<image>/, e.g. packer/4.0/aws/machine-image/*.pkr.hcl");
    }
    // Rules see the model's file indexes; findings go to the report's.
    let report_index: Vec<usize> = template
        .files
        .iter()
        .map(|parsed| texts.iter().position(|(name, _)| *name == parsed.name).expect("a parsed file has a text"))
        .collect();
    let json_syntax = crate::hcl2::json_syntax_files(&file.path);
    if !json_syntax.is_empty() {
        findings
            .report_folder(
                &BAD_LAYOUT.meta,
                format!(
                    "Packer reads {} in this folder, written in HCL's JSON syntax, which xtask does not read: the \
                     template cannot be checked (nor built by `images`) as Packer sees it",
                    json_syntax.join(", ")
                ),
            )
            .help("write them in HCL's native syntax (.pkr.hcl, .auto.pkrvars.hcl)");
    }
    if !texts.is_empty() && !texts.iter().any(|(name, _)| FileKind::of(name) == Some(FileKind::Template)) {
        findings
            .report_folder(&BAD_LAYOUT.meta, "this folder has var files but no *.pkr.hcl template file")
            .help("add the template's .pkr.hcl files, or move the var files to the template they set");
    }
    let in_force = in_force(&template, &judging.setting);
    // Values are evaluated as the newest release in force reads them: a
    // function only the newer of them have is then still evaluated, and
    // `unsupported-packer-feature` names the older ones that lack it.
    template.release = in_force.newest_core();
    let ctx = Hcl2Context {
        template: &template,
        layout: file.layout.as_ref().ok(),
        dir: &file.path,
        external_variables: &judging.external_variables,
        in_force: &in_force,
    };
    let mut rule_findings = FolderFindings {
        files: template.files.iter().map(|_| Findings::default()).collect(),
        folder: Findings::default(),
    };
    for rule in RULES {
        if let Some(check) = rule.hcl2 {
            check(&ctx, &mut rule_findings);
        }
    }
    for (model_index, found) in rule_findings.files.into_iter().enumerate() {
        findings.files[report_index[model_index]].extend(found);
    }
    findings.folder.extend(rule_findings.folder);
    let mut reports = Vec::new();
    if !findings.folder.is_empty() {
        reports.push(FileReport::new(file.rel.clone(), String::new(), findings.folder.into_vec(), Syntax::Hcl));
    }
    for ((name, text), mut found) in texts.into_iter().zip(findings.files) {
        let allows = crate::suppress::hcl_allows(&text, judging.rules, &mut found);
        let path = format!("{}/{name}", file.rel);
        reports.push(FileReport::with_allows(path, text, found.into_vec(), &allows, Syntax::Hcl));
    }
    reports
}

/// The releases an HCL2 template is judged against: those its
/// `required_version` (every one, when several `packer` blocks give one)
/// and `required_plugins` entries allow. A constraint that does not read
/// (`invalid-version-constraint` reports it) or is computed is left out.
pub fn in_force(template: &Hcl2Template, setting: &Setting) -> InForce {
    let mut versions = Vec::new();
    let mut required = Vec::new();
    for block in template.packer_blocks() {
        if let Some(attr) = block.body.attr("required_version")
            && let hcl2::Value::String(constraint) = &attr.value
            && crate::version::parse_constraints(constraint).is_ok()
        {
            versions.push(constraint.clone());
        }
        for entries in block.body.blocks("required_plugins") {
            for attr in &entries.body.attrs {
                let hcl2::Value::Object(settings) = &attr.value else { continue };
                let text = |key: &str| match settings.iter().find(|setting| setting.key == key).map(|s| &s.value) {
                    Some(hcl2::Value::String(text)) => Some(text.clone()),
                    _ => None,
                };
                let constraint = text("version").filter(|text| crate::version::parse_constraints(text).is_ok());
                required.push(Required {
                    local_name: attr.key.clone(),
                    address: text("source").unwrap_or_default(),
                    constraint,
                });
            }
        }
    }
    let joined = versions.join(", ");
    InForce::for_hcl2(setting, (!versions.is_empty()).then_some(joined.as_str()), required)
}
