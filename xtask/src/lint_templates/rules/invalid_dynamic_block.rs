use crate::hcl2::eval::Evaluator;
use crate::hcl2::{self, Block, Body, FileKind};

use super::{Hcl2Context, suggest};
use crate::lint_templates::lint_hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports a `dynamic "x" { … }` block that Packer refuses before it
    /// builds anything: an argument other than `for_each` and `iterator`
    /// (`for_eachh`, with did-you-mean), and `labels`, which a build's
    /// `dynamic "provisioner"`, `"post-processor"` and
    /// `"error-cleanup-provisioner"` need and other blocks refuse; a block other than `content`, no
    /// `for_each`, no `content` block or more than one, an `iterator` that
    /// is not a bare name (`iterator = "disk"`), and a `for_each` whose
    /// value, computed as Packer computes it (through variables, their
    /// defaults and var files, and locals), is null or a single string,
    /// number or bool rather than a collection.
    ///
    /// What the block makes is checked where it is made: its `content`'s
    /// keys and nested blocks, at every depth, are `unknown-key`'s and
    /// `wrong-type`'s as if the block were written out.
    ///
    /// ## Why is this bad?
    /// Packer expands `dynamic` blocks with HCL's `dynblock` extension
    /// (`hcl2template/parser.go`, from 1.6.6 to 1.16.0), whose schema has
    /// `for_each` (required), `iterator` and one `content` block; anything
    /// else stops `packer validate` and `packer build` with "Unsupported
    /// argument", "Missing dynamic content block" or "Invalid dynamic
    /// for_each value".
    ///
    /// ## Example
    /// ```hcl
    /// dynamic "launch_block_device_mappings" {
    ///   for_eachh = var.disks
    ///   content { device_name = launch_block_device_mappings.value }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Write `for_each` (a list, set, map or object) and one `content` block.
    code: "PKR112", name: "invalid-dynamic-block", severity: Error, check: None, hcl2: Some(check_hcl2),
}

/// The arguments of a `dynamic` block of a block without labels, which
/// every block a Packer plugin has is.
const ARGUMENTS: &[&str] = &["for_each", "iterator"];

/// A build's blocks that take a label (the plugin's type): their `dynamic`
/// block needs `labels` too, as dynblock's schema has it for a labelled
/// block type (`dynamic "provisioner" { labels = ["shell"] … }` builds).
const LABELLED: &[&str] = &["provisioner", "post-processor", "error-cleanup-provisioner"];
const LABELLED_ARGUMENTS: &[&str] = &["for_each", "iterator", "labels"];

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    let evaluator = Evaluator::new(ctx.template, ctx.template.evaluation_options());
    for file in ctx.template.files.iter().filter(|file| file.kind == FileKind::Template) {
        walk(&evaluator, &file.body, out);
    }
}

fn walk(evaluator: &Evaluator, body: &Body, out: &mut FolderFindings) {
    for block in &body.blocks {
        if let Some(header) = &block.dynamic_header {
            check_dynamic(evaluator, block, header, out);
        }
        walk(evaluator, &block.body, out);
    }
}

/// `header.body` is what the `dynamic` block holds besides `content`.
fn check_dynamic(evaluator: &Evaluator, block: &Block, header: &hcl2::DynamicHeader, out: &mut FolderFindings) {
    let (name, own) = (&block.ident, &header.body);
    let labelled = LABELLED.contains(&name.as_str());
    let arguments = if labelled { LABELLED_ARGUMENTS } else { ARGUMENTS };
    for attr in own.attrs.iter().filter(|attr| !arguments.contains(&attr.key.as_str())) {
        let finding = out.report(
            &RULE.meta,
            &attr.key_at,
            format!("`{}` is not an argument of a dynamic block (dynamic \"{name}\")", attr.key),
        );
        match suggest(&attr.key, arguments.iter().copied()) {
            Some(better) => finding.help(format!("did you mean `{better}`?")),
            None => finding.help(format!("move it into the `content` block, where the keys of `{name}` go")),
        };
    }
    if labelled
        && own.attr("labels").is_none()
        && !own.attrs.iter().any(|attr| suggest(&attr.key, ["labels"]).is_some())
    {
        out.report(&RULE.meta, &header.keyword_at, format!("dynamic \"{name}\" has no `labels`"))
            .help(format!("name the plugin of each `{name}` it makes: `labels = [\"shell\"]`"));
    }
    let mut misspelt_content = false;
    for nested in &own.blocks {
        let finding = out.report(
            &RULE.meta,
            &nested.ident_at,
            format!("a dynamic block holds one `content` block, not `{}` (dynamic \"{name}\")", nested.ident),
        );
        if suggest(&nested.ident, ["content"]).is_some() {
            misspelt_content = true;
            finding.help("did you mean `content`?");
        } else {
            finding.help(format!("move it into the `content` block, where the blocks of `{name}` go"));
        }
    }
    if header.contents == 0 && !misspelt_content {
        out.report(&RULE.meta, &header.keyword_at, format!("dynamic \"{name}\" has no `content` block"))
            .help(format!("write the keys of each `{name}` block in `content {{ … }}`"));
    }
    if header.contents > 1 {
        out.report(
            &RULE.meta,
            &header.keyword_at,
            format!("dynamic \"{name}\" has {} `content` blocks", header.contents),
        )
        .help("Packer takes one: merge them");
    }
    if let Some(iterator) = own.attr("iterator")
        && !matches!(&iterator.value, hcl2::Value::Expr(text) if hcl2::is_identifier(text))
    {
        let help = match &iterator.value {
            hcl2::Value::String(text) if hcl2::is_identifier(text) => {
                format!("write it without quotes: `iterator = {text}`")
            }
            _ => format!("write a name, e.g. `iterator = {name}_item`"),
        };
        out.report(&RULE.meta, &iterator.at, format!("the `iterator` of dynamic \"{name}\" is not a bare name"))
            .help(help);
    }
    let Some(for_each) = own.attr("for_each") else {
        if !own.attrs.iter().any(|attr| suggest(&attr.key, ["for_each"]).is_some()) {
            out.report(&RULE.meta, &header.keyword_at, format!("dynamic \"{name}\" has no `for_each`"))
                .help("give it the collection to make one block per element: `for_each = var.items`");
        }
        return;
    };
    let Ok(value) = evaluator.value(&for_each.at, &for_each.value) else { return };
    if value.is_unknown() {
        return;
    }
    let problem = if value.is_null() {
        Some("null".to_owned())
    } else if value.ty().is_primitive() {
        Some(value.ty().friendly())
    } else {
        None
    };
    if let Some(problem) = problem {
        out.report(
            &RULE.meta,
            &for_each.at,
            format!("the `for_each` of dynamic \"{name}\" is {problem}, not a collection"),
        )
        .help("give a list, set, map or object: `[\"a\"]` for one element, `[]` for none");
    }
}
