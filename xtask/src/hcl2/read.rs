//! From `hcl-edit`'s syntax tree to the model: spans become [`At`]s,
//! literals [`Value`]s, and every reference and function call is listed.

use hcl_edit::Span;
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::structure::{self, BlockLabel};
use hcl_edit::template::ForDirective;
use hcl_edit::visit::{self, Visit};

use super::{At, Attr, Block, Body, Call, DynamicHeader, File, FileKind, Item, Reference, Value};

/// Why a file is not HCL: the parser's message and the byte where it stopped.
#[derive(Debug)]
pub struct ReadError {
    pub offset: usize,
    pub message: String,
}

/// Parses one file of a folder; `index` is its place in the folder's list.
pub fn parse_file(index: usize, name: &str, text: String) -> Result<File, ReadError> {
    let kind = FileKind::of(name).unwrap_or(FileKind::Template);
    // Packer reads a file that starts with a byte order mark; the parser
    // does not. Three spaces in its place keep every offset and line.
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => format!("   {rest}"),
        None => text,
    };
    let parsed = hcl_edit::parser::parse_body(&text)
        .map_err(|error| ReadError { offset: error.location().offset(), message: error.message().to_owned() })?;
    let reader = Reader { file: index, text: &text };
    let body = reader.body(&parsed);
    let mut collector =
        Collector { reader: &reader, scope: Vec::new(), blocks: Vec::new(), references: Vec::new(), calls: Vec::new() };
    if kind == FileKind::Template {
        collector.body(&parsed);
    }
    let (references, calls) = (collector.references, collector.calls);
    Ok(File { name: name.to_owned(), kind, text, body, references, calls })
}

struct Reader<'a> {
    file: usize,
    text: &'a str,
}

impl Reader<'_> {
    fn at(&self, span: Option<std::ops::Range<usize>>) -> At {
        At { file: self.file, bytes: span.unwrap_or(0..0) }
    }

    fn source(&self, span: Option<std::ops::Range<usize>>) -> String {
        span.and_then(|span| self.text.get(span)).unwrap_or_default().to_owned()
    }

    fn body(&self, body: &structure::Body) -> Body {
        let mut out = Body::default();
        for structure in body.iter() {
            match structure {
                structure::Structure::Attribute(attr) => out.attrs.push(self.attr(attr)),
                structure::Structure::Block(block) => out.blocks.push(self.block(block)),
            }
        }
        out
    }

    fn attr(&self, attr: &structure::Attribute) -> Attr {
        Attr {
            key: attr.key.as_str().to_owned(),
            key_at: self.at(attr.key.span()),
            at: self.at(attr.value.span()),
            value: self.value(&attr.value),
        }
    }

    fn block(&self, block: &structure::Block) -> Block {
        let labels: Vec<(String, At)> = block
            .labels
            .iter()
            .map(|label| {
                let span = match label {
                    BlockLabel::Ident(ident) => ident.span(),
                    BlockLabel::String(string) => string.span(),
                };
                (label.as_str().to_owned(), self.at(span))
            })
            .collect();
        let ident = block.ident.as_str();
        // `dynamic "x" { for_each = …, content { … } }` makes `x` blocks.
        if ident == "dynamic"
            && let Some((name, at)) = labels.first()
        {
            let content = block.body.get_blocks("content").next();
            let mut header = self.body(&block.body);
            header.blocks.retain(|nested| nested.ident != "content");
            return Block {
                ident: name.clone(),
                ident_at: at.clone(),
                labels: Vec::new(),
                body: content.map(|content| self.body(&content.body)).unwrap_or_default(),
                dynamic: true,
                dynamic_header: Some(Box::new(DynamicHeader {
                    keyword_at: self.at(block.ident.span()),
                    body: header,
                    contents: block.body.get_blocks("content").count(),
                })),
            };
        }
        Block {
            ident: ident.to_owned(),
            ident_at: self.at(block.ident.span()),
            labels,
            body: self.body(&block.body),
            dynamic: false,
            dynamic_header: None,
        }
    }

    fn value(&self, expr: &Expression) -> Value {
        match expr {
            Expression::Null(_) => Value::Null,
            Expression::Bool(value) => Value::Bool(*value.value()),
            Expression::Number(number) => Value::Number(number.to_string()),
            Expression::String(text) => Value::String(text.value().clone()),
            Expression::Array(items) => Value::List(
                items.iter().map(|item| Item { at: self.at(item.span()), value: self.value(item) }).collect(),
            ),
            Expression::Object(object) => Value::Object(
                object
                    .iter()
                    .map(|(key, value)| {
                        let (name, key_span) = match key {
                            ObjectKey::Ident(ident) => (ident.as_str().to_owned(), ident.span()),
                            ObjectKey::Expression(Expression::String(text)) => (text.value().clone(), text.span()),
                            ObjectKey::Expression(other) => (self.source(other.span()), other.span()),
                        };
                        Attr {
                            key: name,
                            key_at: self.at(key_span),
                            at: self.at(value.expr().span()),
                            value: self.value(value.expr()),
                        }
                    })
                    .collect(),
            ),
            Expression::Parenthesis(inner) => match self.value(inner.inner()) {
                literal @ (Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_)) => literal,
                _ => Value::Expr(self.source(expr.span())),
            },
            // A heredoc without interpolations is a string like any other.
            Expression::HeredocTemplate(heredoc) => {
                let mut text = String::new();
                for element in heredoc.template.iter() {
                    match element {
                        hcl_edit::template::Element::Literal(literal) => text.push_str(literal.value()),
                        _ => return Value::Expr(self.source(expr.span())),
                    }
                }
                Value::String(text)
            }
            other => Value::Expr(self.source(other.span())),
        }
    }
}

/// Lists the references and calls of a file, keeping the names that `for`
/// expressions, `for` directives and `dynamic` blocks bind in scope.
struct Collector<'a> {
    reader: &'a Reader<'a>,
    /// Names bound by enclosing `for` expressions and `dynamic` blocks.
    scope: Vec<String>,
    /// The identifiers of the enclosing blocks.
    blocks: Vec<String>,
    references: Vec<Reference>,
    calls: Vec<Call>,
}

impl Collector<'_> {
    fn body(&mut self, body: &structure::Body) {
        for structure in body.iter() {
            match structure {
                structure::Structure::Attribute(attr) => {
                    // A variable's `type` is a type expression (`list(string)`),
                    // not references and calls.
                    if attr.key.as_str() != "type" || !self.in_variable() {
                        self.whole_value(&attr.value);
                    }
                }
                structure::Structure::Block(block) => {
                    let bound = (block.ident.as_str() == "dynamic").then(|| {
                        let iterator = block
                            .body
                            .get_attribute("iterator")
                            .and_then(|attr| attr.value.as_variable().map(|ident| ident.as_str().to_owned()));
                        iterator.or_else(|| block.labels.first().map(|label| label.as_str().to_owned()))
                    });
                    let bound = bound.flatten();
                    self.blocks.push(block.ident.as_str().to_owned());
                    self.with_bound(bound.into_iter().collect(), |this| this.body(&block.body));
                    self.blocks.pop();
                }
            }
        }
    }

    fn in_variable(&self) -> bool {
        self.blocks.last().is_some_and(|ident| ident == "variable")
    }

    fn whole_value(&mut self, expr: &Expression) {
        let before = self.references.len();
        self.visit_expr(expr);
        if self.references.len() == before + 1 {
            let reference = &mut self.references[before];
            reference.whole_value = Some(&reference.at.bytes) == expr.span().as_ref();
        }
    }

    fn reference(&mut self, root: &str, attrs: Vec<String>, span: Option<std::ops::Range<usize>>) {
        self.references.push(Reference {
            root: root.to_owned(),
            attrs,
            at: self.reader.at(span),
            bound: self.scope.iter().any(|name| name == root),
            whole_value: false,
        });
    }

    fn with_bound(&mut self, names: Vec<String>, visit: impl FnOnce(&mut Self)) {
        let count = names.len();
        self.scope.extend(names);
        visit(self);
        self.scope.truncate(self.scope.len() - count);
    }
}

impl Visit for Collector<'_> {
    fn visit_expr(&mut self, expr: &Expression) {
        match expr {
            Expression::Variable(ident) => self.reference(ident.as_str(), Vec::new(), expr.span()),
            Expression::Traversal(traversal) => {
                if let Expression::Variable(root) = &traversal.expr {
                    let attrs = traversal
                        .operators
                        .iter()
                        .map_while(|operator| match operator.value() {
                            TraversalOperator::GetAttr(name) => Some(name.as_str().to_owned()),
                            _ => None,
                        })
                        .collect();
                    self.reference(root.as_str(), attrs, expr.span());
                    for operator in &traversal.operators {
                        self.visit_traversal_operator(operator.value());
                    }
                } else {
                    visit::visit_traversal(self, traversal);
                }
            }
            Expression::ForExpr(for_expr) => {
                self.visit_expr(&for_expr.intro.collection_expr);
                let mut names = vec![for_expr.intro.value_var.as_str().to_owned()];
                names.extend(for_expr.intro.key_var.as_ref().map(|key| key.as_str().to_owned()));
                self.with_bound(names, |this| {
                    if let Some(key) = &for_expr.key_expr {
                        this.visit_expr(key);
                    }
                    this.visit_expr(&for_expr.value_expr);
                    if let Some(cond) = &for_expr.cond {
                        this.visit_expr(&cond.expr);
                    }
                });
            }
            Expression::FuncCall(call) => {
                // Namespaced calls (`provider::x::y`) are not Packer's.
                if call.name.namespace.is_empty() {
                    self.calls.push(Call {
                        name: call.name.name.as_str().to_owned(),
                        at: self.reader.at(call.name.name.span()),
                        first_argument: call.args.iter().next().map(|arg| self.reader.source(arg.span())),
                    });
                }
                for arg in call.args.iter() {
                    self.visit_expr(arg);
                }
            }
            other => visit::visit_expr(self, other),
        }
    }

    fn visit_for_directive(&mut self, directive: &ForDirective) {
        let intro = &directive.for_expr;
        self.visit_expr(&intro.collection_expr);
        let mut names = vec![intro.value_var.as_str().to_owned()];
        names.extend(intro.key_var.as_ref().map(|key| key.as_str().to_owned()));
        self.with_bound(names, |this| this.visit_template(&intro.template));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_keys_values_and_labels() {
        let text = "source \"amazon-ebs\" \"a\" {\n  region = \"eu-west-1\"\n}\n";
        let file = parse_file(0, "a.pkr.hcl", text.to_owned()).unwrap();
        let block = &file.body.blocks[0];
        assert_eq!(&text[block.labels[1].1.bytes.clone()], "\"a\"");
        let attr = &block.body.attrs[0];
        assert_eq!(&text[attr.key_at.bytes.clone()], "region");
        assert_eq!(&text[attr.at.bytes.clone()], "\"eu-west-1\"");
        assert_eq!(attr.value, Value::String("eu-west-1".to_owned()));
    }

    #[test]
    fn syntax_errors_have_an_offset() {
        let error = parse_file(0, "a.pkr.hcl", "source \"x\" {\n  a = \n}\n".to_owned()).unwrap_err();
        assert!(error.offset > 0 && error.offset < 20, "{error:?}");
    }

    #[test]
    fn dynamic_blocks_are_read_as_their_content() {
        let text = r#"source "amazon-ebs" "a" {
            dynamic "launch_block_device_mappings" {
              for_each = var.disks
              content { volume_size = launch_block_device_mappings.value }
            }
          }"#;
        let file = parse_file(0, "a.pkr.hcl", text.to_owned()).unwrap();
        let nested = &file.body.blocks[0].body.blocks[0];
        assert_eq!(nested.ident, "launch_block_device_mappings");
        assert!(nested.dynamic);
        assert_eq!(nested.body.attrs[0].key, "volume_size");
        let header = nested.dynamic_header.as_ref().expect("a dynamic block keeps its own arguments");
        assert_eq!(header.body.attrs[0].key, "for_each");
        assert_eq!((header.contents, header.body.blocks.len()), (1, 0));
        let bound: Vec<bool> = file.references.iter().map(|r| r.bound).collect();
        assert_eq!(bound, [false, true]);
    }
}
