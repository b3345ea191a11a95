import QuorumCore

/// An oslo.config-style INI file held as its original lines, so that editing one option leaves every other
/// byte (comments, blank lines, spacing, order, unknown lines, line endings) exactly as it was.
///
/// Reading follows oslo.config's own parser (`oslo_config/iniparser.py`):
/// - a line is right-stripped first; an empty line ends a multi-line value;
/// - a line starting with a space or tab continues the previous option's value (joined with `\n`);
/// - `[name]` starts a section; the name is taken verbatim and is case-sensitive; a section may appear
///   in several blocks, and oslo merges them;
/// - `#` or `;` at the start of a line is a comment;
/// - otherwise `key = value` or `key: value` (whichever separator comes first); key and value are stripped,
///   and one pair of matching quotes around the value is removed.
/// Lines oslo would reject (an option before any section, a stray indented line) are kept untouched.
///
/// Editing: the first occurrence of an option is the managed one; setting an option rewrites its value in
/// place (keeping the key's spelling and the spacing around the separator) and removes later duplicates.
/// A new option goes right after the last option of the section's first block (or, in a block without
/// options, after its last non-blank line); a new section is appended at the end of the file.
public struct IniDocument: Sendable, Equatable {
    /// One physical line, without its `\n` (a CRLF file keeps its `\r` here).
    struct Line: Sendable, Equatable {
        var bytes: [UInt8]
        var hasNewline: Bool
    }

    /// An option as oslo reads it: its lines, and its value.
    public struct Option: Sendable, Equatable {
        /// The section it belongs to; nil for an option written before any section header.
        public var section: String?
        public var key: String
        public var value: String
        /// The option line and its continuation lines.
        var lines: Range<Int>
        /// Bytes of the option line before the value (key, separator and the spacing around them).
        var prefix: [UInt8]
    }

    /// A block of lines: a section header and everything up to the next header.
    struct Block: Sendable, Equatable {
        var name: String
        var header: Int
        var end: Int
    }

    private(set) var lines: [Line]

    public init(_ content: [UInt8]) {
        var lines: [Line] = []
        var current: [UInt8] = []
        for byte in content {
            if byte == 0x0A {
                lines.append(Line(bytes: current, hasNewline: true))
                current = []
            } else {
                current.append(byte)
            }
        }
        if !current.isEmpty { lines.append(Line(bytes: current, hasNewline: false)) }
        self.lines = lines
    }

    public init(_ text: String) { self.init(Array(text.utf8)) }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        for line in lines {
            out += line.bytes
            if line.hasNewline { out.append(0x0A) }
        }
        return out
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    // MARK: Reading

    private enum Kind {
        case blank, comment, section(String), option(key: String, prefixCount: Int, value: String), continuation(String), other
    }

    /// Classifies each line as oslo would, continuation lines included.
    private func classify() -> [Kind] {
        var kinds: [Kind] = []
        var inOption = false
        for line in lines {
            let text = String(decoding: line.bytes, as: UTF8.self)
            let stripped = IniDocument.rstrip(text)
            let kind: Kind
            if stripped.isEmpty {
                kind = .blank
            } else if stripped.hasPrefix(" ") || stripped.hasPrefix("\t") {
                kind = inOption ? .continuation(IniDocument.lstrip(stripped)) : .other
            } else if stripped.hasPrefix("[") {
                kind =
                    stripped.count >= 3 && stripped.hasSuffix("]")
                    ? .section(String(stripped.dropFirst().dropLast())) : .other
            } else if stripped.hasPrefix("#") || stripped.hasPrefix(";") {
                kind = .comment
            } else if let option = IniDocument.splitOption(line.bytes) {
                kind = .option(key: option.key, prefixCount: option.prefixCount, value: option.value)
            } else {
                kind = .other
            }
            switch kind {
            case .option, .continuation: inOption = true
            default: inOption = false
            }
            kinds.append(kind)
        }
        return kinds
    }

    /// Every option in file order.
    public var options: [Option] {
        let kinds = classify()
        var result: [Option] = []
        var section: String?
        for (index, kind) in kinds.enumerated() {
            switch kind {
            case .section(let name):
                section = name
            case .option(let key, let prefixCount, let value):
                result.append(
                    Option(
                        section: section, key: key, value: value, lines: index..<(index + 1),
                        prefix: Array(lines[index].bytes.prefix(prefixCount))))
            case .continuation(let more):
                guard var last = result.popLast() else { break }
                last.value += "\n" + more
                last.lines = last.lines.lowerBound..<(index + 1)
                result.append(last)
            default:
                break
            }
        }
        return result
    }

    /// The section blocks in file order.
    var blocks: [Block] {
        var result: [Block] = []
        for (index, kind) in classify().enumerated() {
            if case .section(let name) = kind {
                if var last = result.popLast() {
                    last.end = index
                    result.append(last)
                }
                result.append(Block(name: name, header: index, end: lines.count))
            }
        }
        return result
    }

    public var sectionNames: [String] {
        var seen: [String] = []
        for block in blocks where !seen.contains(block.name) { seen.append(block.name) }
        return seen
    }

    /// The values of every occurrence of `key` in `section` (all its blocks), in file order.
    public func values(_ section: String, _ key: String) -> [String] {
        occurrences(section, key).map(\.value)
    }

    /// The value oslo uses for an ordinary (single-valued) option: the last occurrence.
    public func value(_ section: String, _ key: String) -> String? {
        values(section, key).last
    }

    private func occurrences(_ section: String, _ key: String) -> [Option] {
        options.filter { $0.section == section && $0.key == key }
    }

    // MARK: Editing

    /// Sets `key` in `section` to `value`: one occurrence with that value. Returns whether anything changed.
    /// Throws when the value cannot be written so that oslo reads it back identically.
    @discardableResult
    public mutating func set(_ section: String, _ key: String, _ value: String) throws -> Bool {
        try IniDocument.validate(section: section, key: key)
        let valueLines = try IniDocument.encode(value)
        let found = occurrences(section, key)
        if found.count == 1, found[0].value == value { return false }

        if let first = found.first {
            var firstLine = first.prefix
            if let last = firstLine.last, last == UInt8(ascii: "=") || last == UInt8(ascii: ":"),
                firstLine.count >= 2, firstLine[firstLine.count - 2] == UInt8(ascii: " ")
            {
                firstLine.append(UInt8(ascii: " "))  // `key =` had no value: write `key = value`
            }
            firstLine += Array(valueLines[0].utf8)
            var replacement = [line(firstLine)]
            replacement += valueLines.dropFirst().map { line(Array(("    " + $0).utf8)) }
            if !lines[first.lines.upperBound - 1].hasNewline {
                replacement[replacement.count - 1].hasNewline = false
            }
            // Remove later duplicates from the bottom up so earlier ranges stay valid.
            for duplicate in found.dropFirst().reversed() { lines.removeSubrange(duplicate.lines) }
            lines.replaceSubrange(first.lines, with: replacement)
            return true
        }

        let newLines =
            [line(Array((key + " = " + valueLines[0]).utf8))]
            + valueLines.dropFirst().map { line(Array(("    " + $0).utf8)) }
        if let block = blocks.first(where: { $0.name == section }) {
            let inBlock = options.filter { $0.lines.lowerBound > block.header && $0.lines.lowerBound < block.end }
            var at: Int
            if let last = inBlock.last {
                at = last.lines.upperBound
            } else {
                at = block.header + 1
                for index in (block.header + 1)..<block.end where !isBlank(index) { at = index + 1 }
            }
            if at > 0, !lines[at - 1].hasNewline { lines[at - 1].hasNewline = true }
            lines.insert(contentsOf: newLines, at: at)
        } else {
            if let last = lines.indices.last {
                lines[last].hasNewline = true
                if !isBlank(last) { lines.append(line([])) }
            }
            lines.append(line(Array(("[" + section + "]").utf8)))
            lines += newLines
        }
        return true
    }

    /// Removes every occurrence of `key` in `section`. Returns the removed values (empty when none).
    @discardableResult
    public mutating func remove(_ section: String, _ key: String) -> [String] {
        let found = occurrences(section, key)
        for occurrence in found.reversed() { lines.removeSubrange(occurrence.lines) }
        return found.map(\.value)
    }

    // MARK: Values

    /// The lines that make oslo read back exactly `value`: the first line's text (quoted when oslo would
    /// otherwise strip spaces or quotes from it) and continuation lines for a multi-line value.
    public static func encode(_ value: String) throws -> [String] {
        if value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\0" }) {
            throw StepFailure("an INI value cannot contain a carriage return or NUL character")
        }
        let parts = value.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for more in parts.dropFirst() where more.isEmpty || strip(more) != more {
            throw StepFailure(
                "a multi-line INI value cannot have empty lines or lines with leading or trailing spaces",
                detail: "oslo.config reads continuation lines stripped and ends a value at an empty line")
        }
        var first = parts[0]
        if strip(first) != first || unquote(first) != first { first = "\"" + first + "\"" }
        return [first] + parts.dropFirst()
    }

    /// Section and option names that can be written as a header or a key and read back as given.
    static func validate(section: String, key: String) throws {
        let badSection =
            section.isEmpty || section.contains("\n") || section.contains("\r") || section.contains("]")
            || strip(section) != section
        if badSection { throw StepFailure("invalid INI section name `\(section)`") }
        let badKey =
            key.isEmpty || strip(key) != key || key.contains("=") || key.contains(":")
            || key.contains("\n") || key.contains("\r") || key.hasPrefix("[") || key.hasPrefix("#") || key.hasPrefix(";")
        if badKey { throw StepFailure("invalid INI option name `\(key)` in section [\(section)]") }
    }

    // MARK: Helpers

    private func line(_ bytes: [UInt8]) -> Line {
        Line(bytes: bytes + (usesCRLF ? [0x0D] : []), hasNewline: true)
    }

    private var usesCRLF: Bool {
        guard let first = lines.first(where: \.hasNewline) else { return false }
        return first.bytes.last == 0x0D
    }

    private func isBlank(_ index: Int) -> Bool {
        IniDocument.rstrip(String(decoding: lines[index].bytes, as: UTF8.self)).isEmpty
    }

    /// Key, value and the length of the bytes before the value, following oslo's `_split_key_value`.
    private static func splitOption(_ bytes: [UInt8]) -> (key: String, prefixCount: Int, value: String)? {
        guard let sep = bytes.firstIndex(where: { $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: ":") }) else { return nil }
        let key = strip(String(decoding: bytes[..<sep], as: UTF8.self))
        guard !key.isEmpty else { return nil }
        var valueStart = sep + 1
        while valueStart < bytes.count, bytes[valueStart] == 0x20 || bytes[valueStart] == 0x09 { valueStart += 1 }
        let value = unquote(strip(String(decoding: bytes[valueStart...], as: UTF8.self)))
        return (key, valueStart, value)
    }

    static func unquote(_ value: String) -> String {
        guard let first = value.first, first == "\"" || first == "'", value.last == first else { return value }
        return value.count >= 2 ? String(value.dropFirst().dropLast()) : ""
    }

    static func strip(_ text: String) -> String { lstrip(rstrip(text)) }

    static func rstrip(_ text: String) -> String {
        var scalars = Substring(text).unicodeScalars
        while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }

    static func lstrip(_ text: String) -> String {
        var scalars = Substring(text).unicodeScalars
        while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
        return String(scalars)
    }
}
