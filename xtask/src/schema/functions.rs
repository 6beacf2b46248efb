//! The functions Packer's HCL2 templates can call: the table generated
//! from Packer's sources at each release (`cargo xtask codegen
//! --packer-mirrors`), with the release range that has each function
//! and its signature as Packer declares it. It is the one record of which
//! release has which function: the evaluator, the linter and `images` all
//! read it.

pub use super::function_table::FUNCTIONS;
/// Every function's name, `env` included.
pub use super::function_table::NAMES as PACKER;
use crate::version::Version;

/// The oldest release the table knows: a function it has there may be
/// older still.
pub const OLDEST: Version = Version(1, 6, 6);

/// What a function's value depends on besides its arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purity {
    Pure,
    /// The time of the build: `timestamp`.
    Clock,
    /// A new random value each call: `uuidv4`, `bcrypt`'s salt.
    Random,
    /// The environment of the process: `env`, `pathexpand`'s home.
    Environment,
    /// A remote service: `vault`, `consul_key`, `aws_secretsmanager`.
    Remote,
    /// Files, relative to the template folder: `file`, `templatefile`.
    Filesystem,
}

/// One parameter of a function.
#[derive(Debug)]
pub struct Param {
    pub name: &'static str,
    /// An HCL type constraint: `string`, `list(string)`, `any`.
    pub ty: &'static str,
    /// A null argument is passed to the function rather than refused.
    pub allow_null: bool,
    /// An unknown argument is passed to the function rather than making
    /// the result unknown.
    pub allow_unknown: bool,
}

/// A function's parameters and result from one release on.
#[derive(Debug)]
pub struct Signature {
    /// The first release with this signature.
    pub from: Version,
    pub params: &'static [Param],
    pub variadic: Option<Param>,
    /// The result's type constraint, `any` when it depends on the arguments.
    pub returns: &'static str,
    /// Where the signature was read: repository, version and package.
    pub source: &'static str,
}

/// A function of Packer's HCL2 templates.
#[derive(Debug)]
pub struct Function {
    pub name: &'static str,
    /// The first release that has it ([`OLDEST`] for "that one or older").
    pub since: Version,
    /// The first release that no longer has it.
    pub until: Option<Version>,
    pub purity: Purity,
    /// Its signatures, oldest first: a new one where a release changed it.
    pub signatures: &'static [Signature],
}

impl Function {
    pub fn in_release(&self, version: Version) -> bool {
        self.since <= version && self.until.is_none_or(|until| version < until)
    }

    /// The signature of `version`, the newest for `None`.
    pub fn signature(&self, version: Option<Version>) -> &'static Signature {
        let newest = &self.signatures[self.signatures.len() - 1];
        match version {
            None => newest,
            Some(version) => {
                self.signatures.iter().rev().find(|signature| signature.from <= version).unwrap_or(&self.signatures[0])
            }
        }
    }
}

/// The function named `name`, in any release.
pub fn find(name: &str) -> Option<&'static Function> {
    FUNCTIONS.binary_search_by(|function| function.name.cmp(name)).ok().map(|index| &FUNCTIONS[index])
}

/// Is `name` a function of some release of Packer (`env` included, which
/// only a variable's `default` may call)?
pub fn exists(name: &str) -> bool {
    find(name).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_knows_when_functions_came() {
        assert!(FUNCTIONS.windows(2).all(|pair| pair[0].name < pair[1].name));
        assert!(FUNCTIONS.iter().all(|function| !function.signatures.is_empty()));
        let upper = find("upper").unwrap().signature(None);
        assert_eq!((upper.params.len(), upper.returns), (1, "string"));
        assert!(!find("jsonencode").unwrap().signature(Some(OLDEST)).params[0].allow_null);
        assert!(find("strcontains").unwrap().since > OLDEST);
        assert!(!find("strcontains").unwrap().in_release(OLDEST));
        assert_eq!(find("timestamp").unwrap().purity, Purity::Clock);
        assert!(exists("env") && !exists("tostring"));
    }
}
