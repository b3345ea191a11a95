/// OpenSSH host patterns, as used by `Host` lines in ssh_config and by the host field of known_hosts:
/// `*` matches any run of characters, `?` exactly one, matching is case-insensitive, and a pattern
/// starting with `!` is a negation that vetoes the whole list when it matches.
public enum HostPatterns {
    /// Whether `name` matches the glob `pattern` (no negation here).
    public static func glob(_ name: String, _ pattern: String) -> Bool {
        let n = Array(name.lowercased().unicodeScalars)
        let p = Array(pattern.lowercased().unicodeScalars)
        // Iterative matcher with one backtrack point for the last `*` seen.
        var ni = 0
        var pi = 0
        var starP = -1
        var starN = 0
        while ni < n.count {
            if pi < p.count, p[pi] == "?" || p[pi] == n[ni] {
                ni += 1
                pi += 1
            } else if pi < p.count, p[pi] == "*" {
                starP = pi
                starN = ni
                pi += 1
            } else if starP >= 0 {
                pi = starP + 1
                starN += 1
                ni = starN
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    /// OpenSSH's pattern-list rule: true when some positive pattern matches and no negated one does.
    public static func matchList(_ name: String, _ patterns: [String]) -> Bool {
        var positive = false
        for pattern in patterns where !pattern.isEmpty {
            if pattern.hasPrefix("!") {
                if glob(name, String(pattern.dropFirst())) { return false }
            } else if glob(name, pattern) {
                positive = true
            }
        }
        return positive
    }
}
