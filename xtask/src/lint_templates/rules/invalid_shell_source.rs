use crate::diagnostic::Findings;
use crate::location::Location;

use super::Context;

declare_rule! {
    /// ## What it does
    /// Reports a `shell` or `shell-local` step (provisioner or
    /// post-processor) that sets none, or more than one, of `inline`,
    /// `script` and `scripts`.
    ///
    /// ## Why is this bad?
    /// Packer needs exactly one source of commands: with none the step is
    /// refused, with several it refuses them too, and readers are left to
    /// guess which commands run.
    ///
    /// ## Example
    /// ```json
    /// { "type": "shell", "inline": ["sudo yum -y update"], "script": "setup.sh" }
    /// ```
    ///
    /// ## Fix
    /// Keep one of the three: merge the commands into a script, or move the
    /// script's lines into `inline`.
    code: "PKR303", name: "invalid-shell-source", severity: Error, check: Some(check), hcl2: None,
}

const SOURCES: &[&str] = &["inline", "script", "scripts"];

fn check(ctx: &Context, out: &mut Findings) {
    let blocks = ctx.blocks.provisioners.iter().chain(ctx.blocks.post_processor_blocks());
    for block in blocks {
        let Some(kind @ ("shell" | "shell-local")) = block.kind() else {
            continue;
        };
        // shell-local may run a single `command` in old templates.
        if kind == "shell-local" && block.body.contains_key("command") {
            continue;
        }
        let present: Vec<&str> = SOURCES.iter().copied().filter(|key| block.body.contains_key(*key)).collect();
        match present.len() {
            1 => {}
            0 => {
                out.report(
                    &RULE.meta,
                    Location::value(block.at("type")),
                    format!("this `{kind}` step has none of `inline`, `script`, `scripts`"),
                )
                .help("add the commands to run, for example `\"inline\": [\"…\"]`");
            }
            _ => {
                out.report(
                    &RULE.meta,
                    Location::key(block.at(present[1])),
                    format!(
                        "this `{kind}` step sets both `{}` and `{}`; Packer takes only one",
                        present[0], present[1]
                    ),
                )
                .help("keep one source of commands");
            }
        }
    }
}
