use crate::hcl2::uses::{Declared, Uses};
use crate::lint_templates::lint_hcl2::FolderFindings;

use super::Hcl2Context;

declare_rule! {
    /// ## What it does
    /// Reports, in an HCL2 template folder read as `packer build .` loads
    /// it (every `*.pkr.hcl` file together), a local, a data source or a
    /// source that no build uses: a `locals` entry (or `local` block) no
    /// `local.x` reads, a `data` block no `data.TYPE.NAME` reads anywhere,
    /// a `source` block no build names in `sources` or a nested `source`
    /// block. A local or source that only unused declarations read is
    /// unused too (a local read only by an unused local), and so is one
    /// read only by itself; a data source read anywhere is used, since
    /// Packer runs every `data` block before the build, and so is what it
    /// reads. Variables are `unused-variable`'s, which follows the same
    /// reading.
    ///
    /// A folder without any `build` block is left alone: it may be a
    /// fragment that another folder's build is assembled with. A build
    /// whose `sources` is computed (`sources = var.sources`) may build any
    /// source, as a run's `-var` chooses: no source is then unused.
    ///
    /// ## Why is this bad?
    /// It is dead configuration that readers take to matter, and often the
    /// other half of a mistake: the build reads `local.ami_name` while the
    /// name meant is in `local.image_name`, or a source was added and never
    /// listed in the build. An unused data source still runs on every
    /// build (Packer evaluates every `data` block first), calling the
    /// cloud's API and failing the build when it finds nothing.
    ///
    /// ## Example
    /// ```hcl
    /// locals {
    ///   stamp    = formatdate("YYYYMMDDhhmm", timestamp())
    ///   ami_name = "base-${local.stamp}"   # nothing reads local.ami_name
    /// }
    /// source "amazon-ebs" "base" { ami_name = "base-{{timestamp}}" … }
    /// source "amazon-ebs" "gpu" { … }       # no build names it
    /// build { sources = ["source.amazon-ebs.base"] }
    /// ```
    ///
    /// ## Fix
    /// Use the declaration where it was meant to be used (the build's
    /// `sources`, the setting that should read it), or remove it.
    code: "PKR520", name: "unused-declaration", severity: Warning, check: None, hcl2: Some(check),
}

fn check(ctx: &Hcl2Context, out: &mut FolderFindings) {
    let uses = Uses::of(ctx.template);
    for local in ctx.template.locals() {
        let declared = Declared::Local(local.name.to_owned());
        if let Some(readers) = uses.unused(&declared) {
            report(out, local.at, &declared, &readers);
        }
    }
    for data in ctx.template.data_sources() {
        let declared = Declared::Data(format!("{}.{}", data.kind, data.name));
        if let Some(readers) = uses.unused(&declared) {
            report(out, data.block.at(), &declared, &readers);
        }
    }
    for source in ctx.template.sources() {
        let declared = Declared::Source(source.address());
        if let Some(readers) = uses.unused(&declared) {
            report(out, source.block.at(), &declared, &readers);
        }
    }
}

fn report(out: &mut FolderFindings, at: &crate::hcl2::At, declared: &Declared, readers: &[&Declared]) {
    let spelled = declared.spelled();
    let message = if readers.is_empty() {
        match declared {
            Declared::Source(_) => format!("`{spelled}` is declared but no build uses it"),
            _ => format!("`{spelled}` is declared but never used"),
        }
    } else {
        let names: Vec<String> = readers.iter().map(|reader| format!("`{}`", reader.spelled())).collect();
        format!("`{spelled}` is only read by {}, which no build uses", names.join(", "))
    };
    let help = match declared {
        Declared::Source(_) => format!("list `{spelled}` in a build's `sources`, or remove it"),
        Declared::Data(_) => {
            format!(
                "read it as `{spelled}.<attribute>` where it is needed, or remove it (Packer runs it on every build)"
            )
        }
        _ => format!("use it as `{spelled}` or remove it"),
    };
    out.report(&RULE.meta, at, message).help(help);
}
