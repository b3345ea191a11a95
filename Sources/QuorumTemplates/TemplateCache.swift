import Foundation
import QuorumValues

/// Parsed templates and expressions by their text, shared by every render: a playbook renders the same
/// strings for every host, and parsing costs more than evaluating.
///
/// `@unchecked Sendable`: the dictionaries are only touched under `lock`; the cached node trees are never
/// mutated after parsing, and every render brings its own Stencil `Context` and `TemplateScope`.
package final class TemplateCache: @unchecked Sendable {
    package static let shared = TemplateCache()

    /// Beyond this many entries the cache starts over (cheap, and a run rarely has that many texts).
    private let limit = 2048
    private let lock = NSLock()
    private var templates: [String: CompiledTemplate] = [:]
    private var expressions: [String: TemplateExpr] = [:]

    func template(_ text: String) throws(TemplateFailure) -> CompiledTemplate {
        if let cached = lock.withLock({ templates[text] }) { return cached }
        let compiled = try CompiledTemplate.compile(text)
        lock.withLock {
            if templates.count >= limit { templates.removeAll(keepingCapacity: true) }
            templates[text] = compiled
        }
        return compiled
    }

    package func expression(_ text: String) throws(TemplateSyntaxProblem) -> TemplateExpr {
        if let cached = lock.withLock({ expressions[text] }) { return cached }
        let parsed = try ExprParser.parse(text)
        lock.withLock {
            if expressions.count >= limit { expressions.removeAll(keepingCapacity: true) }
            expressions[text] = parsed
        }
        return parsed
    }
}
