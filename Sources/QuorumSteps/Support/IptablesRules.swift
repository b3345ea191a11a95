/// `iptables-save` output, parsed: tables, their chains, and each chain's rules in order, with the words
/// of every rule unquoted the way iptables quotes them (`--comment "116 openvswitch db"`, `\"` inside).
struct IptablesSave: Sendable, Equatable {
    struct Rule: Sendable, Equatable {
        /// The words after `-A CHAIN`, unquoted.
        var words: [String]
        /// The line as printed.
        var line: String

        init(words: [String], line: String) {
            self.words = words
            self.line = line
        }

        /// A rule from its `-A CHAIN …` line.
        init(line: String) {
            self.init(words: Array(IptablesSave.splitWords(line).dropFirst(2)), line: line)
        }
        /// The value of `--comment`, the rule's identity for the `iptables` step.
        var comment: String? {
            guard let at = words.firstIndex(of: "--comment"), at + 1 < words.count else { return nil }
            return words[at + 1]
        }
    }

    struct Table: Sendable, Equatable {
        /// Chains in the order they are declared (`:INPUT ACCEPT [0:0]`).
        var chainNames: [String] = []
        var rules: [String: [Rule]] = [:]
    }

    var tables: [String: Table] = [:]

    func rules(table: String, chain: String) -> [Rule]? {
        guard let t = tables[table], t.chainNames.contains(chain) else { return nil }
        return t.rules[chain] ?? []
    }

    static func parse(_ text: String) -> IptablesSave {
        var result = IptablesSave()
        var current: String?
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = String(raw).trimmingTrailingWhitespace()
            if line.hasPrefix("#") || line.isEmpty { continue }
            if line.hasPrefix("*") {
                let name = String(line.dropFirst())
                current = name
                if result.tables[name] == nil { result.tables[name] = Table() }
            } else if line == "COMMIT" {
                current = nil
            } else if line.hasPrefix(":"), let table = current {
                let name = String(line.dropFirst().prefix { $0 != " " })
                if !(result.tables[table]?.chainNames.contains(name) ?? true) {
                    result.tables[table]?.chainNames.append(name)
                }
            } else if line.hasPrefix("-A "), let table = current {
                let words = splitWords(line)
                guard words.count >= 2 else { continue }
                let chain = words[1]
                if !(result.tables[table]?.chainNames.contains(chain) ?? true) {
                    result.tables[table]?.chainNames.append(chain)
                }
                result.tables[table]?.rules[chain, default: []].append(Rule(words: Array(words.dropFirst(2)), line: line))
            }
        }
        return result
    }

    /// Splits a rule line into words: spaces separate words; `"…"` groups, with `\` escaping the next character.
    static func splitWords(_ line: String) -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var quoted = false
        var escaped = false
        for ch in line {
            if escaped {
                word.append(ch)
                escaped = false
            } else if ch == "\\" && quoted {
                escaped = true
            } else if ch == "\"" {
                quoted.toggle()
                inWord = true
            } else if ch == " " && !quoted {
                if inWord { words.append(word) }
                word = ""
                inWord = false
            } else {
                word.append(ch)
                inWord = true
            }
        }
        if inWord { words.append(word) }
        return words
    }

    /// A word as `iptables-save` prints it: bare when made of `[A-Za-z0-9_-]` only, else double-quoted with
    /// `"`, `\` and `'` escaped (iptables' `xtables_save_string`). Used for comments.
    static func quoteWord(_ word: String) -> String {
        let bare =
            !word.isEmpty
            && word.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
            }
        if bare { return word }
        var out = "\""
        for ch in word {
            if ch == "\"" || ch == "\\" || ch == "'" { out.append("\\") }
            out.append(ch)
        }
        return out + "\""
    }
}

/// An IPv4 address or network in the form iptables prints it: `10.0.0.5` → `10.0.0.5/32`,
/// `10.0.0.5/24` → `10.0.0.0/24`. Nil when it is not one.
func canonicalIPv4Network(_ text: String) -> String? {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 1 || parts.count == 2 else { return nil }
    let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
    guard octets.count == 4 else { return nil }
    var address: UInt32 = 0
    for octet in octets {
        guard !octet.isEmpty, octet.count <= 3, octet.allSatisfy(\.isASCII), let value = UInt32(octet), value <= 255 else { return nil }
        address = address << 8 | value
    }
    var prefix: UInt32 = 32
    if parts.count == 2 {
        guard !parts[1].isEmpty, parts[1].count <= 2, let p = UInt32(parts[1]), p <= 32 else { return nil }
        prefix = p
    }
    let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix)
    let network = address & mask
    let dotted = [24, 16, 8, 0].map { String((network >> UInt32($0)) & 0xff) }.joined(separator: ".")
    return "\(dotted)/\(prefix)"
}
