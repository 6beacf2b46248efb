declare_rule! {
    /// ## What it does
    /// Reports an `allow(rule): reason` that silences nothing: no finding
    /// of that rule is where the allow applies (the template, the whole
    /// deployment, or the line below the comment). Like ruff's RUF100.
    ///
    /// ## Why is this bad?
    /// The problem it was written for is gone, or it was never there; left
    /// in place, the allow would silence the next such problem, which nobody
    /// has looked at.
    ///
    /// ## Example
    /// ```yaml
    /// # xtask: allow(stale-image): rebuilt next sprint
    /// release: "3.11"
    /// ```
    /// when the deployment's images are all current.
    ///
    /// ## Fix
    /// Remove the allow, or the rule that no longer applies from its list.
    code: "XTK001", name: "unused-allow", severity: Warning,
}
