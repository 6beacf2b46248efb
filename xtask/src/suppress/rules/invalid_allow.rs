declare_rule! {
    /// ## What it does
    /// Reports a suppression that cannot be read: not written as
    /// `allow(rule, …): reason`, naming a rule that does not exist, or with
    /// no reason after the colon. An allow without a reason still silences
    /// its rules, so that this is the one finding to fix.
    ///
    /// ## Why is this bad?
    /// A suppression that cannot be read silences nothing, and one without
    /// a reason leaves the next reader to guess whether the finding it hides
    /// is still acceptable.
    ///
    /// ## Example
    /// ```json
    /// { "_xtask": "allow(duplicate-region)", "builders": [ … ] }
    /// ```
    ///
    /// ## Fix
    /// Name existing rules (by name or code) and say why after the colon:
    /// `"_xtask": "allow(duplicate-region): one image per OS per region, by design"`.
    code: "XTK002", name: "invalid-allow", severity: Error,
}
