import Foundation
import Yams

/// Fills the empty values of a YAML secrets file (kolla-ansible's `passwords.yml`, say) with random
/// passwords, like `kolla-genpwd`. The text is edited in place, line by line, so comments, order, quoting and
/// every other value stay exactly as written; only `key:`, `key: ~`, `key: null`, `key: ""` and `key: ''`
/// (in block style, at any depth of maps) are filled. The result is parsed again and compared with the
/// original before anything is returned.
public enum PasswordFiller {
    public static let defaultLength = 32
    public static let defaultAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

    /// The filled text and the names (`a.b` for nested maps) of the values filled, in file order.
    public struct Result: Sendable {
        public var text: String
        public var filled: [String]
    }

    /// Why the file cannot be filled: each problem with its file:line:col. Never holds a value.
    public static func fill(
        _ text: String, path: String, length: Int = defaultLength, alphabet: String = defaultAlphabet,
        using generator: inout some RandomNumberGenerator
    ) throws(ConfigurationError) -> Result {
        let start = SourceLocation(file: path, line: 1, column: 1)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigurationError([YAMLFile.diagnostic(for: error, path: path)])
        } catch {
            throw ConfigurationError([.error("cannot parse \(path)", at: start)])
        }
        guard let root, case .mapping = root else {
            throw ConfigurationError([.error("a secrets file must be a map of names to values", at: start)])
        }
        var targets: [Target] = []
        collect(root, name: "", into: &targets)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var problems: [Diagnostic] = []
        var filled: [(name: String, password: String)] = []
        for target in targets {
            let location = SourceLocation(file: path, line: target.line, column: target.column)
            guard target.line >= 1, target.line <= lines.count,
                let edited = replaceValue(in: lines[target.line - 1], keyColumn: target.column, key: target.key)
            else {
                problems.append(
                    .error(
                        "`\(target.name)` is empty but not written as `\(target.key.string):` on its own line; fill it by hand",
                        at: location))
                continue
            }
            let password = generate(length: length, alphabet: Array(alphabet), using: &generator)
            lines[target.line - 1] = edited(render(password))
            filled.append((target.name, password))
        }
        guard problems.isEmpty else { throw ConfigurationError(problems) }
        let result = lines.joined(separator: "\n")
        try verify(original: root, filled: result, passwords: Dictionary(filled.map { ($0.name, $0.password) }) { $1 }, path: path)
        return Result(text: result, filled: filled.map(\.name))
    }

    /// An empty value: where its key was written and what the key is.
    struct Target {
        var name: String
        var key: Node.Scalar
        var line: Int
        var column: Int
    }

    /// No tag written but YAML's own: the scalar is resolved by its text (Yams tags quoted scalars `!!str`).
    static func isUntagged(_ scalar: Node.Scalar) -> Bool {
        [Tag.Name.implicit, .nonSpecific, .str].map(\.rawValue).contains(scalar.tag.rawValue)
    }

    static func isEmpty(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, isUntagged(scalar) else { return false }
        switch scalar.style {
        case .plain, .any: return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
        case .singleQuoted, .doubleQuoted: return scalar.string.isEmpty
        default: return false
        }
    }

    static func collect(_ node: Node, name: String, into targets: inout [Target]) {
        switch node {
        case .mapping(let mapping):
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else { continue }
                let path = name.isEmpty ? keyScalar.string : name + "." + keyScalar.string
                if isEmpty(value) {
                    targets.append(Target(name: path, key: keyScalar, line: key.mark?.line ?? 0, column: key.mark?.column ?? 0))
                } else {
                    collect(value, name: path, into: &targets)
                }
            }
        case .sequence(let sequence):
            for (index, item) in sequence.enumerated() { collect(item, name: "\(name)[\(index)]", into: &targets) }
        default:
            break
        }
    }

    /// For the line holding `key:` (key at `keyColumn`, counted in Unicode scalars from 1) and an empty value,
    /// a function giving the line with a new value (a trailing comment kept); nil when the line is not simply that.
    static func replaceValue(in line: String, keyColumn: Int, key: Node.Scalar) -> ((String) -> String)? {
        var scalars = Array(line.unicodeScalars)
        let carriageReturn = scalars.last == "\r"
        if carriageReturn { scalars.removeLast() }
        var index = keyColumn - 1
        guard index >= 0, index < scalars.count else { return nil }
        switch key.style {
        case .singleQuoted, .doubleQuoted:
            let quote = scalars[index]
            index += 1
            while index < scalars.count {
                if quote == "\"" && scalars[index] == "\\" {
                    index += 2
                    continue
                }
                if scalars[index] == quote {
                    if quote == "'" && index + 1 < scalars.count && scalars[index + 1] == "'" {
                        index += 2
                        continue
                    }
                    break
                }
                index += 1
            }
            index += 1
        default:
            let keyScalars = Array(key.string.unicodeScalars)
            guard index + keyScalars.count <= scalars.count, Array(scalars[index..<(index + keyScalars.count)]) == keyScalars else { return nil }
            index += keyScalars.count
        }
        while index < scalars.count, scalars[index] == " " || scalars[index] == "\t" { index += 1 }
        guard index < scalars.count, scalars[index] == ":" else { return nil }
        let head = String(String.UnicodeScalarView(scalars[...index]))
        let rest = Array(scalars[(index + 1)...])
        // A comment starts at a `#` after whitespace; the value before it must be one of the empty forms.
        var commentStart: Int?
        for i in rest.indices where rest[i] == "#" && (i == 0 || rest[i - 1] == " " || rest[i - 1] == "\t") {
            commentStart = i
            break
        }
        let valueText = String(String.UnicodeScalarView(rest[..<(commentStart ?? rest.count)])).trimmingCharacters(in: [" ", "\t"])
        guard ["", "~", "null", "Null", "NULL", "\"\"", "''"].contains(valueText) else { return nil }
        let comment = commentStart.map { " " + String(String.UnicodeScalarView(rest[$0...])) } ?? ""
        return { value in head + " " + value + comment + (carriageReturn ? "\r" : "") }
    }

    static func generate(length: Int, alphabet: [Character], using generator: inout some RandomNumberGenerator) -> String {
        String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
    }

    /// The password as a YAML scalar: plain when it reads back as that same string, else double-quoted.
    static func render(_ password: String) -> String {
        if password.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }),
            YAMLFile.resolve(Node.Scalar(password)) == .string(password)
        {
            return password
        }
        var out = "\""
        for c in password {
            if c == "\\" || c == "\"" { out.append("\\") }
            out.append(c)
        }
        return out + "\""
    }

    /// The filled text parses into the original tree with exactly the filled values changed.
    static func verify(original: Node, filled text: String, passwords: [String: String], path: String) throws(ConfigurationError) {
        var expected: [(String, String)] = []
        flatten(original, name: "", into: &expected)
        expected = expected.map { ($0.0, passwords[$0.0].map { "|string|" + $0 } ?? $0.1) }
        var actual: [(String, String)] = []
        if let node = try? Yams.compose(yaml: text) { flatten(node, name: "", into: &actual) }
        guard expected.map(\.0) == actual.map(\.0), expected.map(\.1) == actual.map(\.1) else {
            throw ConfigurationError([
                .error(
                    "filling \(path) would change more than its empty values; nothing written",
                    at: SourceLocation(file: path, line: 1, column: 1))
            ])
        }
    }

    /// Every scalar as (name, "tag|type|text"), in document order.
    private static func flatten(_ node: Node, name: String, into out: inout [(String, String)]) {
        switch node {
        case .scalar(let scalar):
            let tag = isUntagged(scalar) ? "" : scalar.tag.rawValue
            out.append((name, isEmpty(node) ? "empty" : tag + "|" + YAMLFile.resolve(scalar).typeName + "|" + scalar.string))
        case .mapping(let mapping):
            for (key, value) in mapping {
                let keyText = key.scalar?.string ?? "?"
                flatten(value, name: name.isEmpty ? keyText : name + "." + keyText, into: &out)
            }
        case .sequence(let sequence):
            for (index, item) in sequence.enumerated() { flatten(item, name: "\(name)[\(index)]", into: &out) }
        case .alias:
            out.append((name, "alias"))
        }
    }
}
