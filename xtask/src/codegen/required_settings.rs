//! The settings a provisioner's or post-processor's `Prepare` (or
//! `Configure`) refuses to go without, read from its Go source: what
//! `missing-required-field` checks.
//!
//! Read as a reviewer reads the code, and only the plainest shape of it:
//! an `if` at the top level of the function whose condition is nothing but
//! emptiness tests of the config's fields joined by `&&`
//! (`p.config.Destination == ""`, `len(p.config.Scripts) == 0 &&
//! p.config.Inline == nil`) and whose first branch makes an error, and a
//! top-level `validateFileConfig(p.config.PlaybookFile, "playbook_file",
//! true)` (ansible's helper that refuses an empty name; salt-masterless's
//! `validateDirConfig` alike), also as the one
//! statement of such an `if` (then any of the fields will do). A field the
//! function sets before the test from a constant has a default and is not
//! required; one it sets from another field (`Scripts` from `Script`) may
//! be given as that field too. Conditions with `||`, other comparisons, or
//! tests nested deeper are left out: what is read is required whatever
//! else the block says.

/// The Go field names of each requirement: any one of them set satisfies it.
pub fn requirements(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index];
        // The component's own `Prepare`, not a nested block's config
        // (`func (c *CustomizeConfig) Prepare()`), whose fields are keys
        // of that block.
        let receiver = line.strip_prefix("func (").and_then(|rest| rest.split_once(')')).map(|(receiver, _)| receiver);
        let own = receiver.is_some_and(|receiver| {
            ["*Provisioner", "*PostProcessor", "*Config"].iter().any(|ty| receiver.ends_with(ty))
        });
        let is_prepare =
            own && (line.contains(") Prepare(") || line.contains(") Configure(")) && line.trim_end().ends_with('{');
        index += 1;
        if !is_prepare {
            continue;
        }
        let start = index;
        while index < lines.len() && lines[index] != "}" {
            index += 1;
        }
        out.extend(in_function(&lines[start..index]));
    }
    out.sort();
    out.dedup();
    out
}

/// The config field an expression names: `p.config.Destination`,
/// `c.Destination`, `b.config.Destination`, `p.c.Destination`.
fn field(expr: &str) -> Option<&str> {
    let expr = expr.trim();
    let rest = ["p.config.", "b.config.", "p.c.", "c."].iter().find_map(|prefix| expr.strip_prefix(prefix))?;
    (!rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then_some(rest)
}

/// The field an emptiness test is about: `F == ""`, `F == nil`,
/// `len(F) == 0`.
fn emptiness_test(conjunct: &str) -> Option<&str> {
    let conjunct = conjunct.trim().trim_start_matches('(').trim_end_matches(')').trim();
    let (left, right) = conjunct.split_once("==")?;
    let (left, right) = (left.trim(), right.trim());
    match right {
        "\"\"" | "nil" => field(left),
        "0" => field(left.strip_prefix("len(")?.strip_suffix(')')?),
        _ => None,
    }
}

/// The field of `validateFileConfig(F, "key", true)` in a line, or of
/// salt-masterless's `validateDirConfig(F, "key", true)`, which refuses an
/// empty path the same way.
fn validated_file(line: &str) -> Option<&str> {
    let call = ["validateFileConfig(", "validateDirConfig("].iter().find_map(|helper| line.split(helper).nth(1))?;
    let args: Vec<&str> = call.trim_end().trim_end_matches(';').trim_end_matches('{').split(',').collect();
    match args.as_slice() {
        [first, _, last, ..] if last.trim().starts_with("true)") => field(first),
        _ => None,
    }
}

/// An empty value as Go writes one: `nil`, `""`, `0`, `false`, `[]string{}`,
/// `make([]string, 0)`.
fn is_empty_value(value: &str) -> bool {
    let value = value.trim();
    matches!(value, "nil" | "\"\"" | "0" | "false")
        || (value.starts_with("make(") && value.ends_with(", 0)"))
        || (value.starts_with("[]") && value.ends_with("{}"))
}

fn indent(line: &str) -> usize {
    line.chars().take_while(|c| *c == '\t').count()
}

fn in_function(body: &[&str]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    // Field → the fields it may be set from; `None` once set from a constant.
    let mut assigned: Vec<(String, Option<Vec<String>>)> = Vec::new();
    let mut index = 0;
    while index < body.len() {
        let line = body[index];
        let trimmed = line.trim();
        if let Some((target, value)) = trimmed.split_once(" = ")
            && let Some(target) = field(target)
        {
            let sources: Vec<String> = value
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
                .filter_map(field)
                .filter(|source| *source != target)
                .map(str::to_owned)
                .collect();
            // Setting a field to nothing (`make([]string, 0)`, `nil`) gives
            // it no default: the emptiness test still fails.
            if !is_empty_value(value) {
                assigned.push((target.to_owned(), (!sources.is_empty()).then_some(sources)));
            }
        }
        if indent(line) == 1
            && let Some(field) = validated_file(line)
        {
            out.extend(requirement(vec![field.to_owned()], &assigned));
        }
        let condition = (indent(line) == 1)
            .then(|| trimmed.strip_prefix("if ")?.strip_suffix(" {"))
            .flatten()
            .filter(|condition| !condition.contains("||") && !condition.contains(';'));
        let Some(condition) = condition else {
            index += 1;
            continue;
        };
        let fields: Option<Vec<String>> =
            condition.split("&&").map(|conjunct| emptiness_test(conjunct).map(str::to_owned)).collect();
        // The first branch: up to the `}` that closes it at this level.
        let end = (index + 1..body.len()).find(|&at| indent(body[at]) == 1).unwrap_or(body.len());
        let branch = &body[index + 1..end];
        // A branch that sets a tested field gives it a default (an error
        // there is about making the default: `packer-{{timestamp}}`).
        let defaults = |fields: &[String]| {
            branch.iter().any(|line| {
                line.trim()
                    .split_once(" = ")
                    .and_then(|(target, _)| field(target))
                    .is_some_and(|target| fields.iter().any(|tested| tested == target))
            })
        };
        if let Some(mut fields) = fields.filter(|fields| !defaults(fields)) {
            let errs = branch.iter().any(|line| line.contains("errors.New(") || line.contains("fmt.Errorf("));
            let checked: Vec<&str> = branch.iter().filter_map(|line| validated_file(line)).collect();
            if errs && checked.is_empty() {
                out.extend(requirement(fields, &assigned));
            } else if let [checked] = checked.as_slice() {
                fields.push((*checked).to_owned());
                out.extend(requirement(fields, &assigned));
            }
        }
        index += 1;
    }
    out
}

/// A requirement as far as the function's earlier assignments leave it:
/// `None` when one of its fields has a default.
fn requirement(mut fields: Vec<String>, assigned: &[(String, Option<Vec<String>>)]) -> Option<Vec<String>> {
    let mut alternatives = Vec::new();
    for (target, sources) in assigned {
        if !fields.contains(target) {
            continue;
        }
        match sources {
            None => return None,
            Some(sources) => alternatives.extend(sources.iter().cloned()),
        }
    }
    fields.extend(alternatives);
    fields.sort();
    fields.dedup();
    Some(fields)
}

#[cfg(test)]
mod tests {
    use super::requirements;

    #[test]
    fn reads_the_plain_shapes_and_leaves_the_rest() {
        let go = "func (p *Provisioner) Prepare(raws ...interface{}) error {
\tif p.config.Direction == \"\" {
\t\tp.config.Direction = \"upload\"
\t}
\tif p.config.Scripts == nil {
\t\tp.config.Scripts = make([]string, 0)
\t}
\tif p.config.Script != \"\" {
\t\tp.config.Scripts = []string{p.config.Script}
\t}
\tif len(p.config.Scripts) == 0 && p.config.Inline == nil {
\t\terrs = packersdk.MultiErrorAppend(errs, errors.New(\"Either a script file or inline script must be specified.\"))
\t} else if len(p.config.Scripts) > 0 && p.config.Inline != nil {
\t\terrs = packersdk.MultiErrorAppend(errs, errors.New(\"not both\"))
\t}
\tif p.config.Direction == \"\" {
\t\terrs = packersdk.MultiErrorAppend(errs, errors.New(\"Direction must be specified.\"))
\t}
\tif p.config.Destination == \"\" {
\t\terrs = packersdk.MultiErrorAppend(errs, errors.New(\"Destination must be specified.\"))
\t}
\tif p.config.ImageName == \"\" {
\t\timg, err := interpolate.Render(\"packer-{{timestamp}}\", nil)
\t\tif err != nil {
\t\t\terrs = packersdk.MultiErrorAppend(errs, fmt.Errorf(\"Unable to render: %s\", err))
\t\t}
\t\tp.config.ImageName = img
\t}
\tif p.config.Mode == \"x\" || p.config.Other == \"\" {
\t\terrs = packersdk.MultiErrorAppend(errs, errors.New(\"no\"))
\t}
\tif len(p.config.PlaybookFiles) == 0 {
\t\terr = validateFileConfig(p.config.PlaybookFile, \"playbook_file\", true)
\t\tif err != nil {
\t\t\terrs = packersdk.MultiErrorAppend(errs, err)
\t\t}
\t}
\terr = validateFileConfig(p.config.Command, \"command\", true)
\terr = validateDirConfig(p.config.LocalStateTree, \"local_state_tree\", true)
\terr = validateDirConfig(p.config.LocalPillarRoots, \"local_pillar_roots\", false)
\tif p.config.Sudo {
\t\tif p.config.User == \"\" {
\t\t\treturn errors.New(\"user\")
\t\t}
\t}
\treturn nil
}

func (c *CustomizeConfig) Prepare() []error {
\tif c.Hostname == \"\" {
\t\treturn []error{errors.New(\"hostname\")}
\t}
}
";
        let found = requirements(go);
        let expected: Vec<Vec<String>> = [
            vec!["Command"],
            vec!["Destination"],
            vec!["Inline", "Script", "Scripts"],
            vec!["LocalStateTree"],
            vec!["PlaybookFile", "PlaybookFiles"],
        ]
        .iter()
        .map(|fields| fields.iter().map(|field| field.to_string()).collect())
        .collect();
        assert_eq!(found, expected);
    }
}
