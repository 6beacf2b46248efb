use crate::hcl2::eval;
use crate::hcl2::value::Kind;
use crate::lint_templates::lint_hcl2::FolderFindings;

use super::Hcl2Context;

declare_rule! {
    /// ## What it does
    /// Reports a `validation` block of an HCL2 variable that Packer
    /// refuses when it reads the template, before any value is checked:
    ///
    /// - a block without `condition` or without `error_message` (both are
    ///   required);
    /// - a `condition` that refers to anything other than its own variable
    ///   (another variable, a local, a data source), or that does not
    ///   refer to its variable at all;
    /// - an `error_message` that is not a constant string (Packer reads
    ///   it with no variables and no functions), is empty, or is not a
    ///   sentence: it must start with an upper-case letter when it starts
    ///   with a letter, and end with `.`, `?` or `!`.
    ///
    /// These are Packer's own checks, the same from 1.6.6 to 1.16.0:
    /// `decodeVariableValidationBlock` and `looksLikeSentences` in
    /// `hcl2template/types.variables.go`. Which letters are upper-case is
    /// Rust's reading of Unicode, which may differ from Go's for a few
    /// rare letters.
    ///
    /// ## Why is this bad?
    /// Packer refuses the whole template ("Invalid validation error
    /// message", "Invalid reference in variable validation"), whichever
    /// value the variable gets.
    ///
    /// ## Example
    /// ```hcl
    /// variable "instance_type" {
    ///   type = string
    ///   validation {
    ///     condition     = contains(local.allowed_types, var.instance_type)
    ///     error_message = "must be an allowed type"
    ///   }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Write the allowed values into the condition
    /// (`contains(["t3.micro", "t3.small"], var.instance_type)`) and the
    /// message as a sentence: `"The instance type must be t3.micro or
    /// t3.small."`.
    code: "PKR522", name: "invalid-validation", severity: Error, check: None, hcl2: Some(check),
}

fn check(ctx: &Hcl2Context, out: &mut FolderFindings) {
    for variable in ctx.template.variables() {
        let Some(block) = variable.block else { continue };
        let name = variable.name;
        for validation in block.body.blocks("validation") {
            let (condition, message) = (validation.body.attr("condition"), validation.body.attr("error_message"));
            if condition.is_none() || message.is_none() {
                let missing = if condition.is_none() { "condition" } else { "error_message" };
                out.report(&RULE.meta, &validation.ident_at, format!("this validation block has no `{missing}`"))
                    .help("a validation needs both a `condition` and an `error_message`");
            }
            if let Some(condition) = condition {
                check_condition(ctx, name, condition, out);
            }
            if let Some(message) = message {
                check_message(message, out);
            }
        }
    }
}

fn check_condition(ctx: &Hcl2Context, name: &str, condition: &crate::hcl2::Attr, out: &mut FolderFindings) {
    let within = |at: &crate::hcl2::At| {
        at.file == condition.at.file
            && condition.at.bytes.start <= at.bytes.start
            && at.bytes.end <= condition.at.bytes.end
    };
    let mut refers_to_itself = false;
    for reference in ctx.template.references().filter(|reference| within(&reference.at) && !reference.bound) {
        if reference.root == "var" && reference.attrs.first().map(String::as_str) == Some(name) {
            refers_to_itself = true;
            continue;
        }
        out.report(
            &RULE.meta,
            &reference.at,
            format!("the condition of variable `{name}` may only refer to `var.{name}`, so Packer refuses it"),
        )
        .help("write the values it needs into the condition itself");
    }
    if !refers_to_itself {
        out.report(&RULE.meta, &condition.at, format!("this condition does not refer to `var.{name}`"))
            .help(format!("test the variable's value: Packer refuses a condition without `var.{name}`"));
    }
}

fn check_message(message: &crate::hcl2::Attr, out: &mut FolderFindings) {
    let text = match eval::literal(&message.value) {
        Ok(value) => match value.kind {
            Kind::String(text) => text,
            Kind::Number(number) => number.text().unwrap_or_default(),
            Kind::Bool(value) => value.to_string(),
            _ => {
                out.report(&RULE.meta, &message.at, "the error message is not a string")
                    .help("write it as a sentence in quotes");
                return;
            }
        },
        Err(_) => {
            out.report(
                &RULE.meta,
                &message.at,
                "the error message must be a constant string: Packer reads it with no variables or functions",
            )
            .help("write the message out, without `${…}` or function calls");
            return;
        }
    };
    let problem = if text.is_empty() {
        "the error message is empty"
    } else if !looks_like_sentences(&text) {
        "the error message is not a sentence: Packer wants an upper-case first letter and a final `.`, `?` or `!`"
    } else {
        return;
    };
    out.report(&RULE.meta, &message.at, problem).help("write it as a sentence, such as \"The region must be set.\"");
}

/// Packer's test of an error message: trimmed of white space, a first
/// letter (if it starts with one) in upper case, and `.`, `?` or `!` last.
fn looks_like_sentences(text: &str) -> bool {
    let text = text.trim();
    let (Some(first), Some(last)) = (text.chars().next(), text.chars().last()) else { return false };
    if first.is_alphabetic() && !first.is_uppercase() {
        return false;
    }
    matches!(last, '.' | '?' | '!')
}

#[cfg(test)]
mod tests {
    use super::looks_like_sentences;

    #[test]
    fn sentences_as_packer_reads_them() {
        assert!(looks_like_sentences("The region must be set."));
        assert!(looks_like_sentences("  Is it set?  "));
        assert!(looks_like_sentences("\"ami-\" is the prefix!"));
        assert!(looks_like_sentences("Ünïcode."));
        assert!(looks_like_sentences("42 is not allowed."));
        assert!(!looks_like_sentences("the region must be set."));
        assert!(!looks_like_sentences("The region must be set"));
        assert!(!looks_like_sentences("   "));
    }
}
