import Synchronization

/// Parsed templates and expressions by their text, shared by every render: a playbook renders the same
/// strings for every host, and parsing costs more than evaluating. The parsed trees are immutable
/// `Sendable` values; every render brings its own `TemplateScope`.
package final class TemplateCache: Sendable {
    package static let shared = TemplateCache()

    /// Beyond this many entries a cache starts over (cheap, and a run rarely has that many texts).
    private static let limit = 2048
    private let templates = Mutex<[String: [TemplateNode]]>([:])
    private let expressions = Mutex<[String: TemplateExpr]>([:])

    func template(_ text: String) throws(TemplateError) -> [TemplateNode] {
        try Self.cached(text, in: templates, parse: TemplateParser.parse)
    }

    package func expression(_ text: String) throws(TemplateError) -> TemplateExpr {
        try Self.cached(text, in: expressions, parse: ExprParser.parse)
    }

    private static func cached<Parsed: Sendable>(
        _ text: String, in cache: borrowing Mutex<[String: Parsed]>, parse: (String) throws(TemplateError) -> Parsed
    ) throws(TemplateError) -> Parsed {
        if let found = cache.withLock({ $0[text] }) { return found }
        let parsed = try parse(text)
        cache.withLock { entries in
            if entries.count >= limit { entries.removeAll(keepingCapacity: true) }
            entries[text] = parsed
        }
        return parsed
    }
}
