/// A parsed template: an immutable tree, shared by every render of the same text (see `TemplateCache`).
/// Each tag keeps its position in the text, where its errors are reported.
indirect enum TemplateNode: Sendable {
    /// Text written as is.
    case text(String)
    /// `{{ expression }}`: the value's text (lists and maps JSON-like, null empty), never escaped.
    case output(TemplateExpr, TemplatePosition)
    /// `{% if %}…{% elif %}…{% else %}…{% endif %}`: the first branch whose condition holds.
    case conditional([TemplateBranch])
    /// `{% for %}…{% else %}…{% endfor %}`.
    case loop(TemplateLoop)
    /// `{% set name = expression %}`: visible after it, in the current loop iteration or the whole template.
    case assignment(name: String, TemplateExpr, TemplatePosition)
    /// `{% include 'name' %}`: another template file, rendered with this one's variables.
    case include(TemplateExpr, TemplatePosition)
}

/// One branch of an `if`: `condition` nil for the `else`.
struct TemplateBranch: Sendable {
    var condition: TemplateExpr?
    var position: TemplatePosition
    var body: [TemplateNode]
}

/// `{% for x in list %}`, `{% for k, v in map %}` (the map's written order), `{% for a, b in pairs %}`,
/// optional `if cond` / `where cond` filter, `{% else %}` / `{% empty %}` for no items.
struct TemplateLoop: Sendable {
    var targets: [String]
    var iterable: TemplateExpr
    var filter: TemplateExpr?
    var body: [TemplateNode]
    var otherwise: [TemplateNode]
    var position: TemplatePosition
}
