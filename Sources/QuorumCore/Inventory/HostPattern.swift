import Foundation

/// Ansible host patterns: `all`, `*`, a group, a host, globs (`ctl*`), regexes (`~ctl[0-9]+`),
/// subscripts (`ctl[0]`, `ctl[0:1]`), lists joined by `:` or `,` (union), `&x` (intersection) and
/// `!x` (exclusion). Unions apply first, then intersections, then exclusions.
extension Inventory {
    public func select(_ pattern: String) throws -> [String] {
        try select(pattern, at: nil)
    }

    /// Like `select(_:)`, with the place the pattern was written for the diagnostics.
    public func select(_ pattern: String, at location: SourceLocation?) throws -> [String] {
        let terms = HostPattern.split(pattern)
        guard !terms.isEmpty else { throw ConfigurationError([.error("empty host pattern", at: location)]) }
        var unions: [String] = []
        var intersections: [String] = []
        var exclusions: [String] = []
        for term in terms {
            if term.hasPrefix("!") {
                exclusions.append(String(term.dropFirst()))
            } else if term.hasPrefix("&") {
                intersections.append(String(term.dropFirst()))
            } else {
                unions.append(term)
            }
        }
        var diagnostics = DiagnosticCollector()
        func matched(_ term: String) -> Set<String> {
            do { return Set(try match(term)) } catch {
                diagnostics.error(error.message, at: location, hint: error.hint)
                return []
            }
        }
        var selected = unions.isEmpty ? Set(hosts) : unions.reduce(into: Set<String>()) { $0.formUnion(matched($1)) }
        for term in intersections { selected.formIntersection(matched(term)) }
        for term in exclusions { selected.subtract(matched(term)) }
        try diagnostics.throwIfErrors()
        return hosts.filter(selected.contains)
    }

    /// The hosts one term (without its `!`/`&`) names, in inventory order.
    private func match(_ term: String) throws(HostPattern.Problem) -> [String] {
        if term.isEmpty { throw HostPattern.Problem(message: "empty name in host pattern") }
        if term == "all" || term == "*" { return hosts }
        let (base, slice) = HostPattern.splitSubscript(term)
        var found = Set<String>()
        if base.hasPrefix("~") {
            let regex: Regex<AnyRegexOutput>
            do { regex = try Regex(String(base.dropFirst())) } catch {
                throw HostPattern.Problem(message: "invalid regular expression in host pattern `\(term)`: \(error)")
            }
            for name in groups.keys where (try? regex.firstMatch(in: name)) != nil { found.formUnion(members(of: name)) }
            found.formUnion(hosts.filter { (try? regex.firstMatch(in: $0)) != nil })
        } else if groups[base] != nil {
            found.formUnion(members(of: base))
        } else if hostDetails[base] != nil {
            found.insert(base)
        } else if base.contains(where: { "*?[".contains($0) }) {
            for name in groups.keys where HostPattern.glob(base, matches: name) { found.formUnion(members(of: name)) }
            found.formUnion(hosts.filter { HostPattern.glob(base, matches: $0) })
        } else {
            throw HostPattern.Problem(
                message: "no group or host named `\(base)` in the inventory",
                hint: DidYouMean.hint(for: base, among: groups.keys.sorted() + hosts))
        }
        let ordered = hosts.filter(found.contains)
        if ordered.isEmpty && groups[base] == nil {
            throw HostPattern.Problem(message: "host pattern `\(term)` matches no host")
        }
        guard let slice else { return ordered }
        return try HostPattern.apply(slice, to: ordered, term: term)
    }
}

enum HostPattern {
    struct Problem: Error {
        var message: String
        var hint: String?
    }

    /// The terms of a pattern: split on `,` when there is one, else on `:` outside `[...]`.
    static func split(_ pattern: String) -> [String] {
        let parts: [String]
        if pattern.contains(",") {
            parts = pattern.split(separator: ",").map(String.init)
        } else {
            var result: [String] = []
            var current = ""
            var depth = 0
            for c in pattern {
                if c == "[" { depth += 1 } else if c == "]" { depth = max(0, depth - 1) }
                if c == ":" && depth == 0 {
                    result.append(current)
                    current = ""
                } else {
                    current.append(c)
                }
            }
            parts = result + [current]
        }
        return parts.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// `web[0]`, `web[-1]`, `web[0:2]` (inclusive, like Ansible): the base and the slice.
    static func splitSubscript(_ term: String) -> (String, (Int, Int?)?) {
        guard !term.hasPrefix("~"), term.hasSuffix("]"), let open = term.lastIndex(of: "["), open != term.startIndex else { return (term, nil) }
        let body = term[term.index(after: open)..<term.index(before: term.endIndex)]
        let base = String(term[..<open])
        if let index = Int(body) { return (base, (index, nil)) }
        let parts = body.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.isEmpty || Int($0).map { $0 >= 0 } == true }) else { return (term, nil) }
        return (base, (Int(parts[0]) ?? 0, Int(parts[1]) ?? -1))
    }

    static func apply(_ slice: (Int, Int?), to hosts: [String], term: String) throws(Problem) -> [String] {
        let (start, end) = slice
        let count = hosts.count
        if let end {
            let last = end < 0 ? count - 1 : min(end, count - 1)
            guard start < count, start <= last else { throw Problem(message: "`\(term)` selects no host (there are \(count))") }
            return Array(hosts[start...last])
        }
        let index = start < 0 ? count + start : start
        guard index >= 0, index < count else { throw Problem(message: "`\(term)` is out of range (there are \(count) hosts)") }
        return [hosts[index]]
    }

    /// Shell-style matching: `*`, `?`, `[abc]`, `[a-z]`, `[!x]`.
    static func glob(_ pattern: String, matches name: String) -> Bool {
        glob(Array(pattern)[...], Array(name)[...])
    }

    private static func glob(_ p: ArraySlice<Character>, _ s: ArraySlice<Character>) -> Bool {
        guard let first = p.first else { return s.isEmpty }
        switch first {
        case "*":
            let rest = p.dropFirst()
            var tail = s
            while true {
                if glob(rest, tail) { return true }
                if tail.isEmpty { return false }
                tail = tail.dropFirst()
            }
        case "?":
            return !s.isEmpty && glob(p.dropFirst(), s.dropFirst())
        case "[":
            guard let close = p.dropFirst(2).firstIndex(of: "]") else { fallthrough }
            guard let c = s.first else { return false }
            var set = p[(p.startIndex + 1)..<close]
            let negate = set.first == "!"
            if negate { set = set.dropFirst() }
            var hit = false
            var i = set.startIndex
            while i < set.endIndex {
                if i + 2 < set.endIndex, set[i + 1] == "-" {
                    if set[i] <= c && c <= set[i + 2] { hit = true }
                    i += 3
                } else {
                    if set[i] == c { hit = true }
                    i += 1
                }
            }
            return hit != negate && glob(p[(close + 1)...], s.dropFirst())
        default:
            return s.first == first && glob(p.dropFirst(), s.dropFirst())
        }
    }
}
