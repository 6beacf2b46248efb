//! Values as Packer computes them: go-cty's model, which HCL evaluates in.
//!
//! - Types: `string`, `number`, `bool`, `list(T)`, `set(T)`, `map(T)`,
//!   `tuple([…])`, `object({…})`, and `any` (cty's dynamic pseudo-type:
//!   a value whose type is not known yet).
//! - A value may be null (of a type), or unknown (of a type): what only the
//!   build knows (a data source, `timestamp()`, a variable without a
//!   value). Unknowns propagate: an operation on one gives one.
//! - Numbers: cty keeps 512-bit binary floats and prints the shortest
//!   decimal that reads back as the same float. Here a number is an `f64`
//!   and, when cty's digits are known, the decimal they spell (at most 36
//!   significant digits): literals and parsed strings (`1e3` is `1000`,
//!   `5.2` is `5.2`), integers, and sums, differences, products and
//!   terminating quotients of binary fractions (`0.5 + 0.25` is `0.75`).
//!   cty holds `5.2` rounded, so `2 - 5.2` prints a 155-digit rounding
//!   error, and `pow` and `log` go through Go's `float64` math: such
//!   results keep their `f64` for arithmetic and comparison (too close to
//!   call is unknown) but never become digits: as text they are unknown.
//!   Negative zero is kept (`-0`). An `f64` and an `i128` decimal need no
//!   big-number crate and cover what templates compute (sizes, counts,
//!   indexes); exact 512-bit arithmetic would need one for little gain.
//! - Marks follow a value into everything computed from it, as cty's
//!   marks do: `sensitive` from a `sensitive` variable, and `from_run`
//!   from a value this run or its environment gives.
//! - Strings are Unicode text; cty normalises them to NFC, which is not
//!   done here (templates hold ASCII names and paths).

use std::collections::BTreeMap;
use std::fmt;

/// A cty type.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CtyType {
    /// `any`: not known yet.
    Dynamic,
    String,
    Number,
    Bool,
    List(Box<CtyType>),
    Set(Box<CtyType>),
    Map(Box<CtyType>),
    Tuple(Vec<CtyType>),
    Object(BTreeMap<String, CtyType>),
}

impl CtyType {
    pub fn is_primitive(&self) -> bool {
        matches!(self, CtyType::String | CtyType::Number | CtyType::Bool)
    }

    /// Has the type `any` anywhere in it?
    pub fn has_dynamic(&self) -> bool {
        match self {
            CtyType::Dynamic => true,
            CtyType::List(element) | CtyType::Set(element) | CtyType::Map(element) => element.has_dynamic(),
            CtyType::Tuple(elements) => elements.iter().any(CtyType::has_dynamic),
            CtyType::Object(attrs) => attrs.values().any(CtyType::has_dynamic),
            _ => false,
        }
    }

    /// A type constraint as HCL writes it: `list(string)`, `object({a =
    /// number})`. `None` when the text is not one.
    pub fn parse(text: &str) -> Option<CtyType> {
        let expr = hcl_edit::parser::parse_expr(text).ok()?;
        CtyType::from_expr(&expr)
    }

    /// A type constraint from its expression, as a variable's `type` holds
    /// it. `optional(T)` attributes are read as `T`.
    pub fn from_expr(expr: &hcl_edit::expr::Expression) -> Option<CtyType> {
        use hcl_edit::expr::{Expression, ObjectKey};
        match expr {
            Expression::Variable(name) => match name.as_str() {
                "string" => Some(CtyType::String),
                "number" => Some(CtyType::Number),
                "bool" => Some(CtyType::Bool),
                "any" => Some(CtyType::Dynamic),
                // `list` alone is `list(any)`, as HCL reads it.
                "list" => Some(CtyType::List(Box::new(CtyType::Dynamic))),
                "map" => Some(CtyType::Map(Box::new(CtyType::Dynamic))),
                "set" => Some(CtyType::Set(Box::new(CtyType::Dynamic))),
                _ => None,
            },
            Expression::Parenthesis(inner) => CtyType::from_expr(inner.inner()),
            Expression::FuncCall(call) if call.args.len() == 1 || call.name.name.as_str() == "optional" => {
                let argument = call.args.iter().next()?;
                match call.name.name.as_str() {
                    "list" => Some(CtyType::List(Box::new(CtyType::from_expr(argument)?))),
                    "set" => Some(CtyType::Set(Box::new(CtyType::from_expr(argument)?))),
                    "map" => Some(CtyType::Map(Box::new(CtyType::from_expr(argument)?))),
                    "optional" => CtyType::from_expr(argument),
                    "tuple" => match argument {
                        Expression::Array(items) => {
                            Some(CtyType::Tuple(items.iter().map(CtyType::from_expr).collect::<Option<_>>()?))
                        }
                        _ => None,
                    },
                    "object" => match argument {
                        Expression::Object(object) => {
                            let mut attrs = BTreeMap::new();
                            for (key, value) in object.iter() {
                                let name = match key {
                                    ObjectKey::Ident(ident) => ident.as_str().to_owned(),
                                    ObjectKey::Expression(Expression::String(text)) => text.value().clone(),
                                    ObjectKey::Expression(_) => return None,
                                };
                                attrs.insert(name, CtyType::from_expr(value.expr())?);
                            }
                            Some(CtyType::Object(attrs))
                        }
                        _ => None,
                    },
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// "a string", "a list of string", for messages.
    pub fn friendly(&self) -> String {
        match self {
            CtyType::Dynamic => "a value of any type".to_owned(),
            CtyType::String => "a string".to_owned(),
            CtyType::Number => "a number".to_owned(),
            CtyType::Bool => "a bool".to_owned(),
            CtyType::List(_) => format!("a list ({self})"),
            CtyType::Set(_) => format!("a set ({self})"),
            CtyType::Map(_) => format!("a map ({self})"),
            CtyType::Tuple(_) => "a tuple".to_owned(),
            CtyType::Object(_) => "an object".to_owned(),
        }
    }
}

impl fmt::Display for CtyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CtyType::Dynamic => f.write_str("any"),
            CtyType::String => f.write_str("string"),
            CtyType::Number => f.write_str("number"),
            CtyType::Bool => f.write_str("bool"),
            CtyType::List(element) => write!(f, "list({element})"),
            CtyType::Set(element) => write!(f, "set({element})"),
            CtyType::Map(element) => write!(f, "map({element})"),
            CtyType::Tuple(elements) => {
                f.write_str("tuple([")?;
                for (index, element) in elements.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{element}")?;
                }
                f.write_str("])")
            }
            CtyType::Object(attrs) => {
                f.write_str("object({")?;
                for (index, (name, ty)) in attrs.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{name} = {ty}")?;
                }
                f.write_str("})")
            }
        }
    }
}

/// A decimal `digits × 10^exponent`, with no trailing zero in `digits`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Decimal {
    digits: i128,
    exponent: i32,
}

/// Exact decimals keep at most this many significant digits.
const MAX_DIGITS: u32 = 36;

impl Decimal {
    fn new(mut digits: i128, mut exponent: i32) -> Option<Decimal> {
        if digits == 0 {
            return Some(Decimal { digits: 0, exponent: 0 });
        }
        while digits % 10 == 0 {
            digits /= 10;
            exponent = exponent.checked_add(1)?;
        }
        (digits.unsigned_abs() < 10u128.pow(MAX_DIGITS) && exponent.abs() <= 400)
            .then_some(Decimal { digits, exponent })
    }

    /// `digits` scaled down to `exponent`, which is at most its own.
    fn scaled_to(self, exponent: i32) -> Option<i128> {
        let shift = u32::try_from(self.exponent.checked_sub(exponent)?).ok()?;
        self.digits.checked_mul(10i128.checked_pow(shift)?)
    }

    fn add(self, other: Decimal) -> Option<Decimal> {
        let exponent = self.exponent.min(other.exponent);
        Decimal::new(self.scaled_to(exponent)?.checked_add(other.scaled_to(exponent)?)?, exponent)
    }

    fn mul(self, other: Decimal) -> Option<Decimal> {
        Decimal::new(self.digits.checked_mul(other.digits)?, self.exponent.checked_add(other.exponent)?)
    }

    /// The quotient when it is a decimal of few enough digits.
    fn div(self, other: Decimal) -> Option<Decimal> {
        if other.digits == 0 {
            return None;
        }
        let (mut numerator, mut exponent) = (self.digits, self.exponent.checked_sub(other.exponent)?);
        for _ in 0..=MAX_DIGITS {
            if numerator % other.digits == 0 {
                return Decimal::new(numerator / other.digits, exponent);
            }
            numerator = numerator.checked_mul(10)?;
            exponent -= 1;
        }
        None
    }

    fn is_dyadic(self) -> bool {
        self.exponent >= 0
            || u32::try_from(-self.exponent)
                .ok()
                .and_then(|power| 5i128.checked_pow(power))
                .is_some_and(|five| self.digits % five == 0)
    }

    fn to_f64(self) -> f64 {
        format!("{}e{}", self.digits, self.exponent).parse().unwrap_or(f64::NAN)
    }

    /// Plain notation, as Go's `big.Float.Text('f', -1)`: `1000`, `0.25`.
    fn text(self) -> String {
        let negative = self.digits < 0;
        let digits = self.digits.unsigned_abs().to_string();
        let mut out = String::from(if negative { "-" } else { "" });
        if self.exponent >= 0 {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', self.exponent as usize));
        } else {
            let point = digits.len() as i64 + i64::from(self.exponent);
            if point > 0 {
                out.push_str(&digits[..point as usize]);
                out.push('.');
                out.push_str(&digits[point as usize..]);
            } else {
                out.push_str("0.");
                out.extend(std::iter::repeat_n('0', (-point) as usize));
                out.push_str(&digits);
            }
        }
        out
    }
}

/// A cty number: see the module docs.
#[derive(Clone, Copy, Debug)]
pub struct Number {
    float: f64,
    exact: Option<Decimal>,
}

impl PartialEq for Number {
    fn eq(&self, other: &Number) -> bool {
        match (self.exact, other.exact) {
            (Some(a), Some(b)) => a == b,
            _ => self.float == other.float,
        }
    }
}

impl Number {
    pub fn from_i64(value: i64) -> Number {
        Number { float: value as f64, exact: Decimal::new(i128::from(value), 0) }
    }

    /// The result of a Go `float64` computation (`math.Pow`, `math.Log`),
    /// as cty keeps it: known digits only for a whole number below 2^53,
    /// since Go's math library and Rust's may differ in the last bit.
    pub fn from_f64(value: f64) -> Number {
        if value.is_finite() && value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
            return Number { float: value, exact: Decimal::new(value as i128, 0) };
        }
        Number { float: value, exact: None }
    }

    /// A number as cty parses one (literal or string): decimal digits with
    /// an optional sign, point and exponent; `None` otherwise.
    pub fn parse(text: &str) -> Option<Number> {
        let (negative, body) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        if body == "Inf" || body == "inf" {
            return Some(Number { float: if negative { f64::NEG_INFINITY } else { f64::INFINITY }, exact: None });
        }
        let (mantissa, exponent) = match body.find(['e', 'E']) {
            Some(at) => (&body[..at], Some(&body[at + 1..])),
            None => (body, None),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |text: &str| text.bytes().all(|byte| byte.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
            return None;
        }
        let exponent: i64 = match exponent {
            Some(text) => {
                let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
                if digits.is_empty() || !all_digits(digits) {
                    return None;
                }
                text.parse().unwrap_or(if text.starts_with('-') { i64::MIN / 2 } else { i64::MAX / 2 })
            }
            None => 0,
        };
        let float: f64 = format!("{}{whole}.{fraction}0e{exponent}", if negative { "-" } else { "" }).parse().ok()?;
        let significant = format!("{whole}{fraction}");
        let significant = significant.trim_start_matches('0');
        let exact = if significant.len() <= MAX_DIGITS as usize + 40 {
            let trimmed = significant.trim_end_matches('0');
            let zeros = significant.len() - trimmed.len();
            let digits: i128 = if trimmed.is_empty() { Some(0) } else { trimmed.parse().ok() }.unwrap_or(i128::MAX);
            let exponent = exponent.saturating_add(zeros as i64).saturating_sub(fraction.len() as i64);
            i32::try_from(exponent)
                .ok()
                .and_then(|exponent| Decimal::new(if negative { -digits } else { digits }, exponent))
                .filter(|_| digits != i128::MAX)
        } else {
            None
        };
        Some(Number { float, exact })
    }

    pub fn as_f64(&self) -> f64 {
        self.float
    }

    /// The number as an integer, when it is one exactly.
    pub fn as_i64(&self) -> Option<i64> {
        let exact = self.exact?;
        if exact.exponent < 0 {
            return None;
        }
        i64::try_from(exact.scaled_to(0)?).ok()
    }

    pub fn is_integer(&self) -> bool {
        self.exact.is_some_and(|exact| exact.exponent >= 0) || (self.float.is_finite() && self.float.fract() == 0.0)
    }

    /// The text cty gives the number, when it is exact: `None` for a
    /// result whose digits an `f64` cannot know. Infinities are `+Inf`, `-Inf`.
    pub fn text(&self) -> Option<String> {
        if self.float.is_infinite() {
            return Some(if self.float > 0.0 { "+Inf" } else { "-Inf" }.to_owned());
        }
        if self.float == 0.0 && self.float.is_sign_negative() {
            return Some("-0".to_owned());
        }
        self.exact.map(Decimal::text)
    }

    /// Is the number exactly a binary fraction, as cty's 512-bit float
    /// holds it without rounding (integers, `0.5`, `1.25`)?
    pub fn is_dyadic(&self) -> bool {
        self.float.is_infinite() || self.exact.is_some_and(Decimal::is_dyadic)
    }

    /// An operation, exact when both operands are binary fractions (then
    /// cty's result is exact, or correctly rounded for a division): cty
    /// holds `5.2` rounded, and `2 - 5.2` prints its rounding error.
    fn combine(
        self,
        other: Number,
        float: impl Fn(f64, f64) -> f64,
        exact: impl Fn(Decimal, Decimal) -> Option<Decimal>,
    ) -> Number {
        let value = float(self.float, other.float);
        match (self.exact, other.exact) {
            (Some(a), Some(b)) if value.is_finite() && a.is_dyadic() && b.is_dyadic() => match exact(a, b) {
                // A zero keeps the sign IEEE arithmetic gives it, as cty's does.
                Some(result) if result.digits == 0 => Number { float: value, exact: Some(result) },
                Some(result) => Number { float: result.to_f64(), exact: Some(result) },
                None => Number { float: value, exact: None },
            },
            _ => Number { float: value, exact: None },
        }
    }

    pub fn plus(self, other: Number) -> Number {
        self.combine(other, |a, b| a + b, Decimal::add)
    }

    pub fn minus(self, other: Number) -> Number {
        self.combine(other, |a, b| a - b, |a, b| a.add(Decimal { digits: -b.digits, exponent: b.exponent }))
    }

    pub fn times(self, other: Number) -> Number {
        self.combine(other, |a, b| a * b, Decimal::mul)
    }

    /// `self / other`; `None` for zero by zero or infinity by infinity,
    /// which cty refuses. A number by zero is an infinity, as in cty.
    pub fn divided_by(self, other: Number) -> Option<Number> {
        let zero = |n: &Number| n.float == 0.0;
        if (zero(&self) && zero(&other)) || (self.float.is_infinite() && other.float.is_infinite()) {
            return None;
        }
        Some(self.combine(other, |a, b| a / b, Decimal::div))
    }

    /// cty's modulo: `a - trunc(a / b) * b`, `a` itself when `b` is zero.
    pub fn modulo(self, other: Number) -> Option<Number> {
        if self.float.is_infinite() || other.float.is_infinite() {
            return (!(self.float == 0.0 || other.float == 0.0)).then(|| self.times(other));
        }
        if other.float == 0.0 {
            return Some(self);
        }
        if let (Some(a), Some(b)) = (self.as_i64(), other.as_i64()) {
            return Some(Number::from_i64(a % b));
        }
        let quotient = self.divided_by(other)?;
        let truncated = Number::from_f64(quotient.float.trunc());
        Some(self.minus(truncated.times(other)))
    }

    pub fn negated(self) -> Number {
        let exact = self.exact.map(|d| Decimal { digits: -d.digits, exponent: d.exponent });
        Number { float: -self.float, exact }
    }

    /// How two numbers compare; `None` when one is a rounded result too
    /// close to the other to tell what cty's digits would say.
    pub fn compare(&self, other: &Number) -> Option<std::cmp::Ordering> {
        if let (Some(a), Some(b)) = (self.exact, other.exact) {
            let exponent = a.exponent.min(b.exponent);
            if let (Some(a), Some(b)) = (a.scaled_to(exponent), b.scaled_to(exponent)) {
                return Some(a.cmp(&b));
            }
        }
        let (a, b) = (self.float, other.float);
        let close = (a - b).abs() <= 1e-9 * a.abs().max(b.abs()) && a.is_finite() && b.is_finite();
        (!close).then(|| a.total_cmp(&b))
    }

    /// An order for sorting: [`Self::compare`], the `f64`s' where it cannot tell.
    pub fn order(&self, other: &Number) -> std::cmp::Ordering {
        self.compare(other).unwrap_or_else(|| self.float.total_cmp(&other.float))
    }
}

/// A cty value: see the module docs.
#[derive(Clone, Debug, PartialEq)]
pub struct CtyValue {
    pub kind: Kind,
    pub marks: Marks,
}

/// What a value is derived from ([`CtyValue::all_marks`] for what is
/// inside it too).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Marks {
    /// A `sensitive` variable or local.
    pub sensitive: bool,
    /// A value given for this run (`-var`, a `-var-file`, `PKR_VAR_`) or
    /// read from the environment (`env()`): another run may compute
    /// another value.
    pub from_run: bool,
}

impl Marks {
    pub const FROM_RUN: Marks = Marks { sensitive: false, from_run: true };
}

impl std::ops::BitOr for Marks {
    type Output = Marks;

    fn bitor(self, other: Marks) -> Marks {
        Marks { sensitive: self.sensitive || other.sensitive, from_run: self.from_run || other.from_run }
    }
}

impl std::ops::BitOrAssign for Marks {
    fn bitor_assign(&mut self, other: Marks) {
        *self = *self | other;
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// Known only to the build.
    Unknown(CtyType),
    Null(CtyType),
    String(String),
    Number(Number),
    Bool(bool),
    /// Elements of one type, which the list records (`any` when empty).
    List(CtyType, Vec<CtyValue>),
    /// Distinct elements of one type, in cty's order.
    Set(CtyType, Vec<CtyValue>),
    Map(CtyType, BTreeMap<String, CtyValue>),
    Tuple(Vec<CtyValue>),
    Object(BTreeMap<String, CtyValue>),
}

impl From<Kind> for CtyValue {
    fn from(kind: Kind) -> CtyValue {
        CtyValue { kind, marks: Marks::default() }
    }
}

impl CtyValue {
    pub fn string(text: impl Into<String>) -> CtyValue {
        Kind::String(text.into()).into()
    }

    pub fn number(number: Number) -> CtyValue {
        Kind::Number(number).into()
    }

    pub fn int(value: i64) -> CtyValue {
        Kind::Number(Number::from_i64(value)).into()
    }

    pub fn bool(value: bool) -> CtyValue {
        Kind::Bool(value).into()
    }

    pub fn unknown(ty: CtyType) -> CtyValue {
        Kind::Unknown(ty).into()
    }

    pub fn null(ty: CtyType) -> CtyValue {
        Kind::Null(ty).into()
    }

    pub fn tuple(elements: Vec<CtyValue>) -> CtyValue {
        Kind::Tuple(elements).into()
    }

    pub fn object(attrs: BTreeMap<String, CtyValue>) -> CtyValue {
        Kind::Object(attrs).into()
    }

    /// A list of `elements`, which must share `element`'s type.
    pub fn list(element: CtyType, elements: Vec<CtyValue>) -> CtyValue {
        Kind::List(element, elements).into()
    }

    /// A set: `elements` sorted and deduplicated as cty does.
    pub fn set(element: CtyType, mut elements: Vec<CtyValue>) -> CtyValue {
        elements.sort_by(set_order);
        elements.dedup_by(|a, b| a.equals(b) == Some(true));
        Kind::Set(element, elements).into()
    }

    pub fn marked(mut self, marks: Marks) -> CtyValue {
        self.marks |= marks;
        self
    }

    pub fn ty(&self) -> CtyType {
        match &self.kind {
            Kind::Unknown(ty) | Kind::Null(ty) => ty.clone(),
            Kind::String(_) => CtyType::String,
            Kind::Number(_) => CtyType::Number,
            Kind::Bool(_) => CtyType::Bool,
            Kind::List(element, _) => CtyType::List(Box::new(element.clone())),
            Kind::Set(element, _) => CtyType::Set(Box::new(element.clone())),
            Kind::Map(element, _) => CtyType::Map(Box::new(element.clone())),
            Kind::Tuple(elements) => CtyType::Tuple(elements.iter().map(CtyValue::ty).collect()),
            Kind::Object(attrs) => CtyType::Object(attrs.iter().map(|(k, v)| (k.clone(), v.ty())).collect()),
        }
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self.kind, Kind::Unknown(_))
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, Kind::Null(_))
    }

    /// Known all the way down.
    pub fn is_wholly_known(&self) -> bool {
        self.children().all(CtyValue::is_wholly_known) && !self.is_unknown()
    }

    /// Sensitive itself or anywhere inside.
    pub fn is_sensitive(&self) -> bool {
        self.all_marks().sensitive
    }

    /// Its marks and those of everything inside it.
    pub fn all_marks(&self) -> Marks {
        self.children().fold(self.marks, |marks, child| marks | child.all_marks())
    }

    /// The strings and numbers in it, itself included, as text (a number
    /// as cty prints it); bools, nulls and unknowns give none.
    pub fn texts(&self) -> Vec<String> {
        let own = match &self.kind {
            Kind::String(text) => Some(text.clone()),
            Kind::Number(number) => number.text(),
            _ => None,
        };
        own.into_iter().chain(self.children().flat_map(CtyValue::texts)).collect()
    }

    /// The elements of a collection or structure, in order.
    pub fn children(&self) -> Box<dyn Iterator<Item = &CtyValue> + '_> {
        match &self.kind {
            Kind::List(_, elements) | Kind::Set(_, elements) | Kind::Tuple(elements) => Box::new(elements.iter()),
            Kind::Map(_, attrs) | Kind::Object(attrs) => Box::new(attrs.values()),
            _ => Box::new(std::iter::empty()),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::String(text) => Some(text),
            _ => None,
        }
    }

    /// The elements of a list, set or tuple; `None` for anything else.
    pub fn elements(&self) -> Option<&[CtyValue]> {
        match &self.kind {
            Kind::List(_, elements) | Kind::Set(_, elements) | Kind::Tuple(elements) => Some(elements),
            _ => None,
        }
    }

    /// The attributes of a map or object.
    pub fn attributes(&self) -> Option<&BTreeMap<String, CtyValue>> {
        match &self.kind {
            Kind::Map(_, attrs) | Kind::Object(attrs) => Some(attrs),
            _ => None,
        }
    }

    /// cty's equality: `None` when an unknown decides it. Values of
    /// different types are not equal (`1 == "1"` is false).
    pub fn equals(&self, other: &CtyValue) -> Option<bool> {
        match (&self.kind, &other.kind) {
            (Kind::Unknown(_), _) | (_, Kind::Unknown(_)) => None,
            (Kind::Null(_), Kind::Null(_)) => Some(true),
            (Kind::Null(_), _) | (_, Kind::Null(_)) => Some(false),
            // A type not known yet (a `null` inside) may still turn out equal.
            _ if self.ty().has_dynamic() || other.ty().has_dynamic() => None,
            _ if self.ty() != other.ty() => {
                // Types with unknowns inside may still turn out equal.
                if self.is_wholly_known() && other.is_wholly_known() { Some(false) } else { None }
            }
            (Kind::String(a), Kind::String(b)) => Some(a == b),
            (Kind::Number(a), Kind::Number(b)) => a.compare(b).map(std::cmp::Ordering::is_eq),
            (Kind::Bool(a), Kind::Bool(b)) => Some(a == b),
            (Kind::List(_, a), Kind::List(_, b))
            | (Kind::Tuple(a), Kind::Tuple(b))
            | (Kind::Set(_, a), Kind::Set(_, b)) => all_equal(a.len() == b.len(), a.iter().zip(b)),
            (Kind::Map(_, a), Kind::Map(_, b)) | (Kind::Object(a), Kind::Object(b)) => {
                let same_keys = a.len() == b.len() && a.keys().zip(b.keys()).all(|(x, y)| x == y);
                all_equal(same_keys, a.values().zip(b.values()))
            }
            _ => Some(false),
        }
    }

    /// Writes the value as HCL would write it, for messages and tests.
    pub fn show(&self) -> String {
        let mut out = String::new();
        self.show_into(&mut out);
        out
    }

    fn show_into(&self, out: &mut String) {
        match &self.kind {
            Kind::Unknown(ty) => out.push_str(&format!("(unknown {ty})")),
            Kind::Null(_) => out.push_str("null"),
            Kind::String(text) => out.push_str(&serde_json::Value::String(text.clone()).to_string()),
            Kind::Number(number) => out.push_str(&number.text().unwrap_or_else(|| format!("~{}", number.float))),
            Kind::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
            Kind::List(_, elements) | Kind::Set(_, elements) | Kind::Tuple(elements) => {
                out.push('[');
                for (index, element) in elements.iter().enumerate() {
                    if index > 0 {
                        out.push_str(", ");
                    }
                    element.show_into(out);
                }
                out.push(']');
            }
            Kind::Map(_, attrs) | Kind::Object(attrs) => {
                out.push('{');
                for (index, (key, value)) in attrs.iter().enumerate() {
                    if index > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&serde_json::Value::String(key.clone()).to_string());
                    out.push_str(" = ");
                    value.show_into(out);
                }
                out.push('}');
            }
        }
    }

    /// The JSON text cty's `jsonencode` gives the value; `None` when a
    /// part of it is unknown or a number has digits only cty knows.
    pub fn to_json(&self) -> Option<String> {
        let mut out = String::new();
        self.json_into(&mut out)?;
        Some(out)
    }

    fn json_into(&self, out: &mut String) -> Option<()> {
        match &self.kind {
            Kind::Unknown(_) => return None,
            Kind::Null(_) => out.push_str("null"),
            Kind::String(text) => json_string(text, out),
            // Digits as cty writes them: `1e3` is `1000`, `-0` stays.
            Kind::Number(number) if number.float.is_finite() => out.push_str(&number.text()?),
            Kind::Number(_) => return None,
            Kind::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
            Kind::List(_, elements) | Kind::Set(_, elements) | Kind::Tuple(elements) => {
                out.push('[');
                for (index, element) in elements.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    element.json_into(out)?;
                }
                out.push(']');
            }
            Kind::Map(_, attrs) | Kind::Object(attrs) => {
                out.push('{');
                for (index, (key, value)) in attrs.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    json_string(key, out);
                    out.push(':');
                    value.json_into(out)?;
                }
                out.push('}');
            }
        }
        Some(())
    }

    /// A value from JSON, typed as cty's `jsondecode` types it: objects
    /// and tuples.
    pub fn from_json(json: &serde_json::Value) -> CtyValue {
        use serde_json::Value as Json;
        match json {
            Json::Null => CtyValue::null(CtyType::Dynamic),
            Json::Bool(value) => CtyValue::bool(*value),
            Json::Number(number) => {
                CtyValue::number(Number::parse(&number.to_string()).unwrap_or(Number::from_f64(f64::NAN)))
            }
            Json::String(text) => CtyValue::string(text.clone()),
            Json::Array(items) => CtyValue::tuple(items.iter().map(CtyValue::from_json).collect()),
            Json::Object(attrs) => {
                CtyValue::object(attrs.iter().map(|(k, v)| (k.clone(), CtyValue::from_json(v))).collect())
            }
        }
    }
}

/// A JSON string as Go's encoder writes it: HTML characters and the
/// line and paragraph separators escaped too.
fn json_string(text: &str, out: &mut String) {
    for c in serde_json::Value::String(text.to_owned()).to_string().chars() {
        match c {
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            _ => out.push(c),
        }
    }
}

fn all_equal<'a>(same_shape: bool, pairs: impl Iterator<Item = (&'a CtyValue, &'a CtyValue)>) -> Option<bool> {
    if !same_shape {
        return Some(false);
    }
    let mut known = true;
    for (a, b) in pairs {
        match a.equals(b) {
            Some(false) => return Some(false),
            None => known = false,
            Some(true) => {}
        }
    }
    known.then_some(true)
}

/// cty's order of set elements: strings and numbers by value, the rest
/// as they come.
fn set_order(a: &CtyValue, b: &CtyValue) -> std::cmp::Ordering {
    match (&a.kind, &b.kind) {
        (Kind::String(a), Kind::String(b)) => a.cmp(b),
        (Kind::Number(a), Kind::Number(b)) => a.order(b),
        (Kind::Bool(a), Kind::Bool(b)) => b.cmp(a),
        _ => std::cmp::Ordering::Equal,
    }
}

/// Why a value does not convert to a type, as cty says it.
pub type ConversionError = String;

/// Converts a value as cty's `convert.Convert` does: a string to a
/// number or bool and back, a tuple to a list or set, an object to a map
/// or a smaller object. Unknown and null values convert to unknown and
/// null of the target.
pub fn convert(value: &CtyValue, target: &CtyType) -> Result<CtyValue, ConversionError> {
    let converted = convert_kind(value, target)?;
    Ok(converted.marked(value.marks))
}

fn convert_kind(value: &CtyValue, target: &CtyType) -> Result<CtyValue, ConversionError> {
    if *target == CtyType::Dynamic {
        return Ok(value.clone());
    }
    let ty = value.ty();
    if ty == *target && !matches!(value.kind, Kind::Unknown(_) | Kind::Null(_)) {
        return Ok(value.clone());
    }
    match &value.kind {
        Kind::Unknown(_) => return Ok(CtyValue::unknown(target.clone())),
        Kind::Null(_) => return Ok(CtyValue::null(target.clone())),
        _ => {}
    }
    let mismatch = || format!("{} required", target.friendly());
    match (target, &value.kind) {
        (CtyType::String, Kind::Number(number)) => {
            Ok(number.text().map_or_else(|| CtyValue::unknown(CtyType::String), CtyValue::string))
        }
        (CtyType::String, Kind::Bool(value)) => Ok(CtyValue::string(if *value { "true" } else { "false" })),
        (CtyType::Number, Kind::String(text)) => {
            Number::parse(text).map(CtyValue::number).ok_or_else(|| "a number is required".to_owned())
        }
        (CtyType::Bool, Kind::String(text)) => match text.as_str() {
            "true" | "1" => Ok(CtyValue::bool(true)),
            "false" | "0" => Ok(CtyValue::bool(false)),
            other if other.eq_ignore_ascii_case("true") || other.eq_ignore_ascii_case("false") => Err(format!(
                "a bool is required; to convert from string, use lowercase \"{}\"",
                other.to_ascii_lowercase()
            )),
            _ => Err("a bool is required".to_owned()),
        },
        (
            CtyType::List(wanted) | CtyType::Set(wanted),
            Kind::List(_, items) | Kind::Set(_, items) | Kind::Tuple(items),
        ) => {
            let Some(converted) = convert_elements(items.iter(), wanted)? else {
                return Ok(CtyValue::unknown(target.clone()));
            };
            let element =
                converted.first().map(CtyValue::ty).filter(|ty| *ty != CtyType::Dynamic).unwrap_or((**wanted).clone());
            Ok(match target {
                CtyType::Set(_) => CtyValue::set(element, converted),
                _ => CtyValue::list(element, converted),
            })
        }
        (CtyType::Tuple(types), Kind::List(_, items) | Kind::Set(_, items) | Kind::Tuple(items)) => {
            if types.len() != items.len() {
                return Err(format!("tuple required with {} elements", types.len()));
            }
            Ok(CtyValue::tuple(items.iter().zip(types).map(|(item, ty)| convert(item, ty)).collect::<Result<_, _>>()?))
        }
        (CtyType::Map(element), Kind::Map(_, attrs) | Kind::Object(attrs)) => {
            let Some(converted) = convert_elements(attrs.values(), element)? else {
                return Ok(CtyValue::unknown(target.clone()));
            };
            let element = converted.first().map_or_else(|| (**element).clone(), CtyValue::ty);
            let map = attrs.keys().cloned().zip(converted).collect();
            Ok(Kind::Map(element, map).into())
        }
        (CtyType::Object(types), Kind::Map(_, attrs) | Kind::Object(attrs)) => {
            let mut out = BTreeMap::new();
            for (name, ty) in types {
                let Some(attr) = attrs.get(name) else {
                    return Err(format!("attribute \"{name}\" is required"));
                };
                out.insert(name.clone(), convert(attr, ty).map_err(|error| format!(".{name}: {error}"))?);
            }
            Ok(CtyValue::object(out))
        }
        _ => Err(mismatch()),
    }
}

/// Do these types certainly not unify: some of different classes
/// (primitive, sequence, mapping), or a number with a bool?
pub fn never_unify(types: &[CtyType]) -> bool {
    let class = |ty: &CtyType| match ty {
        CtyType::String | CtyType::Number | CtyType::Bool => 0,
        CtyType::List(_) | CtyType::Set(_) | CtyType::Tuple(_) => 1,
        CtyType::Map(_) | CtyType::Object(_) => 2,
        CtyType::Dynamic => 3,
    };
    let known: Vec<&CtyType> = types.iter().filter(|ty| **ty != CtyType::Dynamic).collect();
    let mixed_classes = known.windows(2).any(|pair| class(pair[0]) != class(pair[1]));
    let primitives = known.iter().all(|ty| ty.is_primitive());
    mixed_classes || (primitives && !known.is_empty() && unify(types).is_none())
}

/// Converts every element to `element`, or, when it is `any`, to the type
/// they unify to. `Ok(None)` when that type is not worked out here.
fn convert_elements<'a>(
    items: impl Iterator<Item = &'a CtyValue> + Clone,
    element: &CtyType,
) -> Result<Option<Vec<CtyValue>>, ConversionError> {
    let target = if element.has_dynamic() {
        let types: Vec<CtyType> = items.clone().map(CtyValue::ty).collect();
        match unify(&types) {
            Some(unified) => unified,
            None if never_unify(&types) => return Err("all elements must have the same type".to_owned()),
            None => return Ok(None),
        }
    } else {
        element.clone()
    };
    let converted = items
        .enumerate()
        .map(|(index, item)| convert(item, &target).map_err(|error| format!("element {index}: {error}")));
    converted.collect::<Result<Vec<_>, _>>().map(Some)
}

/// The one type that values of `types` all convert to, as cty's
/// unification finds it for lists and conditionals: equal types, `any`
/// left aside, strings over numbers and bools, objects and tuples of
/// unifiable parts. `None` when there is none (or it is not worked out here).
pub fn unify(types: &[CtyType]) -> Option<CtyType> {
    let known: Vec<&CtyType> = types.iter().filter(|ty| **ty != CtyType::Dynamic).collect();
    let Some(first) = known.first() else { return Some(CtyType::Dynamic) };
    if known.iter().all(|ty| ty == first) {
        return Some((*first).clone());
    }
    if known.iter().all(|ty| ty.is_primitive()) {
        return known.contains(&&CtyType::String).then_some(CtyType::String);
    }
    let all = |test: fn(&CtyType) -> bool| known.iter().all(|ty| test(ty));
    // Objects (and maps) unify to an object when they have the same
    // attributes, else to a map; tuples (and lists) to a tuple when of one
    // length, else to a list, as cty's unification does.
    if all(|ty| matches!(ty, CtyType::Object(_) | CtyType::Map(_))) {
        let objects: Vec<&BTreeMap<String, CtyType>> =
            known.iter().filter_map(|ty| if let CtyType::Object(attrs) = ty { Some(attrs) } else { None }).collect();
        if objects.len() == known.len() && objects.iter().all(|a| a.keys().eq(objects[0].keys())) {
            let mut out = BTreeMap::new();
            for name in objects[0].keys() {
                let each: Vec<CtyType> = objects.iter().map(|a| a[name].clone()).collect();
                out.insert(name.clone(), unify(&each)?);
            }
            return Some(CtyType::Object(out));
        }
        if objects.is_empty() {
            let elements: Vec<CtyType> = known
                .iter()
                .filter_map(|ty| if let CtyType::Map(e) = ty { Some((**e).clone()) } else { None })
                .collect();
            return Some(CtyType::Map(Box::new(unify(&elements)?)));
        }
        // Maps with objects, or objects of other attributes: go-cty's
        // releases unify these differently (or not at all).
        return None;
    }
    if all(|ty| matches!(ty, CtyType::Tuple(_) | CtyType::List(_))) {
        let tuples: Vec<&Vec<CtyType>> = known
            .iter()
            .filter_map(|ty| if let CtyType::Tuple(elements) = ty { Some(elements) } else { None })
            .collect();
        if tuples.len() == known.len() && tuples.iter().all(|e| e.len() == tuples[0].len()) {
            let unified = (0..tuples[0].len())
                .map(|index| unify(&tuples.iter().map(|e| e[index].clone()).collect::<Vec<_>>()))
                .collect::<Option<Vec<_>>>()?;
            return Some(CtyType::Tuple(unified));
        }
        let elements: Vec<CtyType> = known
            .iter()
            .flat_map(|ty| match ty {
                CtyType::Tuple(elements) => elements.clone(),
                CtyType::List(element) => vec![(**element).clone()],
                _ => Vec::new(),
            })
            .collect();
        return Some(CtyType::List(Box::new(unify(&elements)?)));
    }
    if all(|ty| matches!(ty, CtyType::Set(_))) {
        let elements: Vec<CtyType> =
            known.iter().filter_map(|ty| if let CtyType::Set(e) = ty { Some((**e).clone()) } else { None }).collect();
        return Some(CtyType::Set(Box::new(unify(&elements)?)));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> Number {
        Number::parse(text).unwrap()
    }

    #[test]
    fn numbers_print_as_cty_prints_them() {
        assert_eq!(number("1e3").text().as_deref(), Some("1000"));
        // cty rounds 0.1 and 0.2 to binary: their sum's digits are its own.
        assert_eq!(number("0.5").plus(number("0.25")).text().as_deref(), Some("0.75"));
        assert_eq!(number("2").minus(number("5.2")).text(), None);
        assert_eq!(number("1").divided_by(number("4")).unwrap().text().as_deref(), Some("0.25"));
        assert_eq!(number("1").divided_by(number("3")).unwrap().text(), None);
        assert_eq!(number("2").divided_by(number("0")).unwrap().text().as_deref(), Some("+Inf"));
        assert!(number("0").divided_by(number("0")).is_none());
        assert_eq!(number("-7").modulo(number("3")).unwrap().text().as_deref(), Some("-1"));
        assert_eq!(number("5.5").modulo(number("2")).unwrap().text().as_deref(), Some("1.5"));
        assert_eq!(number("007.50").text().as_deref(), Some("7.5"));
        assert_eq!(number("1.5e-3").text().as_deref(), Some("0.0015"));
        assert_eq!(number("123456789012345678901234567890").text().as_deref(), Some("123456789012345678901234567890"));
        assert!(Number::parse("1e99999999999999999999").is_some());
        for bad in ["", "-", ".", "1e", "0x10", " 1", "1_0", "e5", "1.2.3"] {
            assert!(Number::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn conversions_follow_cty() {
        let s = |text: &str| CtyValue::string(text);
        assert_eq!(convert(&s("12"), &CtyType::Number).unwrap().show(), "12");
        assert!(convert(&s("x"), &CtyType::Number).is_err());
        assert_eq!(convert(&s("1"), &CtyType::Bool).unwrap(), CtyValue::bool(true));
        assert!(convert(&s("True"), &CtyType::Bool).unwrap_err().contains("lowercase"));
        let tuple = CtyValue::tuple(vec![s("a"), CtyValue::int(1)]);
        let list = convert(&tuple, &CtyType::List(Box::new(CtyType::Dynamic))).unwrap();
        assert_eq!(list.ty(), CtyType::parse("list(string)").unwrap());
        let set = convert(&CtyValue::tuple(vec![s("b"), s("a"), s("b")]), &CtyType::parse("set(string)").unwrap());
        assert_eq!(set.unwrap().show(), "[\"a\", \"b\"]");
        let mixed = CtyValue::tuple(vec![CtyValue::bool(true), CtyValue::int(1)]);
        assert!(convert(&mixed, &CtyType::List(Box::new(CtyType::Dynamic))).is_err());
        assert_eq!(
            CtyType::parse("object({a = list(number), b = optional(string)})").unwrap().to_string(),
            "object({a = list(number), b = string})"
        );
    }

    #[test]
    fn equality_is_typed_and_unknown_aware() {
        assert_eq!(CtyValue::int(1).equals(&CtyValue::string("1")), Some(false));
        assert_eq!(CtyValue::int(1).equals(&CtyValue::unknown(CtyType::Number)), None);
        assert_eq!(CtyValue::null(CtyType::String).equals(&CtyValue::null(CtyType::Number)), Some(true));
        assert_eq!(number("1.0").compare(&number("1")), Some(std::cmp::Ordering::Equal));
        let sum = number("0.1").plus(number("0.2"));
        assert_eq!((sum.text(), sum.compare(&number("0.3"))), (None, None));
    }
}
