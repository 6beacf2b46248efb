//! The evaluator of HCL2 expressions: what a value of a template is, as
//! Packer would compute it before the build, in the cty model of
//! [`super::value`].
//!
//! - Scope, as Packer's root context has it: `var.*` (each variable's
//!   value, see below), `local.*` (evaluated on first use, each once; a
//!   cycle between locals is an error naming it), `path.root` and
//!   `path.cwd` (`.`: `images` runs Packer in the template folder),
//!   `packer.version` (known when a release is judged, else unknown),
//!   `data.*`, `source.*` and `build.*` (unknown: only the build knows them).
//! - A variable's value, in Packer's order, each later one winning: its
//!   `default` (evaluated with `env()` as its only function: unknown unless
//!   the evaluation is given an environment), `PKR_VAR_<name>`, the auto
//!   var files in name order, the `-var-file`s in their order, `-var`.
//!   Values from the environment and `-var` are text, read as Packer reads
//!   them: a literal string for a variable typed `string` or `number`,
//!   without a type, or (since Packer 1.8, and always for xtask's `--var`:
//!   see [`Options::vars`]) typed `any`, else an HCL expression. Each value is converted to the variable's `type` (or its
//!   default's type); a variable without any is unknown. Marks follow the
//!   values: `sensitive` from `sensitive` variables, `from_run` from
//!   `PKR_VAR_`, a `-var-file`, `-var` and `env()`.
//! - Expressions: literals, templates (interpolations, `%{if}` and `%{for}`
//!   directives, `~` strip markers, heredocs), tuples and objects, `for`
//!   expressions, conditionals, splats, indexes and attributes, operators
//!   with cty's conversions, and function calls (see [`super::funcs`]).
//! - Errors are values: [`EvalError`] with the place of the expression at
//!   fault. A call to a function the judged release does not have is an
//!   error too, and is listed by [`Evaluator::missing_functions`].

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;

use hcl_edit::Span;
use hcl_edit::expr::{BinaryOperator, Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::template::{Directive, Element, Strip, Template};

use super::value::{CtyType, CtyValue, Kind, Marks, Number, convert, never_unify, unify};
use super::{At, FileKind, Hcl2Template, Value};
use crate::hcl2::Given;
use crate::version::Version;

/// Why an expression has no value: Packer would refuse it.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalError {
    /// The expression at fault.
    pub at: At,
    pub message: String,
}

/// A call to a function the judged release of Packer does not have.
#[derive(Clone, Debug, PartialEq)]
pub struct MissingFunction {
    pub name: String,
    pub at: At,
    /// The release that brought it, `None` for a name no release knows.
    pub since: Option<Version>,
    pub judged: Version,
}

pub type Evaluated = Result<CtyValue, EvalError>;

/// What an evaluation is given beyond the folder.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The release judged against: it decides which functions exist and
    /// gives `packer.version`. `None`: any release the table knows.
    pub packer_version: Option<Version>,
    /// The environment `env()` reads in variable defaults; `None` leaves
    /// `env()` unknown.
    pub environment: Option<BTreeMap<String, String>>,
    /// `PKR_VAR_<name>` values, by name.
    pub env_vars: BTreeMap<String, String>,
    /// Files of the folder passed with `-var-file`, by index, in order.
    pub var_files: Vec<usize>,
    /// The values this run gives from outside the folder, after its var
    /// files (the last given winning, as xtask merges them): a value of a
    /// `-var-file` elsewhere, or xtask's `--var name=text`. That text is
    /// read as Packer 1.8+ reads `-var` whichever release is judged: xtask
    /// hands it to Packer as a value in a var file written from this
    /// reading ([`crate::private_vars`]), which the judged release then
    /// converts to the variable's type as it types it.
    pub vars: BTreeMap<String, Given>,
    /// The template folder, for `file()`, `fileexists()` and
    /// `templatefile()`; `None` leaves what they read unknown.
    pub folder: Option<PathBuf>,
    /// The folder those functions may read below (symbolic links
    /// followed), such as the repository's root; `None`: the template
    /// folder. What lies elsewhere is unknown.
    pub read_root: Option<PathBuf>,
    /// The time `timestamp()` gives (RFC 3339, UTC), for a rule that asks
    /// what a value would be at two moments; `None` leaves it unknown, as
    /// only the build knows it.
    pub clock: Option<String>,
    /// Variables whose value is taken as unknown (of the type Packer
    /// gives them), whatever sets them: to ask what an expression is for
    /// any value of them.
    pub unknown_variables: std::collections::BTreeSet<String>,
}

/// A value written where Packer takes values alone (a var file): its cty
/// value, or why Packer refuses it.
pub fn literal(value: &Value) -> Evaluated {
    let template = Hcl2Template::default();
    let evaluator = Evaluator::new(&template, Options::default());
    evaluator.start();
    evaluator.model_value(&At { file: 0, bytes: 0..0 }, value, Context::VarFile)
}

/// Is `text` the source of a string template with interpolations or
/// directives (`"tag:${var.key}"`)?
fn is_template_text(text: &str) -> bool {
    text.starts_with('"') && matches!(hcl_edit::parser::parse_expr(text), Ok(Expression::StringTemplate(_)))
}

/// [`literal`] for a value's text, as `-var` text Packer reads as an
/// expression is.
pub fn literal_text(text: &str) -> Evaluated {
    let template = Hcl2Template::default();
    let evaluator = Evaluator::new(&template, Options::default());
    evaluator.start();
    evaluator.parsed_text(&At { file: 0, bytes: 0..0 }, text, Context::VarFile)
}

/// The largest file `file()` and `templatefile()` read.
pub(super) const FILE_LIMIT: u64 = 4 << 20;

/// How deep expressions may nest (and locals refer to locals) before
/// evaluation stops with an error rather than exhausting the stack.
const MAX_DEPTH: usize = 200;

/// The stack one evaluation may use, locals through locals included.
const MAX_STACK: usize = 1 << 20;

/// Where the stack is now: the address of a local.
fn stack_position() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// How many expressions one evaluation evaluates (each `for` iteration's
/// counting, and the variables and locals it computes first) before it
/// stops with an error: a template that loops a million times is not one
/// a build needs read ahead of time.
const MAX_STEPS: usize = 200_000;

/// The largest string or collection an evaluation builds.
pub const MAX_SIZE: usize = 1 << 20;

enum LocalState {
    Evaluating,
    Done(Evaluated),
}

/// Evaluates the expressions of one template folder. Variables and
/// locals are computed once, on first use.
pub struct Evaluator<'t> {
    template: &'t Hcl2Template,
    options: Options,
    variables: RefCell<BTreeMap<String, Evaluated>>,
    locals: RefCell<BTreeMap<String, LocalState>>,
    missing: RefCell<Vec<MissingFunction>>,
    depth: std::cell::Cell<usize>,
    /// Expressions evaluated so far, against [`MAX_STEPS`].
    steps: std::cell::Cell<usize>,
    /// Where the stack was when the evaluation started, against [`MAX_STACK`].
    stack_base: std::cell::Cell<usize>,
}

/// Names `for` expressions and directives bind: this level's, then the
/// enclosing ones'.
#[derive(Default)]
pub(super) struct Scope<'s> {
    parent: Option<&'s Scope<'s>>,
    bound: Vec<(&'s str, CtyValue)>,
}

impl<'s> Scope<'s> {
    /// A scope inside this one, binding `bound`.
    fn inner(&'s self, bound: Vec<(&'s str, CtyValue)>) -> Scope<'s> {
        Scope { parent: Some(self), bound }
    }

    fn lookup(&self, name: &str) -> Option<&CtyValue> {
        match self.bound.iter().rev().find(|(bound, _)| *bound == name) {
            Some((_, value)) => Some(value),
            None => self.parent?.lookup(name),
        }
    }
}

/// What an expression may use: the template's root context, a variable
/// default's (`env()` only), a var file's (literals only), or a
/// `templatefile`'s (its variables, no `templatefile`).
#[derive(Clone, Copy)]
pub(super) enum Context<'v> {
    Root,
    Default,
    VarFile,
    TemplateFile(&'v BTreeMap<String, CtyValue>),
}

/// Where an expression's text starts in its file, to place errors.
#[derive(Clone, Copy)]
pub(super) struct Origin {
    pub file: usize,
    pub offset: usize,
}

impl Origin {
    pub(super) fn at(&self, span: Option<std::ops::Range<usize>>) -> At {
        let span = span.unwrap_or(0..0);
        At { file: self.file, bytes: self.offset + span.start..self.offset + span.end }
    }
}

impl<'t> Evaluator<'t> {
    pub fn new(template: &'t Hcl2Template, options: Options) -> Evaluator<'t> {
        Evaluator {
            template,
            options,
            variables: RefCell::new(BTreeMap::new()),
            locals: RefCell::new(BTreeMap::new()),
            missing: RefCell::new(Vec::new()),
            depth: std::cell::Cell::new(0),
            steps: std::cell::Cell::new(0),
            stack_base: std::cell::Cell::new(stack_position()),
        }
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The calls made so far to functions the judged release lacks.
    pub fn missing_functions(&self) -> Vec<MissingFunction> {
        self.missing.borrow().clone()
    }

    /// The value of a model value at `at`, in the template's root context.
    pub fn value(&self, at: &At, value: &Value) -> Evaluated {
        self.start();
        self.model_value(at, value, Context::Root)
    }

    /// The value of an expression's text, as if written at `at`.
    pub fn text(&self, at: &At, text: &str) -> Evaluated {
        self.start();
        self.parsed_text(at, text, Context::Root)
    }

    /// A new evaluation from outside: its own budget of steps and stack.
    fn start(&self) {
        if self.depth.get() == 0 {
            self.steps.set(0);
            self.stack_base.set(stack_position());
        }
    }

    fn parsed_text(&self, at: &At, text: &str, context: Context<'_>) -> Evaluated {
        let expr = hcl_edit::parser::parse_expr(text).map_err(|error| EvalError {
            at: at.clone(),
            message: format!("not an expression: {}", error.message()),
        })?;
        let origin = Origin { file: at.file, offset: at.bytes.start };
        self.expr(&expr, origin, &Scope::default(), context)
    }

    fn model_value(&self, at: &At, value: &Value, context: Context<'_>) -> Evaluated {
        Ok(match value {
            Value::Null => CtyValue::null(CtyType::Dynamic),
            Value::Bool(value) => CtyValue::bool(*value),
            Value::Number(text) => CtyValue::number(
                Number::parse(text)
                    .ok_or_else(|| EvalError { at: at.clone(), message: format!("{text} is not a number") })?,
            ),
            Value::String(text) => CtyValue::string(text.clone()),
            Value::List(items) => CtyValue::tuple(
                items.iter().map(|item| self.model_value(&item.at, &item.value, context)).collect::<Result<_, _>>()?,
            ),
            Value::Object(attrs) => {
                let mut out = BTreeMap::new();
                for attr in attrs {
                    // The reader keeps a key it cannot read alone as its
                    // text: a parenthesised expression, or a template
                    // (`"tag:${var.key}"`), which the quotes tell apart from
                    // a plain string's value.
                    let key = if attr.key.starts_with('(') || is_template_text(&attr.key) {
                        let key = self.parsed_text(&attr.key_at, &attr.key, context)?;
                        key_string(&key, &attr.key_at)?.unwrap_or_default()
                    } else {
                        attr.key.clone()
                    };
                    out.insert(key, self.model_value(&attr.at, &attr.value, context)?);
                }
                CtyValue::object(out)
            }
            Value::Expr(text) => self.parsed_text(at, text, context)?,
        })
    }

    /// A variable's value for this evaluation (see the module docs).
    pub fn variable(&self, name: &str) -> Option<Evaluated> {
        self.start();
        if let Some(done) = self.variables.borrow().get(name) {
            return Some(done.clone());
        }
        let variable = self.template.variable(name)?;
        let value = self.compute_variable(&variable);
        self.variables.borrow_mut().insert(name.to_owned(), value.clone());
        Some(value)
    }

    fn compute_variable(&self, variable: &super::Variable<'_>) -> Evaluated {
        let name = variable.name;
        let (ty, mut value) = self.variable_type(variable)?;
        let declared_at = variable.at;
        let convert_from = |value: CtyValue, from: &str, at: &At| converted_to(value, ty.as_ref(), variable, from, at);
        if let Some(text) = self.options.env_vars.get(name) {
            let read = self.text_value(ty.as_ref(), text, declared_at, self.since(Version(1, 8, 0)))?;
            value = Some(convert_from(read, &format!("PKR_VAR_{name}"), declared_at)?.marked(Marks::FROM_RUN));
        }
        // The auto var files are the folder's own; a `-var-file` is this
        // run's choice.
        let auto = self.template.files.iter().filter(|file| file.kind == FileKind::VarFile { auto: true });
        let given = self.options.var_files.iter().filter_map(|index| self.template.files.get(*index));
        let files = auto.map(|file| (file, Marks::default())).chain(given.map(|file| (file, Marks::FROM_RUN)));
        for (file, marks) in files {
            for attr in file.body.attrs.iter().filter(|attr| attr.key == name) {
                let computed = self.model_value(&attr.at, &attr.value, Context::VarFile)?;
                let from = format!("the value {} gives", file.name);
                value = Some(convert_from(computed, &from, &attr.at)?.marked(marks));
            }
        }
        match self.options.vars.get(name) {
            Some(Given::Arg(text)) => {
                let read = self.text_value(ty.as_ref(), text, declared_at, true)?;
                value = Some(convert_from(read, "the value given", declared_at)?.marked(Marks::FROM_RUN));
            }
            Some(Given::File { value: given, .. }) => {
                let computed = self.model_value(declared_at, given, Context::VarFile)?;
                value =
                    Some(convert_from(computed, "the value a var file gives", declared_at)?.marked(Marks::FROM_RUN));
            }
            None => {}
        }
        let value = value.unwrap_or_else(|| CtyValue::unknown(ty.unwrap_or(CtyType::Dynamic)));
        let value = if self.options.unknown_variables.contains(name) { CtyValue::unknown(value.ty()) } else { value };
        Ok(value.marked(Marks { sensitive: variable.sensitive(), from_run: false }))
    }

    /// A variable's type as Packer decides it, and its default converted
    /// to that type: the declared `type`, else the default's type (from
    /// Packer 1.8 on, not an empty tuple's or object's: `[]`, `{}`), else
    /// none.
    fn variable_type(&self, variable: &super::Variable<'_>) -> Result<(Option<CtyType>, Option<CtyValue>), EvalError> {
        let declared = match variable.type_expr() {
            // Before 1.16, Packer reads `type` as an exact type (hcl's
            // `typeexpr.Type`), which refuses `any` anywhere in it.
            Some(attr) => match type_of_attr(attr)? {
                ty if mentions_any(&ty) && !self.since(Version(1, 16, 0)) => {
                    return Err(EvalError {
                        at: attr.at.clone(),
                        message: format!(
                            "var.{}: `any` in a variable's type needs Packer 1.16 or later (an exact type before)",
                            variable.name
                        ),
                    });
                }
                ty => Some(ty),
            },
            None => None,
        };
        let default = match variable.default() {
            Some(default) => {
                let computed = self.model_value(&default.at, &default.value, Context::Default)?;
                Some(converted_to(computed, declared.as_ref(), variable, "its default", &default.at)?)
            }
            None => None,
        };
        let empty = |ty: &CtyType| {
            matches!(ty, CtyType::Tuple(e) if e.is_empty()) || matches!(ty, CtyType::Object(a) if a.is_empty())
        };
        let ty = declared
            .or_else(|| default.as_ref().map(CtyValue::ty).filter(|ty| !(self.since(Version(1, 8, 0)) && empty(ty))));
        Ok((ty, default))
    }

    /// Is the judged release this one or later? Yes when none is judged.
    fn since(&self, release: Version) -> bool {
        self.options.packer_version.is_none_or(|version| version >= release)
    }

    /// A value given as text (`-var`, `PKR_VAR_`) as Packer reads it for a
    /// variable of type `ty`, before converting it: the text itself for a
    /// string, a number, no type, or `any` when `any_as_text` (an untyped
    /// `null` default's type is `any` too), else an HCL expression that may
    /// only hold values. Packer reads `any` so since 1.8.
    fn text_value(&self, ty: Option<&CtyType>, text: &str, at: &At, any_as_text: bool) -> Evaluated {
        let as_text = match ty {
            None | Some(CtyType::String | CtyType::Number) => true,
            Some(CtyType::Dynamic) => any_as_text,
            Some(_) => false,
        };
        if as_text { Ok(CtyValue::string(text)) } else { self.parsed_text(at, text, Context::VarFile) }
    }

    /// The value xtask's `--var name=text` gives a declared variable (see
    /// [`Options::vars`]), before converting it to the variable's type;
    /// `None` when no variable of that name is declared.
    pub fn value_of_text(&self, name: &str, text: &str) -> Option<Evaluated> {
        self.start();
        let variable = self.template.variable(name)?;
        Some(self.variable_type(&variable).and_then(|(ty, _)| self.text_value(ty.as_ref(), text, variable.at, true)))
    }

    /// A local's value, computed on first use; `None` when the template
    /// declares no such local.
    pub fn local(&self, name: &str) -> Option<Evaluated> {
        self.start();
        match self.locals.borrow().get(name) {
            Some(LocalState::Done(value)) => return Some(value.clone()),
            Some(LocalState::Evaluating) => {
                let local = self.template.locals().into_iter().find(|local| local.name == name)?;
                return Some(Err(EvalError {
                    at: local.at.clone(),
                    message: format!("local.{name} refers to itself, through the locals it uses"),
                }));
            }
            None => {}
        }
        let locals = self.template.locals();
        let local = locals.iter().find(|local| local.name == name)?;
        self.locals.borrow_mut().insert(name.to_owned(), LocalState::Evaluating);
        let marks = Marks { sensitive: local_is_sensitive(self.template, name), from_run: false };
        let value = self.value(&local.value.at, &local.value.value).map(|value| value.marked(marks));
        self.locals.borrow_mut().insert(name.to_owned(), LocalState::Done(value.clone()));
        Some(value)
    }

    /// Every declared variable, as the object `var` is.
    fn all_variables(&self) -> Evaluated {
        let mut out = BTreeMap::new();
        for variable in self.template.variables() {
            if let Some(value) = self.variable(variable.name) {
                out.insert(variable.name.to_owned(), value?);
            }
        }
        Ok(CtyValue::object(out))
    }

    fn all_locals(&self) -> Evaluated {
        let mut out = BTreeMap::new();
        for local in self.template.locals() {
            if let Some(value) = self.local(local.name) {
                out.insert(local.name.to_owned(), value?);
            }
        }
        Ok(CtyValue::object(out))
    }

    pub(super) fn expr(&self, expr: &Expression, origin: Origin, scope: &Scope<'_>, context: Context<'_>) -> Evaluated {
        let at = || origin.at(expr.span());
        let depth = self.depth.get();
        // Frames differ by build (an unoptimised one's are large): the
        // stack used is what counts, in a thread of 2 MiB as in tests.
        if depth >= MAX_DEPTH || stack_position().abs_diff(self.stack_base.get()) > MAX_STACK {
            return Err(EvalError { at: at(), message: "the expression nests too deeply to evaluate".to_owned() });
        }
        self.steps.set(self.steps.get() + 1);
        if self.steps.get() > MAX_STEPS {
            return Err(EvalError {
                at: at(),
                message: "the folder's expressions take too long to evaluate".to_owned(),
            });
        }
        self.depth.set(depth + 1);
        let value = self.expr_inner(expr, origin, scope, context);
        self.depth.set(depth);
        let value = value?;
        if too_large(&value) {
            return Err(EvalError { at: at(), message: "the value is too large to evaluate".to_owned() });
        }
        Ok(value)
    }

    fn expr_inner(&self, expr: &Expression, origin: Origin, scope: &Scope<'_>, context: Context<'_>) -> Evaluated {
        let at = || origin.at(expr.span());
        let error = |message: String| Err(EvalError { at: at(), message });
        match expr {
            Expression::Null(_) => Ok(CtyValue::null(CtyType::Dynamic)),
            Expression::Bool(value) => Ok(CtyValue::bool(*value.value())),
            Expression::Number(number) => {
                // The literal's text: `1e3`, `0.10`, `-0`, exactly as written.
                let text = match number.as_repr() {
                    Some(repr) => repr.split_whitespace().collect::<String>(),
                    None => number.value().to_string(),
                };
                match Number::parse(&text) {
                    Some(number) => Ok(CtyValue::number(number)),
                    None => error(format!("{text} is not a number")),
                }
            }
            Expression::String(text) => Ok(CtyValue::string(text.value().clone())),
            Expression::Array(items) => Ok(CtyValue::tuple(
                items.iter().map(|item| self.expr(item, origin, scope, context)).collect::<Result<_, _>>()?,
            )),
            Expression::Object(object) => {
                let mut out = BTreeMap::new();
                let mut unknown_key = false;
                for (key, value) in object.iter() {
                    let key_at = origin.at(match key {
                        ObjectKey::Ident(ident) => ident.span(),
                        ObjectKey::Expression(expr) => expr.span(),
                    });
                    let name = match key {
                        ObjectKey::Ident(ident) => Some(ident.as_str().to_owned()),
                        // A bare name is the key itself, as in HCL.
                        ObjectKey::Expression(Expression::Variable(ident)) => Some(ident.as_str().to_owned()),
                        // So are the keywords, `null` too.
                        ObjectKey::Expression(Expression::Null(_)) => Some("null".to_owned()),
                        ObjectKey::Expression(Expression::Bool(set)) => Some(set.to_string()),
                        // HCL will not guess whether `{ var.x = 1 }` means
                        // the key "var.x" or the variable's value.
                        ObjectKey::Expression(Expression::Traversal(traversal))
                            if matches!(traversal.expr, Expression::Variable(_))
                                && traversal.operators.iter().all(|op| {
                                    matches!(
                                        op.value(),
                                        TraversalOperator::GetAttr(_) | TraversalOperator::LegacyIndex(_)
                                    )
                                }) =>
                        {
                            return Err(EvalError {
                                at: key_at,
                                message: "an object key that is a reference must be in parentheses: (var.x) = …"
                                    .to_owned(),
                            });
                        }
                        ObjectKey::Expression(expr) => {
                            let key = self.expr(expr, origin, scope, context)?;
                            key_string(&key, &key_at)?
                        }
                    };
                    let value = self.expr(value.expr(), origin, scope, context)?;
                    match name {
                        // A key written twice keeps its last value, as HCL's
                        // object constructor does (only a `for` refuses it).
                        Some(name) => {
                            out.insert(name, value);
                        }
                        None => unknown_key = true,
                    }
                }
                if unknown_key {
                    return Ok(CtyValue::unknown(CtyType::Dynamic));
                }
                Ok(CtyValue::object(out))
            }
            Expression::StringTemplate(template) => self.template(template, origin, scope, context),
            Expression::HeredocTemplate(heredoc) => self.template(&heredoc.template, origin, scope, context),
            Expression::Parenthesis(inner) => self.expr(inner.inner(), origin, scope, context),
            Expression::Variable(name) => self.root(name.as_str(), at(), scope, context),
            Expression::Traversal(traversal) => {
                let operators: Vec<&TraversalOperator> = traversal.operators.iter().map(|op| op.value()).collect();
                let spans: Vec<At> = traversal.operators.iter().map(|op| origin.at(op.span())).collect();
                // `var.x` and `local.x` are looked up alone: another
                // variable's error, or a local being computed, is not this one's.
                if let (Expression::Variable(root), Some(TraversalOperator::GetAttr(name))) =
                    (&traversal.expr, operators.first())
                    && matches!(context, Context::Root)
                    && scope.lookup(root.as_str()).is_none()
                {
                    let found = match root.as_str() {
                        "var" => Some(self.variable(name.as_str())),
                        "local" => Some(self.local(name.as_str())),
                        _ => None,
                    };
                    if let Some(found) = found {
                        let value = found.unwrap_or_else(|| {
                            let kind = if root.as_str() == "var" { "variable" } else { "local" };
                            Err(EvalError {
                                at: origin
                                    .at(traversal.expr.span().map(|s| s.start..spans[0].bytes.end - origin.offset)),
                                message: format!("there is no {kind} named \"{}\"", name.as_str()),
                            })
                        })?;
                        return self.traverse(value, &operators[1..], &spans[1..], origin, scope, context);
                    }
                }
                let base = self.expr(&traversal.expr, origin, scope, context)?;
                self.traverse(base, &operators, &spans, origin, scope, context)
            }
            Expression::Conditional(conditional) => {
                let condition = self.expr(&conditional.cond_expr, origin, scope, context)?;
                let condition_at = origin.at(conditional.cond_expr.span());
                let if_true = (self.expr(&conditional.true_expr, origin, scope, context), &conditional.true_expr);
                let if_false = (self.expr(&conditional.false_expr, origin, scope, context), &conditional.false_expr);
                self.conditional(condition, &condition_at, if_true, if_false, at())
            }
            Expression::FuncCall(call) => {
                if !call.name.namespace.is_empty() {
                    return error(format!("there is no function named \"{}\" in Packer", expr_text(call)));
                }
                super::funcs::call(self, call, origin, scope, context, at())
            }
            Expression::UnaryOp(op) => {
                let operand = self.expr(&op.expr, origin, scope, context)?;
                let operand_at = origin.at(op.expr.span());
                match op.operator.value() {
                    UnaryOperator::Neg => {
                        let number = operand_as(&operand, &CtyType::Number, &operand_at, "operand")?;
                        Ok(map_known(&number, CtyType::Number, |n| match &n.kind {
                            Kind::Number(n) => CtyValue::number(n.negated()),
                            _ => CtyValue::unknown(CtyType::Number),
                        }))
                    }
                    UnaryOperator::Not => {
                        let value = operand_as(&operand, &CtyType::Bool, &operand_at, "operand")?;
                        Ok(map_known(&value, CtyType::Bool, |v| match &v.kind {
                            Kind::Bool(b) => CtyValue::bool(!b),
                            _ => CtyValue::unknown(CtyType::Bool),
                        }))
                    }
                }
            }
            Expression::BinaryOp(op) => {
                let lhs = self.expr(&op.lhs_expr, origin, scope, context)?;
                let rhs = self.expr(&op.rhs_expr, origin, scope, context)?;
                let sides = (origin.at(op.lhs_expr.span()), origin.at(op.rhs_expr.span()));
                binary(*op.operator.value(), lhs, rhs, &sides, at())
            }
            Expression::ForExpr(for_expr) => self.for_expr(for_expr, origin, scope, context, at()),
        }
    }

    /// A name at the root of an expression: bound by a `for`, or one of
    /// the context's objects.
    fn root(&self, name: &str, at: At, scope: &Scope<'_>, context: Context<'_>) -> Evaluated {
        if let Some(value) = scope.lookup(name) {
            return Ok(value.clone());
        }
        let unknown_name =
            || Err(EvalError { at: at.clone(), message: format!("there is no variable named \"{name}\" here") });
        match context {
            Context::Root => {}
            Context::TemplateFile(vars) => return vars.get(name).cloned().map_or_else(unknown_name, Ok),
            Context::Default | Context::VarFile => {
                return Err(EvalError {
                    at,
                    message: format!(
                        "variables are not allowed here: \"{name}\" (a {} may only hold values)",
                        if matches!(context, Context::Default) { "variable's default" } else { "var file" }
                    ),
                });
            }
        }
        match name {
            "var" => self.all_variables(),
            "local" => self.all_locals(),
            "path" => {
                let mut out = BTreeMap::new();
                out.insert("root".to_owned(), CtyValue::string("."));
                out.insert("cwd".to_owned(), CtyValue::string("."));
                Ok(CtyValue::object(out))
            }
            "packer" => {
                let mut out = BTreeMap::new();
                let version = self.options.packer_version.map_or_else(
                    || CtyValue::unknown(CtyType::String),
                    |version| CtyValue::string(version.to_string()),
                );
                out.insert("version".to_owned(), version);
                Ok(CtyValue::object(out))
            }
            "data" | "source" | "build" => Ok(CtyValue::unknown(CtyType::Dynamic)),
            _ => unknown_name(),
        }
    }

    /// Applies traversal operators in order; a splat applies what follows
    /// it (attributes only, for `.*`) to each element.
    fn traverse(
        &self,
        mut value: CtyValue,
        operators: &[&TraversalOperator],
        spans: &[At],
        origin: Origin,
        scope: &Scope<'_>,
        context: Context<'_>,
    ) -> Evaluated {
        let mut index = 0;
        while index < operators.len() {
            let at = &spans[index];
            match operators[index] {
                TraversalOperator::GetAttr(name) => value = get_attr(&value, name.as_str(), at)?,
                TraversalOperator::Index(key) => {
                    let key = self.expr(key, origin, scope, context)?;
                    value = index_value(&value, &key, at)?;
                }
                TraversalOperator::LegacyIndex(number) => {
                    value = index_value(&value, &CtyValue::int(*number.value() as i64), at)?
                }
                splat @ (TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_)) => {
                    let full = matches!(splat, TraversalOperator::FullSplat(_));
                    let rest_end = if full {
                        operators.len()
                    } else {
                        index
                            + 1
                            + operators[index + 1..]
                                .iter()
                                .take_while(|op| matches!(op, TraversalOperator::GetAttr(_)))
                                .count()
                    };
                    let rest = &operators[index + 1..rest_end];
                    let rest_spans = &spans[index + 1..rest_end];
                    value = self.splat(value, rest, rest_spans, origin, scope, context)?;
                    index = rest_end;
                    continue;
                }
            }
            index += 1;
        }
        Ok(value)
    }

    fn splat(
        &self,
        value: CtyValue,
        rest: &[&TraversalOperator],
        spans: &[At],
        origin: Origin,
        scope: &Scope<'_>,
        context: Context<'_>,
    ) -> Evaluated {
        let marks = value.marks;
        let apply = |element: CtyValue| self.traverse(element, rest, spans, origin, scope, context);
        let out = match value.kind {
            Kind::Unknown(_) => CtyValue::unknown(CtyType::Dynamic),
            Kind::Null(_) => CtyValue::tuple(Vec::new()),
            Kind::List(_, elements) => {
                let converted: Vec<CtyValue> = elements.into_iter().map(apply).collect::<Result<_, _>>()?;
                let element =
                    unify(&converted.iter().map(CtyValue::ty).collect::<Vec<_>>()).unwrap_or(CtyType::Dynamic);
                CtyValue::list(element, converted)
            }
            Kind::Tuple(elements) | Kind::Set(_, elements) => {
                CtyValue::tuple(elements.into_iter().map(apply).collect::<Result<_, _>>()?)
            }
            // Anything else is taken as a one-element tuple.
            other => CtyValue::tuple(vec![apply(CtyValue { kind: other, marks: Marks::default() })?]),
        };
        Ok(out.marked(marks))
    }

    /// `condition ? if_true : if_false`, each branch with its expression.
    fn conditional(
        &self,
        condition: CtyValue,
        condition_at: &At,
        if_true: (Evaluated, &Expression),
        if_false: (Evaluated, &Expression),
        at: At,
    ) -> Evaluated {
        let condition = operand_as(&condition, &CtyType::Bool, condition_at, "condition")?;
        let chosen = match &condition.kind {
            Kind::Bool(true) => Some(true),
            Kind::Bool(false) => Some(false),
            _ => None,
        };
        // HCL evaluates both branches. An error counts in the branch taken
        // only (in neither when the condition is unknown), but the failed
        // branch's type, as HCL types a failed expression, still has to
        // unify with the other's.
        let mut uncertain = false;
        let mut branch = |(result, expr): (Evaluated, &Expression), taken: bool| match result {
            Ok(value) => {
                // A value whose type xtask does not know may not unify in Packer.
                uncertain |= value.is_unknown() && value.ty().has_dynamic();
                Ok(value)
            }
            Err(error) if taken => Err(error),
            Err(_) => Ok(CtyValue::unknown(failed_type(expr).unwrap_or_else(|| {
                uncertain = true;
                CtyType::Dynamic
            }))),
        };
        let if_true = branch(if_true, chosen == Some(true))?;
        let if_false = branch(if_false, chosen == Some(false))?;
        let types = [if_true.ty(), if_false.ty()];
        let unified = unify(&types);
        let marks = condition.all_marks();
        let unknown = |ty: Option<CtyType>| Ok(CtyValue::unknown(ty.unwrap_or(CtyType::Dynamic)).marked(marks));
        let inconsistent = |detail: String| {
            Err(EvalError { at: at.clone(), message: format!("inconsistent conditional result types: {detail}") })
        };
        let Some(unified) = unified else {
            return if uncertain || !never_unify(&types) {
                unknown(None)
            } else {
                inconsistent(format!(
                    "the true result is {} and the false one {}",
                    types[0].friendly(),
                    types[1].friendly()
                ))
            };
        };
        if uncertain {
            return unknown(None);
        }
        match chosen {
            None => unknown(Some(unified)),
            Some(which) => {
                let (value, other) = if which { (if_true, if_false) } else { (if_false, if_true) };
                // The other branch may have failed in Packer (an unknown here
                // can stand for an error): then its type does not count.
                if other.is_unknown() && value.ty() != unified {
                    return unknown(Some(unified));
                }
                match convert(&value, &unified) {
                    Ok(value) => Ok(value.marked(marks)),
                    Err(problem) => inconsistent(format!("the result has the wrong type: {problem}")),
                }
            }
        }
    }

    fn for_expr(
        &self,
        for_expr: &hcl_edit::expr::ForExpr,
        origin: Origin,
        scope: &Scope<'_>,
        context: Context<'_>,
        at: At,
    ) -> Evaluated {
        let collection = self.expr(&for_expr.intro.collection_expr, origin, scope, context)?;
        let object = for_expr.key_expr.is_some();
        let unknown = || Ok(CtyValue::unknown(CtyType::Dynamic));
        let pairs = match iteration_pairs(&collection, &origin.at(for_expr.intro.collection_expr.span()))? {
            Some(pairs) => pairs,
            None => return unknown(),
        };
        let key_var = for_expr.intro.key_var.as_ref().map(|ident| ident.as_str());
        let value_var = for_expr.intro.value_var.as_str();
        let mut tuple = Vec::new();
        let mut attrs: BTreeMap<String, CtyValue> = BTreeMap::new();
        let mut groups: BTreeMap<String, Vec<CtyValue>> = BTreeMap::new();
        for (key, value) in pairs {
            let mut bound = Vec::with_capacity(2);
            if let Some(key_var) = key_var {
                bound.push((key_var, key));
            }
            bound.push((value_var, value));
            let inner = scope.inner(bound);
            if let Some(cond) = &for_expr.cond {
                let keep = self.expr(&cond.expr, origin, &inner, context)?;
                let keep = operand_as(&keep, &CtyType::Bool, &origin.at(cond.expr.span()), "condition")?;
                match keep.kind {
                    Kind::Bool(true) => {}
                    Kind::Bool(false) => continue,
                    _ => return unknown(),
                }
            }
            let value = self.expr(&for_expr.value_expr, origin, &inner, context)?;
            match &for_expr.key_expr {
                None => tuple.push(value),
                Some(key_expr) => {
                    let key = self.expr(key_expr, origin, &inner, context)?;
                    let Some(key) = key_string(&key, &origin.at(key_expr.span()))? else { return unknown() };
                    if for_expr.grouping {
                        groups.entry(key).or_default().push(value);
                    } else if attrs.insert(key.clone(), value).is_some() {
                        return Err(EvalError {
                            at,
                            message: format!(
                                "duplicate object key \"{key}\": add `...` after the value to group the values of equal keys"
                            ),
                        });
                    }
                }
            }
            if tuple.len() + attrs.len() + groups.len() > MAX_SIZE {
                return Err(EvalError { at, message: "the value is too large to evaluate".to_owned() });
            }
        }
        let marks = collection.marks;
        Ok(if !object {
            CtyValue::tuple(tuple)
        } else if for_expr.grouping {
            CtyValue::object(groups.into_iter().map(|(k, v)| (k, CtyValue::tuple(v))).collect())
        } else {
            CtyValue::object(attrs)
        }
        .marked(marks))
    }

    /// A template's text: literals, interpolations and directives.
    pub(super) fn template(
        &self,
        template: &Template,
        origin: Origin,
        scope: &Scope<'_>,
        context: Context<'_>,
    ) -> Evaluated {
        let mut out = String::new();
        let mut marks = Marks::default();
        let known = self.template_into(template, origin, scope, context, &mut out, &mut marks)?;
        Ok(if known { CtyValue::string(out) } else { CtyValue::unknown(CtyType::String) }.marked(marks))
    }

    /// Appends a template's text to `out`; false when a part is unknown.
    fn template_into(
        &self,
        template: &Template,
        origin: Origin,
        scope: &Scope<'_>,
        context: Context<'_>,
        out: &mut String,
        marks: &mut Marks,
    ) -> Result<bool, EvalError> {
        let elements: Vec<&Element> = template.iter().collect();
        let mut known = true;
        for (index, element) in elements.iter().enumerate() {
            match element {
                Element::Literal(text) => {
                    let mut text: &str = text.value();
                    if index > 0 && strips_after(elements[index - 1]) {
                        text = text.trim_start();
                    }
                    if elements.get(index + 1).is_some_and(|next| strips_before(next)) {
                        text = text.trim_end();
                    }
                    out.push_str(text);
                }
                Element::Interpolation(interpolation) => {
                    let value = self.expr(&interpolation.expr, origin, scope, context)?;
                    let at = origin.at(interpolation.expr.span());
                    *marks |= value.all_marks();
                    match interpolated_text(&value, &at)? {
                        Some(text) => out.push_str(&text),
                        None => known = false,
                    }
                }
                Element::Directive(directive) => match directive.as_ref() {
                    Directive::If(if_directive) => {
                        let cond_expr = &if_directive.if_expr.cond_expr;
                        let condition = self.expr(cond_expr, origin, scope, context)?;
                        let condition =
                            operand_as(&condition, &CtyType::Bool, &origin.at(cond_expr.span()), "condition")?;
                        *marks |= condition.all_marks();
                        let endif = if_directive.endif_expr.strip;
                        // A branch's body, with the markers that open and close it.
                        let branch = match (condition.kind, &if_directive.else_expr) {
                            (Kind::Bool(true), Some(else_expr)) => {
                                Some((&if_directive.if_expr.template, if_directive.if_expr.strip, else_expr.strip))
                            }
                            (Kind::Bool(true), None) => {
                                Some((&if_directive.if_expr.template, if_directive.if_expr.strip, endif))
                            }
                            (Kind::Bool(false), Some(else_expr)) => Some((&else_expr.template, else_expr.strip, endif)),
                            (Kind::Bool(false), None) => None,
                            _ => {
                                known = false;
                                None
                            }
                        };
                        if let Some((branch, open, close)) = branch {
                            let mut text = String::new();
                            known &= self.template_into(branch, origin, scope, context, &mut text, marks)?;
                            out.push_str(&strip_directive_body(&text, open, close));
                        }
                    }
                    Directive::For(for_directive) => {
                        let intro = &for_directive.for_expr;
                        let collection = self.expr(&intro.collection_expr, origin, scope, context)?;
                        *marks |= collection.marks;
                        let Some(pairs) = iteration_pairs(&collection, &origin.at(intro.collection_expr.span()))?
                        else {
                            known = false;
                            continue;
                        };
                        for (key, value) in pairs {
                            let mut bound = Vec::with_capacity(2);
                            if let Some(key_var) = &intro.key_var {
                                bound.push((key_var.as_str(), key));
                            }
                            bound.push((intro.value_var.as_str(), value));
                            let inner = scope.inner(bound);
                            let mut text = String::new();
                            known &= self.template_into(&intro.template, origin, &inner, context, &mut text, marks)?;
                            out.push_str(&strip_directive_body(&text, intro.strip, for_directive.endfor_expr.strip));
                            if out.len() > MAX_SIZE {
                                return Err(EvalError {
                                    at: origin.at(intro.collection_expr.span()),
                                    message: "the template's text is too large to evaluate".to_owned(),
                                });
                            }
                        }
                    }
                },
            }
            if out.len() > MAX_SIZE {
                return Err(EvalError {
                    at: origin.at(None),
                    message: "the template's text is too large to evaluate".to_owned(),
                });
            }
        }
        Ok(known)
    }

    /// Does the expression refer to a value not wholly known? `try` and
    /// `can` answer unknown then, before evaluating, as HCL's do: it looks
    /// at each name's value as far as its attributes go.
    pub(super) fn depends_on_unknowns(
        &self,
        expr: &Expression,
        origin: Origin,
        scope: &Scope<'_>,
        context: Context<'_>,
    ) -> bool {
        let mut names = Names { bound: Vec::new(), found: Vec::new() };
        hcl_edit::visit::Visit::visit_expr(&mut names, expr);
        names.found.iter().any(|(root, attrs)| {
            let at = origin.at(expr.span());
            // `var.x` and `local.x` alone, as the evaluation looks them up.
            let (value, rest) = match (root.as_str(), attrs.split_first(), context) {
                ("var", Some((name, rest)), Context::Root) => (self.variable(name).and_then(Result::ok), rest),
                ("local", Some((name, rest)), Context::Root) => (self.local(name).and_then(Result::ok), rest),
                _ => (self.root(root, at.clone(), scope, context).ok(), attrs.as_slice()),
            };
            let value =
                value.and_then(|value| rest.iter().try_fold(value, |value, name| get_attr(&value, name, &at).ok()));
            value.is_some_and(|value| !value.is_wholly_known())
        })
    }

    /// Records a call to a function the judged release lacks.
    pub(super) fn missing_function(&self, missing: MissingFunction) {
        self.missing.borrow_mut().push(missing);
    }

    pub(super) fn judged(&self) -> Option<Version> {
        self.options.packer_version
    }

    /// Is this call allowed in the context? `env` only in defaults there.
    pub(super) fn function_allowed(&self, name: &str, context: Context<'_>) -> bool {
        match context {
            Context::Default => name == "env",
            Context::VarFile => false,
            Context::TemplateFile(_) => name != "templatefile" && name != "env",
            Context::Root => name != "env",
        }
    }
}

/// The type HCL gives an expression that failed: its operator's or a
/// template's, `any` where it gives none; `None` where it is not known here.
fn failed_type(expr: &Expression) -> Option<CtyType> {
    use BinaryOperator::*;
    match expr {
        Expression::BinaryOp(op) => Some(match op.operator.value() {
            Plus | Minus | Mul | Div | Mod => CtyType::Number,
            _ => CtyType::Bool,
        }),
        Expression::UnaryOp(op) => Some(match op.operator.value() {
            UnaryOperator::Neg => CtyType::Number,
            UnaryOperator::Not => CtyType::Bool,
        }),
        Expression::StringTemplate(_) | Expression::HeredocTemplate(_) => Some(CtyType::String),
        Expression::Parenthesis(inner) => failed_type(inner.inner()),
        Expression::Traversal(_) | Expression::Variable(_) | Expression::ForExpr(_) => Some(CtyType::Dynamic),
        _ => None,
    }
}

/// The names an expression refers to, each with the attributes that
/// follow it, leaving out those its own `for`s bind.
struct Names {
    bound: Vec<String>,
    found: Vec<(String, Vec<String>)>,
}

impl hcl_edit::visit::Visit for Names {
    fn visit_expr(&mut self, expr: &Expression) {
        match expr {
            Expression::Variable(name) if !self.bound.iter().any(|bound| bound == name.as_str()) => {
                self.found.push((name.as_str().to_owned(), Vec::new()));
            }
            Expression::Traversal(traversal) => {
                if let Expression::Variable(root) = &traversal.expr {
                    if !self.bound.iter().any(|bound| bound == root.as_str()) {
                        let attrs = traversal
                            .operators
                            .iter()
                            .map_while(|op| match op.value() {
                                TraversalOperator::GetAttr(name) => Some(name.as_str().to_owned()),
                                _ => None,
                            })
                            .collect();
                        self.found.push((root.as_str().to_owned(), attrs));
                    }
                } else {
                    self.visit_expr(&traversal.expr);
                }
                for op in &traversal.operators {
                    if let TraversalOperator::Index(index) = op.value() {
                        self.visit_expr(index);
                    }
                }
            }
            Expression::ForExpr(for_expr) => {
                self.visit_expr(&for_expr.intro.collection_expr);
                let before = self.bound.len();
                self.bound.push(for_expr.intro.value_var.as_str().to_owned());
                self.bound.extend(for_expr.intro.key_var.as_ref().map(|key| key.as_str().to_owned()));
                if let Some(key) = &for_expr.key_expr {
                    self.visit_expr(key);
                }
                self.visit_expr(&for_expr.value_expr);
                if let Some(cond) = &for_expr.cond {
                    self.visit_expr(&cond.expr);
                }
                self.bound.truncate(before);
            }
            other => hcl_edit::visit::visit_expr(self, other),
        }
    }

    fn visit_for_directive(&mut self, directive: &hcl_edit::template::ForDirective) {
        let intro = &directive.for_expr;
        self.visit_expr(&intro.collection_expr);
        let before = self.bound.len();
        self.bound.push(intro.value_var.as_str().to_owned());
        self.bound.extend(intro.key_var.as_ref().map(|key| key.as_str().to_owned()));
        self.visit_template(&intro.template);
        self.bound.truncate(before);
    }
}

/// Does the element strip the whitespace of the literal after it?
fn strips_after(element: &Element) -> bool {
    match element {
        Element::Interpolation(interpolation) => matches!(interpolation.strip, Strip::End | Strip::Both),
        Element::Directive(directive) => match directive.as_ref() {
            Directive::If(if_directive) => {
                matches!(if_directive.endif_expr.strip, Strip::End | Strip::Both)
            }
            Directive::For(for_directive) => matches!(for_directive.endfor_expr.strip, Strip::End | Strip::Both),
        },
        Element::Literal(_) => false,
    }
}

/// Does the element strip the whitespace of the literal before it?
fn strips_before(element: &Element) -> bool {
    match element {
        Element::Interpolation(interpolation) => matches!(interpolation.strip, Strip::Start | Strip::Both),
        Element::Directive(directive) => match directive.as_ref() {
            Directive::If(if_directive) => matches!(if_directive.if_expr.strip, Strip::Start | Strip::Both),
            Directive::For(for_directive) => matches!(for_directive.for_expr.strip, Strip::Start | Strip::Both),
        },
        Element::Literal(_) => false,
    }
}

/// A directive's body with the strips its own markers ask for: `%{ if x
/// ~}` strips the start of the body, `%{~ endfor }` its end.
fn strip_directive_body(text: &str, open: Strip, close: Strip) -> String {
    let mut text = text;
    if matches!(open, Strip::End | Strip::Both) {
        text = text.trim_start();
    }
    if matches!(close, Strip::Start | Strip::Both) {
        text = text.trim_end();
    }
    text.to_owned()
}

/// An interpolated value as text: `None` when unknown.
fn interpolated_text(value: &CtyValue, at: &At) -> Result<Option<String>, EvalError> {
    if value.is_null() {
        return Err(EvalError { at: at.clone(), message: "the interpolated value is null".to_owned() });
    }
    let text = convert(value, &CtyType::String).map_err(|_| EvalError {
        at: at.clone(),
        message: format!("cannot include {} in a string template: a string is required", value.ty().friendly()),
    })?;
    Ok(text.as_str().map(str::to_owned))
}

/// The key and value of each element a `for` iterates: indexes for
/// sequences, keys for maps and objects. `None` when unknown.
fn iteration_pairs(collection: &CtyValue, at: &At) -> Result<Option<Vec<(CtyValue, CtyValue)>>, EvalError> {
    let marks = collection.marks;
    Ok(Some(match &collection.kind {
        Kind::Unknown(_) => return Ok(None),
        Kind::Null(_) => {
            return Err(EvalError { at: at.clone(), message: "a for expression cannot iterate over null".to_owned() });
        }
        Kind::List(_, elements) | Kind::Tuple(elements) => elements
            .iter()
            .enumerate()
            .map(|(index, value)| (CtyValue::int(index as i64), value.clone().marked(marks)))
            .collect(),
        // A set's element is its own key.
        Kind::Set(_, elements) => {
            elements.iter().map(|value| (value.clone().marked(marks), value.clone().marked(marks))).collect()
        }
        Kind::Map(_, attrs) | Kind::Object(attrs) => {
            attrs.iter().map(|(key, value)| (CtyValue::string(key.clone()), value.clone().marked(marks))).collect()
        }
        _ => {
            return Err(EvalError {
                at: at.clone(),
                message: format!("a for expression cannot iterate over {}", collection.ty().friendly()),
            });
        }
    }))
}

/// An object key as text: `None` when unknown.
fn key_string(key: &CtyValue, at: &At) -> Result<Option<String>, EvalError> {
    if key.is_null() {
        return Err(EvalError { at: at.clone(), message: "an object key cannot be null".to_owned() });
    }
    let text = convert(key, &CtyType::String)
        .map_err(|_| EvalError { at: at.clone(), message: "an object key must be a string".to_owned() })?;
    Ok(text.as_str().map(str::to_owned))
}

/// `value.name`.
pub(super) fn get_attr(value: &CtyValue, name: &str, at: &At) -> Evaluated {
    let marks = value.marks;
    let found = match &value.kind {
        Kind::Unknown(CtyType::Object(types)) => match types.get(name) {
            Some(ty) => CtyValue::unknown(ty.clone()),
            None => {
                return Err(EvalError { at: at.clone(), message: format!("this object has no attribute \"{name}\"") });
            }
        },
        Kind::Unknown(CtyType::Map(element)) => CtyValue::unknown((**element).clone()),
        Kind::Unknown(_) => CtyValue::unknown(CtyType::Dynamic),
        Kind::Null(_) => {
            return Err(EvalError { at: at.clone(), message: format!("cannot read \"{name}\" of a null value") });
        }
        Kind::Object(attrs) => match attrs.get(name) {
            Some(found) => found.clone(),
            None => {
                return Err(EvalError { at: at.clone(), message: format!("this object has no attribute \"{name}\"") });
            }
        },
        Kind::Map(_, attrs) => match attrs.get(name) {
            Some(found) => found.clone(),
            None => return Err(EvalError { at: at.clone(), message: format!("the map has no element \"{name}\"") }),
        },
        _ => {
            return Err(EvalError {
                at: at.clone(),
                message: format!("{} has no attributes (reading \"{name}\")", value.ty().friendly()),
            });
        }
    };
    Ok(found.marked(marks))
}

/// `value[key]`.
pub(super) fn index_value(value: &CtyValue, key: &CtyValue, at: &At) -> Evaluated {
    let marks = value.marks | key.marks;
    let error = |message: String| Err(EvalError { at: at.clone(), message });
    if key.is_null() {
        return error("an index cannot be null".to_owned());
    }
    if value.is_null() {
        return error("cannot index a null value".to_owned());
    }
    // A key or collection of a type not known yet: HCL does not look further.
    if (key.is_unknown() && key.ty() == CtyType::Dynamic) || value.ty() == CtyType::Dynamic {
        return Ok(CtyValue::unknown(CtyType::Dynamic).marked(marks));
    }
    let found = match &value.kind {
        Kind::Null(_) => return error("cannot index a null value".to_owned()),
        Kind::Unknown(_) => CtyValue::unknown(CtyType::Dynamic),
        Kind::List(_, elements) | Kind::Tuple(elements) => {
            let Ok(number) = convert(key, &CtyType::Number) else {
                return error("a number is required to index a list or tuple".to_owned());
            };
            match &number.kind {
                Kind::Number(number) => match number.as_i64() {
                    Some(index) if index >= 0 && (index as usize) < elements.len() => elements[index as usize].clone(),
                    Some(_) => {
                        return error(format!(
                            "index {} is out of range for {} elements",
                            number_text(number),
                            elements.len()
                        ));
                    }
                    None => return error("an index must be a whole number".to_owned()),
                },
                _ => match &value.kind {
                    Kind::List(element, _) => CtyValue::unknown(element.clone()),
                    _ => CtyValue::unknown(CtyType::Dynamic),
                },
            }
        }
        Kind::Map(_, attrs) | Kind::Object(attrs) => {
            let Ok(text) = convert(key, &CtyType::String) else {
                return error("a string is required to index a map or object".to_owned());
            };
            match text.as_str() {
                Some(name) => match attrs.get(name) {
                    Some(found) => found.clone(),
                    None => return error(format!("there is no element \"{name}\"")),
                },
                None => CtyValue::unknown(CtyType::Dynamic),
            }
        }
        Kind::Set(..) => return error("a set cannot be indexed: convert it to a list first".to_owned()),
        _ => return error(format!("{} cannot be indexed", value.ty().friendly())),
    };
    Ok(found.marked(marks))
}

fn number_text(number: &Number) -> String {
    number.text().unwrap_or_else(|| number.as_f64().to_string())
}

/// An operand converted to the type an operator needs, or the error
/// HCL gives.
fn operand_as(value: &CtyValue, ty: &CtyType, at: &At, which: &str) -> Evaluated {
    if value.is_null() {
        return Err(EvalError {
            at: at.clone(),
            message: format!("the {which} is null: {} is required", ty.friendly()),
        });
    }
    convert(value, ty).map_err(|error| EvalError { at: at.clone(), message: format!("unsuitable {which}: {error}") })
}

/// `f(value)` when the value is known, else an unknown of `ty`; marks kept.
fn map_known(value: &CtyValue, ty: CtyType, f: impl FnOnce(&CtyValue) -> CtyValue) -> CtyValue {
    let marks = value.all_marks();
    if value.is_unknown() { CtyValue::unknown(ty) } else { f(value) }.marked(marks)
}

fn binary(operator: BinaryOperator, lhs: CtyValue, rhs: CtyValue, sides: &(At, At), at: At) -> Evaluated {
    use BinaryOperator::*;
    let marks = lhs.all_marks() | rhs.all_marks();
    let value = match operator {
        Eq | NotEq => match lhs.equals(&rhs) {
            Some(equal) => CtyValue::bool(equal == (operator == Eq)),
            None => CtyValue::unknown(CtyType::Bool),
        },
        And | Or => {
            let a = operand_as(&lhs, &CtyType::Bool, &sides.0, "left operand")?;
            let b = operand_as(&rhs, &CtyType::Bool, &sides.1, "right operand")?;
            match (&a.kind, &b.kind) {
                (Kind::Bool(a), Kind::Bool(b)) => CtyValue::bool(if operator == And { *a && *b } else { *a || *b }),
                _ => CtyValue::unknown(CtyType::Bool),
            }
        }
        _ => {
            let a = operand_as(&lhs, &CtyType::Number, &sides.0, "left operand")?;
            let b = operand_as(&rhs, &CtyType::Number, &sides.1, "right operand")?;
            let (Kind::Number(a), Kind::Number(b)) = (&a.kind, &b.kind) else {
                let ty = if matches!(operator, Less | Greater | LessEq | GreaterEq) {
                    CtyType::Bool
                } else {
                    CtyType::Number
                };
                return Ok(CtyValue::unknown(ty).marked(marks));
            };
            let ordering = a.compare(b);
            let compared = |test: fn(std::cmp::Ordering) -> bool| {
                ordering.map_or_else(|| CtyValue::unknown(CtyType::Bool), |ordering| CtyValue::bool(test(ordering)))
            };
            match operator {
                Less => compared(std::cmp::Ordering::is_lt),
                Greater => compared(std::cmp::Ordering::is_gt),
                LessEq => compared(std::cmp::Ordering::is_le),
                GreaterEq => compared(std::cmp::Ordering::is_ge),
                Plus => CtyValue::number(a.plus(*b)),
                Minus => CtyValue::number(a.minus(*b)),
                Mul => CtyValue::number(a.times(*b)),
                Div => match a.divided_by(*b) {
                    Some(quotient) => CtyValue::number(quotient),
                    None => {
                        return Err(EvalError {
                            at,
                            message: "cannot divide zero by zero or infinity by infinity".to_owned(),
                        });
                    }
                },
                // Truncating a rounded quotient could go either way.
                Mod if !(a.is_dyadic() && b.is_dyadic()) => CtyValue::unknown(CtyType::Number),
                Mod => match a.modulo(*b) {
                    Some(rest) => CtyValue::number(rest),
                    None => {
                        return Err(EvalError { at, message: "cannot use modulo with zero and infinity".to_owned() });
                    }
                },
                Eq | NotEq | And | Or => unreachable!("handled above"),
            }
        }
    };
    Ok(value.marked(marks))
}

/// A value converted to `variable`'s type `ty`, or the error Packer gives,
/// saying where the value comes `from`.
fn converted_to(
    value: CtyValue,
    ty: Option<&CtyType>,
    variable: &super::Variable<'_>,
    from: &str,
    at: &At,
) -> Evaluated {
    match ty {
        None => Ok(value),
        Some(ty) => convert(&value, ty).map_err(|error| {
            let whose = if variable.type_expr().is_some() { "" } else { ", its default's" };
            EvalError {
                at: at.clone(),
                message: format!("{from} for var.{} is not of its type ({ty}{whose}): {error}", variable.name),
            }
        }),
    }
}

/// A variable's `type = …` as a type.
fn type_of_attr(attr: &super::Attr) -> Result<CtyType, EvalError> {
    let text = match &attr.value {
        Value::Expr(text) => text.clone(),
        other => super::expression_text(other),
    };
    CtyType::parse(&text)
        .ok_or_else(|| EvalError { at: attr.at.clone(), message: format!("`{text}` is not a type constraint") })
}

/// Does a type hold `any` (cty's dynamic pseudo-type) anywhere?
fn mentions_any(ty: &CtyType) -> bool {
    match ty {
        CtyType::Dynamic => true,
        CtyType::String | CtyType::Number | CtyType::Bool => false,
        CtyType::List(element) | CtyType::Set(element) | CtyType::Map(element) => mentions_any(element),
        CtyType::Tuple(elements) => elements.iter().any(mentions_any),
        CtyType::Object(attrs) => attrs.values().any(mentions_any),
    }
}

/// A `local "name" { sensitive = true }` block marks its value.
fn local_is_sensitive(template: &Hcl2Template, name: &str) -> bool {
    template.blocks().any(|block| {
        block.ident == "local"
            && block.label(0) == Some(name)
            && matches!(block.body.attr("sensitive").map(|attr| &attr.value), Some(Value::Bool(true)))
    })
}

/// Is a value past the size an evaluation builds?
fn too_large(value: &CtyValue) -> bool {
    match &value.kind {
        Kind::String(text) => text.len() > MAX_SIZE,
        Kind::List(_, elements) | Kind::Set(_, elements) | Kind::Tuple(elements) => elements.len() > MAX_SIZE,
        Kind::Map(_, attrs) | Kind::Object(attrs) => attrs.len() > MAX_SIZE,
        _ => false,
    }
}

fn expr_text(call: &hcl_edit::expr::FuncCall) -> String {
    let mut parts: Vec<&str> = call.name.namespace.iter().map(|part| part.as_str()).collect();
    parts.push(call.name.name.as_str());
    parts.join("::")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hcl2::tests::template as folder;

    fn shown(template: &Hcl2Template, options: Options, text: &str) -> String {
        let evaluator = Evaluator::new(template, options);
        match evaluator.text(&At { file: 0, bytes: 0..0 }, text) {
            Ok(value) => value.show(),
            Err(error) => format!("error: {}", error.message),
        }
    }

    fn eval(text: &str) -> String {
        shown(&Hcl2Template::default(), Options::default(), text)
    }

    #[test]
    fn literals_operators_and_conversions() {
        for (text, expected) in [
            ("1 + 2 * 3", "7"),
            ("{a = 1, \"a\" = 2}", "{\"a\" = 2}"),
            ("\"1\" + 1", "2"),
            ("0.5 + 0.25", "0.75"),
            ("0.1 + 0.2 == 0.3", "(unknown bool)"),
            ("7 % 3 == 1", "true"),
            ("1 == \"1\"", "false"),
            ("!true || false", "false"),
            ("-(2 - 5)", "3"),
            ("5 / 0", "+Inf"),
            ("\"a\" + 1", "error: unsuitable left operand: a number is required"),
            ("0 / 0", "error: cannot divide zero by zero or infinity by infinity"),
            ("[1, \"a\"][1]", "\"a\""),
            ("[1, 2][2]", "error: index 2 is out of range for 2 elements"),
            ("{a = 1}.b", "error: this object has no attribute \"b\""),
            ("{a = {b = [10, 20]}}.a.b[1]", "20"),
            ("null", "null"),
            ("true ? 1 : \"x\"", "\"1\""),
            (
                "true ? 1 : false",
                "error: inconsistent conditional result types: the true result is a number and the false one a bool",
            ),
            ("false ? [1][5] : 2", "2"),
        ] {
            assert_eq!(eval(text), expected, "{text}");
        }
    }

    #[test]
    fn templates_directives_and_strip_markers() {
        for (text, expected) in [
            ("\"a-${1 + 1}-b\"", "\"a-2-b\""),
            ("\"$${x} %%{y}\"", "\"${x} %{y}\""),
            ("\"a ${~ \"b\" ~} c\"", "\"abc\""),
            ("\"%{ if true }yes%{ else }no%{ endif }\"", "\"yes\""),
            ("\"%{ for x in [1, 2] }<${x}>%{ endfor }\"", "\"<1><2>\""),
            ("\"%{ for k, v in {a = 1} ~} ${k}=${v} %{~ endfor }\"", "\"a=1\""),
            ("\"${null}\"", "error: the interpolated value is null"),
            ("\"${[1]}\"", "error: cannot include a tuple in a string template: a string is required"),
            ("\"${1 / 3}\"", "(unknown string)"),
        ] {
            assert_eq!(eval(text), expected, "{text}");
        }
    }

    #[test]
    fn for_expressions_and_splats() {
        for (text, expected) in [
            ("[for x in [1, 2, 3] : x * 2 if x != 2]", "[2, 6]"),
            ("{for k, v in {a = 1, b = 2} : v => k}", "{\"1\" = \"a\", \"2\" = \"b\"}"),
            ("{for x in [\"a\", \"a\"] : x => 1...}", "{\"a\" = [1, 1]}"),
            (
                "{for x in [\"a\", \"a\"] : x => 1}",
                "error: duplicate object key \"a\": add `...` after the value to group the values of equal keys",
            ),
            ("[{a = 1}, {a = 2}][*].a", "[1, 2]"),
            ("[{a = [1]}, {a = [2]}].*.a[0]", "[1]"),
            ("[{a = [1]}, {a = [2]}][*].a[0]", "[1, 2]"),
            ("null[*]", "[]"),
            ("\"x\"[*]", "[\"x\"]"),
            ("[for x in null : x]", "error: a for expression cannot iterate over null"),
        ] {
            assert_eq!(eval(text), expected, "{text}");
        }
    }

    #[test]
    fn functions_check_their_arguments_and_unknowns_propagate() {
        for (text, expected) in [
            ("upper(\"ab\")", "\"AB\""),
            ("upper(1)", "\"1\""),
            ("upper([])", "error: invalid value for the \"str\" argument of upper(): a string required"),
            ("upper()", "error: upper() needs 1 arguments at least: \"str\" is missing"),
            ("join(\"-\", [\"a\", \"b\"], [\"c\"])", "\"a-b-c\""),
            ("max([3, 7, 1]...)", "7"),
            ("format(\"%s-%d\", \"a\", 7)", "\"a-7\""),
            ("timestamp()", "(unknown string)"),
            ("upper(timestamp())", "(unknown string)"),
            ("can(timestamp())", "(unknown bool)"),
            ("can([][0])", "false"),
            ("try([][0], \"fallback\")", "\"fallback\""),
            ("convert([\"a\"], set(string))", "[\"a\"]"),
            ("tostring(1)", "error: there is no function named \"tostring\""),
            ("env(\"HOME\")", "error: env() may only be called in a variable's default"),
            ("regex(\"a\", \"b\")", "(unknown any)"),
            ("cidrsubnet(\"10.0.0.0/16\", 8, 2)", "\"10.0.2.0/24\""),
            ("cidrhost(\"10.0.0.0/24\", -1)", "\"10.0.0.255\""),
            ("cidrsubnets(\"10.0.0.0/16\", 4, 8, 4)", "[\"10.0.0.0/20\", \"10.0.16.0/24\", \"10.0.32.0/20\"]"),
            ("formatdate(\"YYYY-MM-DD hh:mm EEE\", \"2024-02-29T10:20:30Z\")", "\"2024-02-29 10:20 Thu\""),
            ("jsonencode({a = [1, \"x\", null, true]})", "\"{\\\"a\\\":[1,\\\"x\\\",null,true]}\""),
            ("jsondecode(\"[1, {\\\"a\\\": 2}]\")", "[1, {\"a\" = 2}]"),
            ("base64decode(base64encode(\"é\"))", "\"é\""),
            ("length(\"héllo\")", "5"),
            ("lookup(convert({a = 1}, map(number)), \"b\", 0)", "0"),
            ("lookup({a = 1}, \"a\", 0)", "1"),
            ("merge({a = 1}, {b = 2})", "{\"a\" = 1, \"b\" = 2}"),
            ("element([\"a\", \"b\"], 3)", "\"b\""),
        ] {
            assert_eq!(eval(text), expected, "{text}");
        }
    }

    #[test]
    fn a_given_clock_makes_timestamp_known() {
        let template = Hcl2Template::default();
        let at = |clock: &str| Options { clock: Some(clock.to_owned()), ..Options::default() };
        let yearly = "formatdate(\"YYYY\", timestamp())";
        assert_eq!(shown(&template, at("2026-01-02T03:04:05Z"), yearly), "\"2026\"");
        assert_eq!(shown(&template, at("2026-01-02T03:04:05Z"), "timestamp()"), "\"2026-01-02T03:04:05Z\"");
        assert_eq!(shown(&template, Options::default(), yearly), "(unknown string)");
    }

    #[test]
    fn a_judged_release_lacks_later_functions() {
        let template = Hcl2Template::default();
        let options = Options { packer_version: Some(Version(1, 6, 6)), ..Options::default() };
        let evaluator = Evaluator::new(&template, options);
        let error = evaluator.text(&At { file: 0, bytes: 0..0 }, "strcontains(\"ab\", \"a\")").unwrap_err();
        assert_eq!(error.message, "strcontains() came with Packer 1.12.0; Packer 1.6.6 does not have it");
        let missing = evaluator.missing_functions();
        assert_eq!((missing[0].name.as_str(), missing[0].since), ("strcontains", Some(Version(1, 12, 0))));
        assert_eq!(
            shown(
                &template,
                Options { packer_version: Some(Version(1, 9, 0)), ..Options::default() },
                "packer.version"
            ),
            "\"1.9.0\""
        );
    }

    #[test]
    fn variables_follow_packers_precedence_and_types() {
        let template = folder(&[
            (
                "a.pkr.hcl",
                "variable \"region\" {\n  type = string\n  default = \"eu-west-1\"\n}\n\
                 variable \"count\" {\n  type = number\n  default = \"3\"\n}\n\
                 variable \"zones\" {\n  default = []\n}\n\
                 variable \"pair\" {\n  default = [\"a\"]\n}\n\
                 variable \"secret\" {\n  sensitive = true\n  default = \"hunter2\"\n}\n\
                 variable \"home\" {\n  default = env(\"HOME\")\n}\n\
                 variable \"unset\" {\n  type = list(string)\n}\n\
                 locals {\n  name = \"${var.region}-${local.suffix}\"\n  suffix = upper(\"x\")\n  loop_a = local.loop_b\n  loop_b = local.loop_a\n  \
                 hidden = \"pre-${var.secret}\"\n}\n",
            ),
            ("b.auto.pkrvars.hcl", "region = \"us-east-1\"\n"),
            ("c.pkrvars.hcl", "region = \"ap-south-1\"\nzones = [\"b\", \"c\"]\npair = [\"b\", \"c\"]\n"),
        ]);
        let options = Options::default();
        assert_eq!(shown(&template, options.clone(), "var.region"), "\"us-east-1\"");
        assert_eq!(shown(&template, options.clone(), "var.count + 1"), "4");
        assert_eq!(shown(&template, options.clone(), "local.name"), "\"us-east-1-X\"");
        assert_eq!(shown(&template, options.clone(), "var.home"), "(unknown string)");
        assert_eq!(shown(&template, options.clone(), "var.unset"), "(unknown list(string))");
        assert!(shown(&template, options.clone(), "local.loop_a").contains("refers to itself"));
        let with_file = Options { var_files: vec![2], ..Options::default() };
        assert_eq!(shown(&template, with_file.clone(), "var.zones"), "[\"b\", \"c\"]");
        assert_eq!(shown(&template, with_file.clone(), "var.region"), "\"ap-south-1\"");
        // Untyped, the default's type is the variable's: one element.
        assert!(shown(&template, with_file, "var.pair").contains("tuple required with 1 elements"));
        let arg = |text: &str| Given::Arg(text.to_owned());
        let mut vars = BTreeMap::new();
        vars.insert("region".to_owned(), arg("cli-1"));
        vars.insert("zones".to_owned(), arg("[\"z\"]"));
        vars.insert("pair".to_owned(), arg("[\"z\"]"));
        let mut env_vars = BTreeMap::new();
        env_vars.insert("region".to_owned(), "env-1".to_owned());
        let environment = Some(BTreeMap::from([("HOME".to_owned(), "/home/u".to_owned())]));
        let all = Options { vars, env_vars: env_vars.clone(), environment, ..Options::default() };
        // `-var` text is an expression for a typed variable, else a string.
        let expected = "[\"cli-1\", [\"z\"], \"[\\\"z\\\"]\", \"/home/u\"]";
        assert_eq!(shown(&template, all.clone(), "[var.region, var.pair, var.zones, var.home]"), expected);
        // PKR_VAR_ comes before the var files.
        let env_only = Options { env_vars, ..Options::default() };
        assert_eq!(shown(&template, env_only, "var.region"), "\"us-east-1\"");
        let evaluator = Evaluator::new(&template, Options::default());
        let hidden = evaluator.local("hidden").unwrap().unwrap();
        assert!(hidden.is_sensitive() && hidden.as_str() == Some("pre-hunter2"));
    }

    #[test]
    fn template_keys_of_a_local_are_computed() {
        let template = folder(&[(
            "a.pkr.hcl",
            "variable \"role\" {\n  default = \"Role\"\n}\n\
             locals {\n  filters = {\n    \"tag:${var.role}\" = 1\n    \"\\\"quoted\\\"\" = 2\n    (var.role) = 3\n  }\n}\n",
        )]);
        assert_eq!(
            shown(&template, Options::default(), "local.filters"),
            "{\"\\\"quoted\\\"\" = 2, \"Role\" = 3, \"tag:Role\" = 1}"
        );
    }

    #[test]
    fn values_of_the_run_are_marked_and_text_is_read_by_release() {
        let template = folder(&[
            (
                "a.pkr.hcl",
                "variable \"nothing\" {\n  default = null\n}\nvariable \"anything\" {\n  type = any\n}\n\
                 variable \"home\" {\n  default = env(\"HOME\")\n}\nvariable \"copies\" {\n  type = list(string)\n}\n\
                 variable \"region\" {\n  default = \"eu-west-1\"\n}\n\
                 locals {\n  where = \"${var.region}-${length(var.copies)}\"\n}\n",
            ),
            ("b.auto.pkrvars.hcl", "region = \"us-east-1\"\n"),
        ]);
        let copies = Value::List(vec![super::super::Item {
            at: At { file: 0, bytes: 0..0 },
            value: Value::String("eu-north-1".to_owned()),
        }]);
        let vars = BTreeMap::from([
            ("nothing".to_owned(), Given::Arg("[1]".to_owned())),
            ("copies".to_owned(), Given::File { value: copies, text: String::new() }),
        ]);
        let environment = Some(BTreeMap::from([("HOME".to_owned(), "/home/u".to_owned())]));
        let options = Options { vars, environment, ..Options::default() };
        let evaluator = Evaluator::new(&template, options.clone());
        let value = |text: &str| evaluator.text(&At { file: 0, bytes: 0..0 }, text).unwrap();
        // The auto var file is the folder's own; a value given, a var
        // file's and `env()` are the run's, and so is what they make.
        assert!(!value("var.region").all_marks().from_run);
        for text in ["var.copies", "var.home", "local.where", "[var.region, var.nothing]"] {
            assert!(value(text).all_marks().from_run, "{text}");
        }
        assert_eq!(value("local.where").as_str(), Some("us-east-1-1"));
        // `PKR_VAR_` text for an untyped null default (or `any`): a string
        // since Packer 1.8, an expression before (checked with 1.6.6);
        // xtask's `--var` is read as 1.8 reads it whatever the release.
        let judged = |version| Options { packer_version: Some(version), ..options.clone() };
        assert_eq!(shown(&template, options.clone(), "var.nothing"), "\"[1]\"");
        assert_eq!(shown(&template, judged(Version(1, 6, 6)), "var.nothing"), "\"[1]\"");
        let from_env = |version| Options {
            packer_version: version,
            env_vars: BTreeMap::from([("nothing".to_owned(), "[1]".to_owned())]),
            ..Options::default()
        };
        assert_eq!(shown(&template, from_env(None), "var.nothing"), "\"[1]\"");
        assert_eq!(shown(&template, from_env(Some(Version(1, 6, 6))), "var.nothing"), "[1]");
        assert_eq!(evaluator.value_of_text("anything", "[1]").unwrap().unwrap().as_str(), Some("[1]"));
        // `any` in a type is refused before Packer 1.16 (checked with 1.6.6).
        assert!(shown(&template, judged(Version(1, 15, 0)), "var.anything").contains("needs Packer 1.16"));
        assert_eq!(shown(&template, judged(Version(1, 16, 0)), "var.anything"), "(unknown any)");
    }

    #[test]
    fn files_are_read_relative_to_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "hello").unwrap();
        std::fs::write(dir.path().join("t.tpl"), "%{ for n in names }${n};%{ endfor }").unwrap();
        let template = Hcl2Template::default();
        let options = Options { folder: Some(dir.path().to_owned()), ..Options::default() };
        assert_eq!(shown(&template, options.clone(), "file(\"a.txt\")"), "\"hello\"");
        assert_eq!(shown(&template, options.clone(), "fileexists(\"b.txt\")"), "false");
        assert_eq!(shown(&template, options.clone(), "templatefile(\"t.tpl\", {names = [\"a\", \"b\"]})"), "\"a;b;\"");
        assert_eq!(shown(&template, options.clone(), "file(\"/etc/passwd\")"), "(unknown string)");
        assert_eq!(
            shown(&template, options.clone(), "file(\"missing\")"),
            "error: file(): no file exists at \"missing\""
        );
        assert_eq!(shown(&template, Options::default(), "file(\"a.txt\")"), "(unknown string)");
    }
}

#[cfg(test)]
mod hostile {
    use super::*;
    use crate::hcl2::parse_file;

    fn answer(evaluator: &Evaluator<'_>, text: &str) -> String {
        match evaluator.text(&At { file: 0, bytes: 0..0 }, text) {
            Ok(value) => value.show(),
            Err(error) => format!("error: {}", error.message),
        }
    }

    /// A chain of a thousand locals, in a thread with a test's 2 MiB of
    /// stack: an error, not an overflow; the cycles are named.
    #[test]
    fn deep_and_cyclic_locals_are_errors() {
        let mut text = String::from("locals {\n  l0 = \"x\"\n");
        for i in 1..1000 {
            text.push_str(&format!("  l{i} = \"${{local.l{}}}y\"\n", i - 1));
        }
        text.push_str("  a = local.b\n  b = [for x in [local.c] : x]\n  c = { k = local.a }\n}\n");
        let template = Hcl2Template { files: vec![parse_file(0, "a.pkr.hcl", text).unwrap()], ..Default::default() };
        let evaluator = Evaluator::new(&template, Options::default());
        assert_eq!(answer(&evaluator, "local.l999"), "error: the expression nests too deeply to evaluate");
        assert_eq!(answer(&evaluator, "local.l3"), "\"xyyy\"");
        assert_eq!(answer(&evaluator, "local.a"), "error: local.a refers to itself, through the locals it uses");
    }

    #[test]
    fn large_work_and_odd_text_are_bounded_or_unknown() {
        let template = Hcl2Template::default();
        let evaluator = Evaluator::new(&template, Options::default());
        for (text, expected) in [
            (
                "[for i in range(1000) : [for j in range(1000) : j]]",
                "error: the folder's expressions take too long to evaluate",
            ),
            ("setproduct(range(1000), range(1000), range(1000))", "error: setproduct(): the product is too large"),
            ("format(\"%999999999d\", 1)", "(unknown string)"),
            ("format(\"%.999999999f\", 1)", "(unknown string)"),
            ("indent(1e15, \"a\\nb\")", "error: the value is too large to evaluate"),
            ("upper(\"ß\")", "(unknown string)"),
            ("length(\"👨‍👩‍👧\")", "(unknown any)"),
            ("strrev(\"e\u{301}\")", "(unknown string)"),
            ("length(\"a\\r\\nb\")", "3"),
            ("substr(\"héllo\", 1, 2)", "\"él\""),
            ("pow(2, 1023) * 2", "(unknown number)"),
            ("[1, 2][1e300]", "error: an index must be a whole number"),
        ] {
            assert_eq!(answer(&evaluator, text), expected, "{text}");
        }
        // The budget is each evaluation's own.
        assert_eq!(answer(&evaluator, "1 + 1"), "2");
    }

    #[test]
    fn files_outside_the_read_root_are_unknown() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s3cret").unwrap();
        let root = tempfile::tempdir().unwrap();
        let folder = root.path().join("packer/x");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(root.path().join("packer/common.sh"), "shared").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), folder.join("link")).unwrap();
        let template = Hcl2Template::default();
        let folder_only = Options { folder: Some(folder.clone()), ..Options::default() };
        let evaluator = Evaluator::new(&template, folder_only);
        assert_eq!(answer(&evaluator, "file(\"../common.sh\")"), "(unknown string)");
        assert_eq!(answer(&evaluator, "file(\"link\")"), "(unknown string)");
        let escape = format!(
            "file(\"{}\")",
            "../".repeat(12) + outside.path().join("secret").to_str().unwrap().trim_start_matches('/')
        );
        assert_eq!(answer(&evaluator, &escape), "(unknown string)");
        assert_eq!(answer(&evaluator, "file(\"/etc/hostname\")"), "(unknown string)");
        let repository =
            Options { folder: Some(folder), read_root: Some(root.path().to_owned()), ..Options::default() };
        let evaluator = Evaluator::new(&template, repository);
        assert_eq!(answer(&evaluator, "file(\"../common.sh\")"), "\"shared\"");
        assert_eq!(answer(&evaluator, "file(\"link\")"), "(unknown string)");
    }
}
