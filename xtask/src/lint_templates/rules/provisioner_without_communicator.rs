use crate::diagnostic::Findings;
use crate::location::Location;
use crate::template::Block;

use super::Context;

declare_rule! {
    /// ## What it does
    /// Reports a provisioner that works through the machine's
    /// communicator (`shell`, `file`, `ansible`, `powershell`, … anything
    /// but `shell-local` and `breakpoint`) and runs on a builder with
    /// `"communicator": "none"`.
    ///
    /// ## Why is this bad?
    /// With no communicator there is no connection to run it over: Packer
    /// 1.6.6 does not refuse the template, and the build waits on a
    /// connection that never comes until it is killed.
    ///
    /// ## Example
    /// ```json
    /// { "builders": [ { "type": "null", "communicator": "none" } ],
    ///   "provisioners": [ { "type": "shell", "inline": ["echo hi"] } ] }
    /// ```
    ///
    /// ## Fix
    /// Give the builder a communicator (`ssh` with its `ssh_username`, or
    /// `winrm`), keep the provisioner off that builder with `except`, or
    /// make it a `shell-local` one.
    code: "PKR307", name: "provisioner-without-communicator", severity: Error, check: Some(check), hcl2: None,
}

const LOCAL: &[&str] = &["shell-local", "breakpoint"];

fn check(ctx: &Context, out: &mut Findings) {
    let silent: Vec<&Block> =
        ctx.blocks.builders.iter().filter(|builder| builder.str("communicator") == Some("none")).collect();
    if silent.is_empty() {
        return;
    }
    for provisioner in &ctx.blocks.provisioners {
        let Some(kind) = provisioner.kind() else { continue };
        if LOCAL.contains(&kind) {
            continue;
        }
        for builder in &silent {
            let Some(name) = builder.builder_name() else { continue };
            if !runs_on(provisioner, name) {
                continue;
            }
            out.report(
                &RULE.meta,
                Location::value(provisioner.at("type")),
                format!(
                    "this `{kind}` provisioner runs on builder `{name}`, which has no communicator, so the build hangs"
                ),
            )
            .related(Location::value(builder.at("communicator")), "no communicator here")
            .help(format!("give `{name}` a communicator, add `\"except\": [\"{name}\"]`, or use `shell-local`"));
        }
    }
}

/// Does the provisioner run on the builder named `name`, by its
/// `only` and `except`?
fn runs_on(provisioner: &Block, name: &str) -> bool {
    let listed = |key: &str| provisioner.strings(key).iter().any(|(_, listed)| *listed == name);
    let has_only = provisioner.body.contains_key("only");
    (!has_only || listed("only")) && !listed("except")
}
