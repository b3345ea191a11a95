import Foundation

/// An OpenSSH client configuration (`~/.ssh/config`, `-F FILE`), parsed once, queried per host.
///
/// Only what Quorum uses is interpreted (see `SSHHostConfig`); every other keyword is kept and ignored, as
/// several client versions share one file. `Include` is followed (relative paths under `~/.ssh`, globs).
public struct SSHConfig: Sendable {
    /// One `Keyword arguments` line with the `Host`/`Match` conditions it sits under.
    struct Directive: Sendable {
        var keyword: String
        var arguments: [String]
        var location: String
        /// All must hold (an `Include` inside a block adds the including block's condition).
        var conditions: [Condition]
    }

    enum Condition: Sendable {
        /// `Host` patterns, matched against the name given to ssh.
        case host([String])
        /// `Match` criteria, all of which must hold.
        case match([MatchCriterion])
    }

    struct MatchCriterion: Sendable {
        enum Kind: Sendable { case all, host, originalHost, user, localUser, never }
        var kind: Kind
        var patterns: [String]
        var negated: Bool
    }

    var directives: [Directive] = []
    /// The files read, the top one first (for messages).
    public private(set) var files: [String] = []
    /// Non-fatal findings (`Match` criteria Quorum cannot evaluate, whose blocks never apply).
    public private(set) var warnings: [String] = []

    /// An empty configuration (no file).
    public init() {}

    /// Reads `path`; a missing file is an empty configuration when `optional`.
    public static func load(_ path: String, optional: Bool = false) throws -> SSHConfig {
        try read([path], optional: optional)
    }

    /// Parses `text` as if read from `path` (includes are resolved on disk).
    public static func parse(_ text: String, path: String) throws -> SSHConfig {
        var parser = SSHConfigParser(config: SSHConfig())
        parser.config.files.append(path)
        parser.parse(text, path: path, conditions: [], depth: 0)
        try parser.finish()
        return parser.config
    }

    /// These files in order, missing ones skipped (OpenSSH reads `~/.ssh/config` then `/etc/ssh/ssh_config`;
    /// the first value wins).
    public static func load(chain paths: [String]) throws -> SSHConfig {
        try read(paths, optional: true)
    }

    private static func read(_ paths: [String], optional: Bool) throws -> SSHConfig {
        var parser = SSHConfigParser(config: SSHConfig())
        for path in paths { parser.readFile(path, conditions: [], depth: 0, optional: optional) }
        try parser.finish()
        return parser.config
    }

    mutating func append(_ directive: Directive) { directives.append(directive) }
    mutating func noteFile(_ path: String) { files.append(path) }
    mutating func warn(_ text: String) { warnings.append(text) }
}

/// A problem in an ssh_config file (or in ssh options given on a command line), with `file:line`.
public struct SSHConfigError: Error, Sendable, CustomStringConvertible {
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var location: String
        public var message: String
        public var description: String { "\(location): error: \(message)" }
    }

    public var problems: [Problem]

    public init(_ problems: [Problem]) { self.problems = problems }
    public init(at location: String, _ message: String) { problems = [Problem(location: location, message: message)] }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// Reads ssh_config text into directives, following `Include`, collecting every problem.
struct SSHConfigParser {
    var config: SSHConfig
    var problems: [SSHConfigError.Problem] = []
    static let maxIncludeDepth = 16

    init(config: SSHConfig) { self.config = config }

    func finish() throws {
        if !problems.isEmpty { throw SSHConfigError(problems) }
    }

    mutating func readFile(_ path: String, conditions: [SSHConfig.Condition], depth: Int, optional: Bool) {
        let expanded = expandTilde(path)
        guard let data = FileManager.default.contents(atPath: expanded) else {
            if optional { return }
            let reason = FileManager.default.fileExists(atPath: expanded) ? "cannot be read" : "does not exist"
            problems.append(.init(location: expanded, message: "ssh_config file \(expanded) \(reason)"))
            return
        }
        config.noteFile(expanded)
        parse(String(decoding: data, as: UTF8.self), path: expanded, conditions: conditions, depth: depth)
    }

    mutating func parse(_ text: String, path: String, conditions outer: [SSHConfig.Condition], depth: Int) {
        var block: SSHConfig.Condition?
        var lineNumber = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let location = "\(path):\(lineNumber)"
            let words: [String]
            do {
                words = try SSHConfigLexer.split(String(raw))
            } catch {
                problems.append(.init(location: location, message: "\(error)"))
                continue
            }
            guard let first = words.first else { continue }
            let keyword = first.lowercased()
            let arguments = Array(words.dropFirst())
            switch keyword {
            case "host":
                guard !arguments.isEmpty else {
                    problems.append(.init(location: location, message: "Host needs at least one pattern"))
                    continue
                }
                block = .host(arguments)
            case "match":
                block = parseMatch(arguments, location: location)
            case "include":
                guard !arguments.isEmpty else {
                    problems.append(.init(location: location, message: "Include needs a file name"))
                    continue
                }
                guard depth < Self.maxIncludeDepth else {
                    problems.append(.init(location: location, message: "Include nested more than \(Self.maxIncludeDepth) deep"))
                    continue
                }
                let inner = outer + (block.map { [$0] } ?? [])
                for pattern in arguments {
                    for file in Self.includeFiles(pattern, includingFile: path) {
                        readFile(file, conditions: inner, depth: depth + 1, optional: true)
                    }
                }
            default:
                if let problem = SSHConfigValues.check(keyword, arguments) {
                    problems.append(.init(location: location, message: problem))
                    continue
                }
                config.append(
                    .init(
                        keyword: keyword, arguments: arguments, location: location,
                        conditions: outer + (block.map { [$0] } ?? [])))
            }
        }
    }

    private mutating func parseMatch(_ arguments: [String], location: String) -> SSHConfig.Condition? {
        var criteria: [SSHConfig.MatchCriterion] = []
        var index = 0
        while index < arguments.count {
            var word = arguments[index].lowercased()
            index += 1
            let negated = word.hasPrefix("!")
            if negated { word.removeFirst() }
            switch word {
            case "all", "final":
                criteria.append(.init(kind: .all, patterns: [], negated: negated))
            case "canonical":
                criteria.append(.init(kind: .never, patterns: [], negated: negated))
            case "host", "originalhost", "user", "localuser":
                guard index < arguments.count else {
                    problems.append(.init(location: location, message: "Match \(word) needs patterns"))
                    return nil
                }
                let patterns = arguments[index].split(separator: ",").map(String.init)
                index += 1
                let kind: SSHConfig.MatchCriterion.Kind =
                    switch word {
                    case "host": .host
                    case "originalhost": .originalHost
                    case "user": .user
                    default: .localUser
                    }
                criteria.append(.init(kind: kind, patterns: patterns, negated: negated))
            default:
                // exec, localnetwork, tagged…: not evaluated, so the block never applies.
                config.warn("\(location): Match \(word) is not supported by Quorum; this Match block is ignored")
                if index < arguments.count { index += 1 }
                criteria.append(.init(kind: .never, patterns: [], negated: false))
            }
        }
        if criteria.isEmpty {
            problems.append(.init(location: location, message: "Match needs criteria (e.g. Match host NAME, Match all)"))
            return nil
        }
        return .match(criteria)
    }

    /// `Include` arguments: `~` expanded, relative names under `~/.ssh` (user files) or `/etc/ssh`, globs.
    /// As in OpenSSH, a name that matches no file is skipped without error.
    static func includeFiles(_ pattern: String, includingFile: String) -> [String] {
        var path = expandTilde(pattern)
        if !path.hasPrefix("/") {
            let base = includingFile.hasPrefix("/etc/ssh/") ? "/etc/ssh" : expandTilde("~/.ssh")
            path = base + "/" + path
        }
        var result = glob_t()
        defer { globfree(&result) }
        guard glob(path, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }
}

/// Splits one ssh_config line like OpenSSH: the keyword ends at whitespace or `=`; arguments are separated by
/// whitespace, double quotes group, an unquoted `#` starting a word ends the line.
enum SSHConfigLexer {
    struct Unbalanced: Error, CustomStringConvertible {
        var description: String { "unbalanced quotes" }
    }

    static func split(_ line: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quoted = false
        var sawKeyword = false
        var chars = Array(line.trimmingCharacters(in: .whitespaces))
        if chars.last == "\r" { chars.removeLast() }
        var i = 0
        func endWord() {
            if inWord { words.append(current) }
            current = ""
            inWord = false
        }
        while i < chars.count {
            let c = chars[i]
            i += 1
            if quoted {
                if c == "\"" { quoted = false } else { current.append(c) }
                continue
            }
            switch c {
            case "\"":
                quoted = true
                inWord = true
            case " ", "\t":
                endWord()
                if words.count == 1, !sawKeyword {
                    // `Keyword = value`: one `=` may follow the keyword after spaces.
                    while i < chars.count, chars[i] == " " || chars[i] == "\t" { i += 1 }
                    if i < chars.count, chars[i] == "=" { i += 1 }
                    sawKeyword = true
                }
            case "=" where words.isEmpty && inWord && !sawKeyword:
                endWord()
                sawKeyword = true
            case "#" where !inWord:
                if words.isEmpty { return [] }
                i = chars.count
            default:
                current.append(c)
                inWord = true
            }
        }
        if quoted { throw Unbalanced() }
        endWord()
        return words
    }
}
