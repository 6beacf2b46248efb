use crate::diagnostic::Findings;
use crate::location::Location;
use crate::template::{PathStep, route_of};

use super::{Context, suggest};

declare_rule! {
    /// ## What it does
    /// Reports a string Packer cannot render as a template: an `{{` that
    /// no `}}` closes, or an action calling a function that Packer 1.6.6
    /// does not have. Packer's functions are `build_name`, `build_type`,
    /// `env`, `isotime`, `strftime`, `pwd`, `split`, `template_dir`,
    /// `timestamp`, `uuid`, `user`, `packer_version`, `consul_key`,
    /// `vault`, `sed`, `build`, `aws_secretsmanager`, `replace`,
    /// `replace_all`, `upper`, `lower`, and `clean_resource_name` in the
    /// cloud builders; Go's own (`printf`, `index`, `eq`, …) work too.
    /// Comments (`{{/* … */}}`) are fine.
    ///
    /// ## Why is this bad?
    /// Packer stops with `template: root:1: function "…" not defined` or
    /// `unclosed action`, without saying in which setting; `packer
    /// validate -syntax-only` does not render templates and passes.
    ///
    /// ## Example
    /// ```json
    /// { "ami_name": "base-{{timestamp | clean_ami_name}}", "ami_description": "{{user `description`" }
    /// ```
    ///
    /// ## Fix
    /// Close the action, or use the function named in the help
    /// (`clean_ami_name` became `clean_resource_name`; `packer fix`
    /// rewrites it).
    code: "PKR210", name: "invalid-interpolation", severity: Error, check: Some(check), hcl2: None,
}

/// Packer 1.6.6's `FuncGens`, `replace`/`upper`/…, and the cloud
/// builders' `clean_resource_name`.
const PACKER_FUNCTIONS: &[&str] = &[
    "build_name",
    "build_type",
    "env",
    "isotime",
    "strftime",
    "pwd",
    "split",
    "template_dir",
    "timestamp",
    "uuid",
    "user",
    "packer_version",
    "consul_key",
    "vault",
    "sed",
    "build",
    "aws_secretsmanager",
    "replace",
    "replace_all",
    "upper",
    "lower",
    "clean_resource_name",
];

/// Go's text/template built-in functions and keywords.
const GO_TEMPLATE: &[&str] = &[
    "and", "or", "not", "len", "index", "slice", "print", "printf", "println", "html", "js", "urlquery", "call", "eq",
    "ne", "lt", "le", "gt", "ge", "if", "else", "end", "range", "with", "define", "template", "block", "nil", "true",
    "false", "break", "continue",
];

/// Functions that Packer renamed; `packer fix` rewrites them.
const RENAMED: &[(&str, &str)] =
    &[("clean_ami_name", "clean_resource_name"), ("clean_image_name", "clean_resource_name")];

fn check(ctx: &Context, out: &mut Findings) {
    for string in ctx.strings.iter() {
        let (path, text) = (string.path, string.text);
        // Packer renders the variables' defaults and the plugins' settings.
        if !matches!(path.first(), Some(PathStep::Key("variables" | "builders" | "provisioners" | "post-processors"))) {
            continue;
        }
        if let Some(open) = string.scan.unclosed {
            out.report(&RULE.meta, Location::within(route_of(path), open..text.len()), "this `{{` is never closed")
                .help("close the action with `}}`; to write braces literally, use {{\"{{\"}}");
        }
        for (at, function) in string.scan.functions() {
            if PACKER_FUNCTIONS.contains(&function) || GO_TEMPLATE.contains(&function) {
                continue;
            }
            let finding = out.report(
                &RULE.meta,
                Location::within(route_of(path), at),
                format!("`{function}` is not a template function of Packer 1.6.6"),
            );
            match RENAMED.iter().find(|(old, _)| *old == function) {
                Some((_, new)) => finding.help(format!("it is called `{new}` now; `packer fix` rewrites it")),
                None => match suggest(function, PACKER_FUNCTIONS.iter().copied()) {
                    Some(better) => finding.help(format!("did you mean `{better}`?")),
                    None => finding.help("Packer's functions are user, env, timestamp, isotime, uuid, template_dir, build_name, replace, upper, lower, … (see `--explain invalid-interpolation`)"),
                },
            };
        }
    }
}
