import QuorumValues

/// Cuts a template into text and tags, with each tag's line and column, and applies Quorum's whitespace
/// rules before `TemplateParser` sees the segments. Lines are counted, never searched for (Stencil's lexer
/// searched for a line's text, so two identical lines reported the first one), and an unclosed `{{` or
/// `{%` is an error, not dropped.
struct TemplateSegment: Sendable {
    enum Kind: Sendable { case text, output, block, comment }

    var kind: Kind
    /// For text, the text; for tags, what is between the delimiters (without `-`/`+` markers), trimmed.
    var content: String
    /// 1-based line and column of the segment's start, relative to the template text.
    var line: Int
    var column: Int
    /// `{%-` / `{{-`: strip all whitespace before the tag; `-%}` / `-}}`: strip all whitespace after it.
    var trimBefore = false
    var trimAfter = false

    var position: TemplatePosition { TemplatePosition(line: line, column: column) }
}

enum TemplateScanner {
    /// Splits `text` into segments. Throws when a tag is not closed.
    static func scan(_ text: String) throws(TemplateError) -> [TemplateSegment] {
        let bytes = Array(text.utf8)
        var segments: [TemplateSegment] = []
        var index = 0
        var line = 1
        var column = 1
        var textStart = 0
        var textLine = 1
        var textColumn = 1

        func advance(to end: Int) {
            while index < end {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\n") {
                    line += 1
                    column = 1
                } else if byte & 0xC0 != 0x80 {
                    column += 1
                }
                index += 1
            }
        }

        func string(_ from: Int, _ to: Int) -> String {
            String(decoding: bytes[from..<to], as: UTF8.self)
        }

        // Inside `{% raw %}`: where its `{% endraw %}` starts; nothing before it is a tag.
        var rawEnd = 0
        while index < bytes.count {
            guard index >= rawEnd, bytes[index] == UInt8(ascii: "{"), index + 1 < bytes.count else {
                advance(to: index + 1)
                continue
            }
            let kindByte = bytes[index + 1]
            let kind: TemplateSegment.Kind
            switch kindByte {
            case UInt8(ascii: "{"): kind = .output
            case UInt8(ascii: "%"): kind = .block
            case UInt8(ascii: "#"): kind = .comment
            default:
                advance(to: index + 1)
                continue
            }
            if textStart < index {
                segments.append(TemplateSegment(kind: .text, content: string(textStart, index), line: textLine, column: textColumn))
            }
            let tagLine = line
            let tagColumn = column
            let closer: UInt8 = kind == .output ? UInt8(ascii: "}") : kindByte
            // Find the closing delimiter; quotes are skipped inside `{{ }}` and `{% %}` so `'}}'` is allowed.
            var cursor = index + 2
            var quote: UInt8?
            var closeAt: Int?
            while cursor < bytes.count {
                let byte = bytes[cursor]
                if let open = quote {
                    if byte == UInt8(ascii: "\\") {
                        cursor += 2
                        continue
                    }
                    if byte == open { quote = nil }
                } else if kind != .comment, byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") {
                    quote = byte
                } else if byte == closer, cursor + 1 < bytes.count, bytes[cursor + 1] == UInt8(ascii: "}") {
                    closeAt = cursor
                    break
                }
                cursor += 1
            }
            guard let close = closeAt else {
                let opener = kind == .output ? "{{" : kind == .block ? "{%" : "{#"
                let expected = kind == .output ? "}}" : kind == .block ? "%}" : "#}"
                throw TemplateError("`\(opener)` is never closed (expected `\(expected)`)", at: TemplatePosition(line: tagLine, column: tagColumn))
            }
            var innerStart = index + 2
            var innerEnd = close
            var segment = TemplateSegment(kind: kind, content: "", line: tagLine, column: tagColumn)
            if kind != .comment, innerStart < innerEnd {
                if bytes[innerStart] == UInt8(ascii: "-") {
                    segment.trimBefore = true
                    innerStart += 1
                } else if bytes[innerStart] == UInt8(ascii: "+") {
                    innerStart += 1
                }
            }
            if kind != .comment, innerStart < innerEnd {
                if bytes[innerEnd - 1] == UInt8(ascii: "-") {
                    segment.trimAfter = true
                    innerEnd -= 1
                } else if bytes[innerEnd - 1] == UInt8(ascii: "+") {
                    innerEnd -= 1
                }
            }
            segment.content = innerStart < innerEnd ? string(innerStart, innerEnd).trimmingWhitespace : ""
            segments.append(segment)
            advance(to: close + 2)
            if kind == .block, segment.content == "raw" {
                guard let end = endRaw(in: bytes, from: index) else {
                    throw TemplateError("`{% raw %}` is never closed (expected `{% endraw %}`)", at: segment.position)
                }
                rawEnd = end
            }
            textStart = index
            textLine = line
            textColumn = column
        }
        if textStart < bytes.count {
            segments.append(TemplateSegment(kind: .text, content: string(textStart, bytes.count), line: textLine, column: textColumn))
        }
        return segments
    }

    /// Where the `{% endraw %}` (`-`/`+` markers and blanks allowed) after `start` begins.
    private static func endRaw(in bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: "{"), bytes[index + 1] == UInt8(ascii: "%") {
                var cursor = index + 2
                if cursor < bytes.count, bytes[cursor] == UInt8(ascii: "-") || bytes[cursor] == UInt8(ascii: "+") { cursor += 1 }
                while cursor < bytes.count, bytes[cursor] == UInt8(ascii: " ") || bytes[cursor] == UInt8(ascii: "\t") { cursor += 1 }
                if Array(bytes[cursor..<min(cursor + 6, bytes.count)]) == Array("endraw".utf8) { return index }
            }
            index += 1
        }
        return nil
    }

    /// Applies the whitespace rules, like Jinja's `trim_blocks` + `lstrip_blocks` but only for whole lines:
    /// - a line holding nothing but `{% %}`/`{# #}` tags and blanks disappears entirely, newline included;
    /// - everything else is kept as written: a tag in the middle of a line strips nothing (Stencil's
    ///   `trimBehaviour: .smart` would strip the blanks before it and the newline after it, gluing
    ///   `server a {% if b %}backup{% endif %}` into `server abackup` and joining it to the next line);
    /// - `{%-`, `-%}`, `{{-`, `-}}` strip all whitespace, newlines included, on their side.
    static func trim(_ segments: [TemplateSegment]) -> [TemplateSegment] {
        enum Item {
            case text(Substring)
            case newline
            case tag(Int)
        }
        var items: [Item] = []
        for (offset, segment) in segments.enumerated() {
            if segment.kind == .text {
                var first = true
                for piece in segment.content.split(separator: "\n", omittingEmptySubsequences: false) {
                    if !first { items.append(.newline) }
                    first = false
                    if !piece.isEmpty { items.append(.text(piece)) }
                }
            } else {
                items.append(.tag(offset))
            }
        }

        // Lines: runs of items between newlines. Drop the standalone ones.
        var kept: [Item] = []
        var lineStart = 0
        while lineStart < items.count {
            var lineEnd = lineStart
            while lineEnd < items.count, !isNewline(items[lineEnd]) { lineEnd += 1 }
            var hasTag = false
            var standalone = true
            for item in items[lineStart..<lineEnd] {
                switch item {
                case .text(let text):
                    if !text.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { standalone = false }
                case .tag(let offset):
                    if segments[offset].kind == .output { standalone = false } else { hasTag = true }
                case .newline:
                    break
                }
            }
            if hasTag, standalone {
                for item in items[lineStart..<lineEnd] {
                    if case .tag = item { kept.append(item) }
                }
                // The newline ending the line goes too.
                lineStart = lineEnd < items.count ? lineEnd + 1 : lineEnd
            } else {
                kept.append(contentsOf: items[lineStart..<lineEnd])
                if lineEnd < items.count { kept.append(.newline) }
                lineStart = lineEnd + 1
            }
        }

        // Rebuild segments.
        var result: [TemplateSegment] = []
        var pending = ""
        var pendingLine = 1
        var pendingColumn = 1
        func flush() {
            if !pending.isEmpty {
                result.append(TemplateSegment(kind: .text, content: pending, line: pendingLine, column: pendingColumn))
            }
            pending = ""
        }
        for item in kept {
            switch item {
            case .text(let text): pending += text
            case .newline: pending += "\n"
            case .tag(let offset):
                flush()
                result.append(segments[offset])
                pendingLine = segments[offset].line
                pendingColumn = segments[offset].column
            }
        }
        flush()

        // Explicit `-` markers.
        for offset in result.indices where result[offset].kind != .text {
            if result[offset].trimBefore, offset > 0, result[offset - 1].kind == .text {
                result[offset - 1].content = String(result[offset - 1].content.reversed().drop(while: \.isWhitespace).reversed())
            }
            if result[offset].trimAfter, offset + 1 < result.count, result[offset + 1].kind == .text {
                result[offset + 1].content = String(result[offset + 1].content.drop(while: \.isWhitespace))
            }
        }
        return result.filter { $0.kind != .text || !$0.content.isEmpty }

        func isNewline(_ item: Item) -> Bool {
            if case .newline = item { return true }
            return false
        }
    }
}

extension String {
    var trimmingWhitespace: String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
