use hcl_edit::Span;
use hcl_edit::expr::{BinaryOperator, Expression};
use hcl_edit::visit::{self, Visit};

use crate::hcl2::eval::{self, Evaluator};
use crate::hcl2::value::{CtyType, Kind};
use crate::hcl2::{At, Attr, Hcl2Template};
use crate::lint_templates::lint_hcl2::FolderFindings;

use super::Hcl2Context;

declare_rule! {
    /// ## What it does
    /// Reports a `validation` block of an HCL2 variable whose `condition`
    /// cannot tell one value from another, read by the HCL2 evaluator with
    /// the variable's value unknown (of the type Packer gives it):
    ///
    /// - a condition whose result is known without the value: always true
    ///   (it lets every value through) or always false (it refuses every
    ///   value, so every build fails);
    /// - a condition that fails to evaluate for any value of the
    ///   variable's type, or for the value the folder gives it (its
    ///   default, an auto var file): `contains(var.region, ["eu-west-1"])`
    ///   or `contains("eu-west-1", var.regions)`, the arguments swapped
    ///   (`contains` takes the list first, and a string, number or bool
    ///   there fails whatever the value): Packer stops the build with
    ///   "Error in function call";
    /// - `can(X)` where `X` is itself the test (`contains`, `startswith`,
    ///   `endswith`, `strcontains`, `==`, `!=` on a variable of a known
    ///   type): `can` is true whenever `X` evaluates, whatever `X`
    ///   returns, so `can(contains(["a", "b"], var.x))` passes `"c"`;
    /// - `length(…)` compared with a number that no length can cross
    ///   (`length(var.x) >= 0`, `length(var.x) < 0`);
    /// - `test || true` and `test && false`: a constant side decides the
    ///   result whatever the test gives (a debugging leftover).
    ///
    /// A condition that refers to anything but its variable is
    /// `invalid-validation`'s: Packer refuses it.
    ///
    /// ## Why is this bad?
    /// The validation was written to stop a build early with a clear
    /// message; one that is always true checks nothing, and one that is
    /// always false or fails to evaluate stops every build, the message
    /// blaming a value that is fine.
    ///
    /// ## Example
    /// ```hcl
    /// variable "environment" {
    ///   type = string
    ///   validation {
    ///     condition     = can(contains(["dev", "prod"], var.environment))
    ///     error_message = "The environment must be dev or prod."
    ///   }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Test the value itself: `contains(["dev", "prod"], var.environment)`
    /// (the list first), `length(var.x) > 0`; keep `can()` for functions
    /// that fail on a bad value (`can(regex("^ami-", var.source_ami))`).
    code: "PKR521", name: "constant-validation", severity: Warning, check: None, hcl2: Some(check),
}

const ARGUMENTS_HELP: &str = "check the order and types of the arguments: `contains(list, value)` takes the list first";

/// Calls that only fail on a value of the wrong type: for a
/// variable of a known type, `can()` of them is always true.
const TESTS: &[&str] = &["contains", "startswith", "endswith", "strcontains"];

fn check(ctx: &Hcl2Context, out: &mut FolderFindings) {
    let mut options = ctx.template.evaluation_options();
    options.unknown_variables = ctx.template.variables().iter().map(|variable| variable.name.to_owned()).collect();
    let evaluator = Evaluator::new(ctx.template, options);
    // The folder's own values, not this shell's `PKR_VAR_`s.
    let folder_only = eval::Options { packer_version: ctx.template.release, ..eval::Options::default() };
    let given = Evaluator::new(ctx.template, folder_only);
    for (name, condition) in conditions(ctx.template) {
        if !refers_only_to_itself(ctx.template, name, condition) {
            continue;
        }
        let mut reported: Vec<At> = Vec::new();
        let typed = evaluator.variable(name).and_then(Result::ok).is_some_and(|value| !value.ty().has_dynamic());
        match evaluator.value(&condition.at, &condition.value) {
            Ok(value) if value.is_wholly_known() => match value.kind {
                Kind::Bool(true) => {
                    out.report(
                        &RULE.meta,
                        &condition.at,
                        format!("this condition is true for every value of `var.{name}`"),
                    )
                    .help("test the value itself, or remove the validation");
                }
                Kind::Bool(false) => {
                    out.report(
                        &RULE.meta,
                        &condition.at,
                        format!("this condition is false for every value of `var.{name}`: every build stops here"),
                    )
                    .help("test the value itself, or remove the validation");
                }
                _ => {}
            },
            Ok(_) => {
                // Unknown for any value; the value the folder gives may
                // still fail to evaluate (`contains(var.region, [...])`
                // fails on every string, which an unknown hides).
                if let Some(Err(error)) = given.variable(name).map(|_| given.value(&condition.at, &condition.value))
                    && inside(&error.at, &condition.at)
                {
                    out.report(
                        &RULE.meta,
                        &error.at,
                        format!(
                            "this condition fails to evaluate with the value the folder gives `var.{name}`, so \
                             Packer stops the build: {}",
                            error.message
                        ),
                    )
                    .help(ARGUMENTS_HELP);
                    reported.push(error.at);
                }
            }
            Err(error) if typed && inside(&error.at, &condition.at) => {
                let ty = evaluator.variable(name).and_then(Result::ok).map(|value| value.ty().friendly());
                out.report(
                    &RULE.meta,
                    &error.at,
                    format!(
                        "this condition fails to evaluate for every value of `var.{name}` ({}): {}",
                        ty.unwrap_or_default(),
                        error.message
                    ),
                )
                .help(ARGUMENTS_HELP);
                reported.push(error.at);
            }
            Err(_) => {}
        }
        let Some(text) = text_of(ctx.template, &condition.at) else { continue };
        let Ok(expr) = hcl_edit::parser::parse_expr(text) else { continue };
        let mut finder =
            Finder { template: ctx.template, evaluator: &evaluator, origin: &condition.at, typed, found: Vec::new() };
        finder.visit_expr(&expr);
        for (at, message, help) in finder.found {
            if !reported.contains(&at) {
                out.report(&RULE.meta, &at, message).help(help);
            }
        }
    }
}

/// Each `validation` block's condition, with its variable's name.
fn conditions(template: &Hcl2Template) -> Vec<(&str, &Attr)> {
    let mut out = Vec::new();
    for variable in template.variables() {
        let Some(block) = variable.block else { continue };
        for validation in block.body.blocks("validation") {
            out.extend(validation.body.attr("condition").map(|condition| (variable.name, condition)));
        }
    }
    out
}

/// Does a condition refer to its variable, and to nothing else (bound
/// names of `for` expressions aside), as Packer demands?
fn refers_only_to_itself(template: &Hcl2Template, name: &str, condition: &Attr) -> bool {
    let mut any = false;
    for reference in template.references().filter(|reference| inside(&reference.at, &condition.at)) {
        if reference.bound {
            continue;
        }
        if reference.root == "var" && reference.attrs.first().map(String::as_str) == Some(name) {
            any = true;
        } else {
            return false;
        }
    }
    any
}

fn inside(at: &At, within: &At) -> bool {
    at.file == within.file && within.bytes.start <= at.bytes.start && at.bytes.end <= within.bytes.end
}

fn text_of<'a>(template: &'a Hcl2Template, at: &At) -> Option<&'a str> {
    template.files.get(at.file)?.text.get(at.bytes.clone())
}

/// Finds `can(test)` and impossible `length` comparisons in a condition.
struct Finder<'e, 't> {
    template: &'t Hcl2Template,
    evaluator: &'e Evaluator<'t>,
    /// Where the condition's text starts.
    origin: &'e At,
    typed: bool,
    found: Vec<(At, String, String)>,
}

impl Finder<'_, '_> {
    fn at(&self, span: Option<std::ops::Range<usize>>) -> At {
        let span = span.unwrap_or(0..0);
        let start = self.origin.bytes.start;
        At { file: self.origin.file, bytes: start + span.start..start + span.end }
    }

    fn number(&self, expr: &Expression) -> Option<f64> {
        let at = self.at(expr.span());
        let text = self.evaluator_text(&at)?;
        match self.evaluator.text(&at, &text).ok()?.kind {
            Kind::Number(number) => Some(number.as_f64()),
            _ => None,
        }
    }

    fn evaluator_text(&self, at: &At) -> Option<String> {
        text_of(self.template, at).map(str::to_owned)
    }

    /// The value of a part of the condition, if known without the variable's.
    fn known(&self, expr: &Expression) -> Option<Kind> {
        let at = self.at(expr.span());
        let value = self.evaluator.text(&at, &self.evaluator_text(&at)?).ok()?;
        value.is_wholly_known().then_some(value.kind)
    }

    /// `test || true` is true and `test && false` false whatever the test
    /// gives (the evaluator, as Packer 1.6.6's HCL, leaves the whole
    /// unknown while the test is): the other side decides nothing. Only
    /// where the whole is not known already, which the condition's own
    /// check reports.
    fn decided_by_one_side(
        &self,
        expr: &Expression,
        operator: BinaryOperator,
        lhs: &Expression,
        rhs: &Expression,
    ) -> Option<(String, String)> {
        let decisive = match operator {
            BinaryOperator::Or => true,
            BinaryOperator::And => false,
            _ => return None,
        };
        if self.known(expr).is_some() {
            return None;
        }
        let decides = |side: &Expression| matches!(self.known(side), Some(Kind::Bool(value)) if value == decisive);
        if !(decides(lhs) || decides(rhs)) {
            return None;
        }
        let (symbol, constant) = if decisive { ("||", "true") } else { ("&&", "false") };
        Some((
            format!("`{symbol} {constant}` makes this {constant} for every value: the other side decides nothing"),
            format!("remove the `{symbol} {constant}`, or the validation if it was meant to let everything through"),
        ))
    }
}

impl Visit for Finder<'_, '_> {
    fn visit_expr(&mut self, expr: &Expression) {
        match expr {
            Expression::FuncCall(call) if call.name.name.as_str() == "can" && call.name.namespace.is_empty() => {
                if let Some(inner) = call.args.iter().next()
                    && self.typed
                    && is_test(inner)
                {
                    let at = self.at(inner.span());
                    let tested = self
                        .evaluator_text(&at)
                        .and_then(|text| self.evaluator.text(&at, &text).ok())
                        .is_some_and(|value| value.ty() == CtyType::Bool);
                    if tested {
                        self.found.push((
                            self.at(expr.span()),
                            "`can()` of a test is true whenever the test evaluates, whatever it returns".to_owned(),
                            "write the test alone, without `can()`".to_owned(),
                        ));
                    }
                }
            }
            Expression::FuncCall(call) if call.name.name.as_str() == "contains" && call.name.namespace.is_empty() => {
                // A first argument that is a string, number or bool, known or
                // not: `contains` fails on it whatever the value.
                if let Some(first) = call.args.iter().next() {
                    let at = self.at(first.span());
                    let ty =
                        self.evaluator_text(&at).and_then(|text| self.evaluator.text(&at, &text).ok()).map(|v| v.ty());
                    if let Some(ty) = ty.filter(CtyType::is_primitive) {
                        self.found.push((
                            at,
                            format!(
                                "`contains` takes the list first, and this is {}: the condition fails to \
                                 evaluate for every value",
                                ty.friendly()
                            ),
                            ARGUMENTS_HELP.to_owned(),
                        ));
                    }
                }
            }
            Expression::BinaryOp(op) => {
                let operator = *op.operator.value();
                if let Some((always, help)) = self.decided_by_one_side(expr, operator, &op.lhs_expr, &op.rhs_expr) {
                    self.found.push((self.at(expr.span()), always, help));
                }
                let (bound, operator) = if is_length(&op.lhs_expr) {
                    (&op.rhs_expr, Some(operator))
                } else if is_length(&op.rhs_expr) {
                    (&op.lhs_expr, flipped(operator))
                } else {
                    (&op.rhs_expr, None)
                };
                if let Some(operator) = operator
                    && let Some(bound) = self.number(bound)
                    && let Some(always) = length_comparison(operator, bound)
                {
                    self.found.push((
                        self.at(expr.span()),
                        format!("this comparison is {always} for every length: no length is below 0"),
                        "compare with the smallest or largest length you accept, such as `length(var.x) > 0`"
                            .to_owned(),
                    ));
                }
            }
            _ => {}
        }
        visit::visit_expr(self, expr);
    }
}

/// `contains(…)`, `startswith(…)`, `a == b`: fails only on a value of the wrong type.
fn is_test(expr: &Expression) -> bool {
    match expr {
        Expression::FuncCall(call) => call.name.namespace.is_empty() && TESTS.contains(&call.name.name.as_str()),
        Expression::BinaryOp(op) => matches!(op.operator.value(), BinaryOperator::Eq | BinaryOperator::NotEq),
        Expression::Parenthesis(inner) => is_test(inner.inner()),
        _ => false,
    }
}

fn is_length(expr: &Expression) -> bool {
    matches!(expr, Expression::FuncCall(call) if call.name.namespace.is_empty() && call.name.name.as_str() == "length")
}

/// `bound OP length` read as `length OP' bound`.
fn flipped(operator: BinaryOperator) -> Option<BinaryOperator> {
    Some(match operator {
        BinaryOperator::Less => BinaryOperator::Greater,
        BinaryOperator::LessEq => BinaryOperator::GreaterEq,
        BinaryOperator::Greater => BinaryOperator::Less,
        BinaryOperator::GreaterEq => BinaryOperator::LessEq,
        BinaryOperator::Eq | BinaryOperator::NotEq => operator,
        _ => return None,
    })
}

/// `length OP bound`, when it is the same for every length (a whole
/// number, 0 or more): "true" or "false".
fn length_comparison(operator: BinaryOperator, bound: f64) -> Option<&'static str> {
    let always_true = match operator {
        BinaryOperator::GreaterEq => bound <= 0.0,
        BinaryOperator::Greater => bound < 0.0,
        BinaryOperator::NotEq => bound < 0.0,
        _ => false,
    };
    let always_false = match operator {
        BinaryOperator::Less => bound <= 0.0,
        BinaryOperator::LessEq => bound < 0.0,
        BinaryOperator::Eq => bound < 0.0,
        _ => false,
    };
    if always_true {
        Some("true")
    } else if always_false {
        Some("false")
    } else {
        None
    }
}
