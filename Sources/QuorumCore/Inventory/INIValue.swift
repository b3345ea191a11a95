import Foundation

/// The small lexical pieces of Ansible's INI inventory format: shell-like words on host lines, and
/// values typed like Ansible types them (numbers, booleans, lists), quoted values staying text.
enum INIValue {
    struct Word: Equatable {
        var text: String
        /// 1-based column of the word's first character.
        var column: Int
        /// Whether any part of the word was quoted (a quoted value stays a string).
        var quoted: Bool
    }

    struct Problem: Error {
        var message: String
        var column: Int
    }

    /// Splits a host line into words like a POSIX shell: quotes group, `\` escapes, `#` starts a comment.
    static func words(_ line: String) throws(Problem) -> [Word] {
        let chars = Array(line)
        var words: [Word] = []
        var current: Word?
        var index = 0
        func append(_ c: Character, at i: Int, quoted: Bool = false) {
            if current == nil { current = Word(text: "", column: i + 1, quoted: false) }
            current?.text.append(c)
            if quoted { current?.quoted = true }
        }
        while index < chars.count {
            let c = chars[index]
            switch c {
            case _ where c.isWhitespace:
                if let word = current {
                    words.append(word)
                    current = nil
                }
            case "#" where current == nil:
                index = chars.count
                continue
            case "\\":
                index += 1
                if index < chars.count { append(chars[index], at: index - 1) }
            case "'", "\"":
                let start = index
                if current == nil { current = Word(text: "", column: index + 1, quoted: true) }
                current?.quoted = true
                index += 1
                while index < chars.count, chars[index] != c {
                    if c == "\"", chars[index] == "\\", index + 1 < chars.count, "\"\\$`".contains(chars[index + 1]) { index += 1 }
                    current?.text.append(chars[index])
                    index += 1
                }
                if index >= chars.count { throw Problem(message: "unterminated \(c == "'" ? "single" : "double") quote", column: start + 1) }
            default:
                append(c, at: index)
            }
            index += 1
        }
        if let word = current { words.append(word) }
        return words
    }

    /// A `[group:vars]` value: the text after `=`, an inline ` # comment` dropped, surrounding quotes removed.
    static func varsValue(_ raw: String) -> (text: String, quoted: Bool) {
        var text = raw
        var quote: Character?
        var previous: Character = " "
        for index in text.indices {
            let c = text[index]
            if let open = quote {
                if c == open { quote = nil }
            } else if c == "'" || c == "\"" {
                quote = c
            } else if (c == "#" || c == ";") && previous.isWhitespace {
                text = String(text[..<index])
                break
            }
            previous = c
        }
        text = text.trimmingCharacters(in: .whitespaces)
        if text.count >= 2, let first = text.first, first == "'" || first == "\"", text.last == first {
            return (String(text.dropFirst().dropLast()), true)
        }
        return (text, false)
    }

    /// Types an unquoted value like Ansible's INI reader (`ast.literal_eval`): integers, floats,
    /// `True`/`False` (also lower case), `None`, lists and dicts; anything else stays text.
    static func typed(_ text: String, quoted: Bool) -> Value {
        if quoted { return .string(text) }
        switch text {
        case "True", "true": return .bool(true)
        case "False", "false": return .bool(false)
        case "None": return .null
        default: break
        }
        if let number = integer(text) { return .int(number) }
        if text.contains(where: \.isNumber), text.contains(where: { ".eE".contains($0) }),
            text.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE_".contains($0)) }),
            let number = Double(text.replacingOccurrences(of: "_", with: ""))
        {
            return .double(number)
        }
        if let first = text.first, first == "[" || first == "{",
            let node = try? YAMLFile.parse(text, path: "<ini value>"), node.scalar == nil
        {
            return node.value
        }
        return .string(text)
    }

    private static func integer(_ text: String) -> Int? {
        var body = Substring(text)
        var sign = 1
        if let first = body.first, first == "+" || first == "-" {
            sign = first == "-" ? -1 : 1
            body = body.dropFirst()
        }
        let lower = body.lowercased()
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where lower.hasPrefix(prefix) {
            return Int(lower.dropFirst(2).replacingOccurrences(of: "_", with: ""), radix: radix).map { $0 * sign }
        }
        guard let first = body.first, first.isNumber, body.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "_") }),
            !body.hasSuffix("_"), !body.contains("__")
        else { return nil }
        // Python rejects `0644`: leading zeros keep the value text (usually a file mode).
        if body.count > 1 && first == "0" { return nil }
        return Int(body.replacingOccurrences(of: "_", with: "")).map { $0 * sign }
    }
}
