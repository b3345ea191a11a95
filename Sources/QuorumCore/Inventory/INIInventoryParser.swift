import Foundation

/// Reads Ansible's INI inventory format: `[group]` host lines with inline `key=value` variables,
/// `[group:vars]`, `[group:children]`; hosts before any section are ungrouped; `#` and `;` comments.
enum INIInventoryParser {
    private enum Section {
        case hosts(String)
        case vars(String)
        case children(String)
    }

    static func parse(_ text: String, path: String, into builder: inout InventoryBuilder) {
        var section = Section.hosts("ungrouped")
        /// Groups with a `[name]` or `[name:children]` section: the ones that are really defined.
        var defined: Set<String> = ["all", "ungrouped"]
        var varsSections: [(name: String, location: SourceLocation)] = []
        var childLinks: [(name: String, location: SourceLocation)] = []
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.hasSuffix("\r") ? String(rawLine.dropLast()) : String(rawLine)
            let indent = line.prefix(while: \.isWhitespace).count
            let content = line.trimmingCharacters(in: .whitespaces)
            let at = { (column: Int) in SourceLocation(file: path, line: offset + 1, column: column) }
            if content.isEmpty || content.hasPrefix("#") || content.hasPrefix(";") { continue }
            if content.hasPrefix("[") {
                guard let header = parseHeader(content, at: at(indent + 1), into: &builder) else {
                    section = .hosts("\u{0}invalid")
                    continue
                }
                section = header
                switch header {
                case .hosts(let name), .children(let name): defined.insert(name)
                case .vars(let name): varsSections.append((name, at(indent + 2)))
                }
                continue
            }
            switch section {
            case .hosts(let group):
                if group.hasPrefix("\u{0}") { continue }
                parseHostLine(line, group: group, at: at, into: &builder)
            case .vars(let group):
                parseVarsLine(content, group: group, at: at(indent + 1), into: &builder)
            case .children(let group):
                let words = (try? INIValue.words(line)) ?? []
                guard words.count == 1, let child = words.first else {
                    builder.diagnostics.error("expected one group name per line in [\(group):children], got `\(content)`", at: at(indent + 1))
                    continue
                }
                builder.addChild(child.text, to: group, at: at(child.column))
                childLinks.append((child.text, at(child.column)))
            }
        }
        let known = builder.groupOrder.filter(defined.contains)
        for (name, location) in childLinks where !defined.contains(name) {
            builder.diagnostics.append(contentsOf: [
                Diagnostic(
                    .warning, "group `\(name)` is not defined; it is created empty",
                    at: location, hint: DidYouMean.hint(for: name, among: known))
            ])
            defined.insert(name)
        }
        for (name, location) in varsSections where !defined.contains(name) {
            builder.diagnostics.append(contentsOf: [
                Diagnostic(
                    .warning, "[\(name):vars] is for a group with no hosts and no children",
                    at: location, hint: DidYouMean.hint(for: name, among: known))
            ])
        }
    }

    private static func parseHeader(_ content: String, at location: SourceLocation, into builder: inout InventoryBuilder) -> Section? {
        var header = content
        if let close = header.firstIndex(of: "]") {
            let after = header[header.index(after: close)...].trimmingCharacters(in: .whitespaces)
            guard after.isEmpty || after.hasPrefix("#") || after.hasPrefix(";") else {
                builder.diagnostics.error("unexpected text after section header: `\(after)`", at: location)
                return nil
            }
            header = String(header[header.index(after: header.startIndex)..<close])
        } else {
            builder.diagnostics.error("section header `\(content)` is missing its closing `]`", at: location)
            return nil
        }
        let parts = header.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let name = parts[0]
        guard builder.declareGroup(name, at: location) else { return nil }
        guard parts.count == 2 else { return .hosts(name) }
        switch parts[1] {
        case "vars": return .vars(name)
        case "children": return .children(name)
        default:
            builder.diagnostics.error(
                "unknown section kind `:\(parts[1])` in `[\(header)]` (a section is [group], [group:vars] or [group:children])",
                at: location, hint: DidYouMean.hint(for: parts[1], among: ["vars", "children"]))
            return nil
        }
    }

    private static func parseHostLine(_ line: String, group: String, at: (Int) -> SourceLocation, into builder: inout InventoryBuilder) {
        let words: [INIValue.Word]
        do {
            words = try INIValue.words(line)
        } catch {
            builder.diagnostics.error(error.message, at: at(error.column))
            return
        }
        guard let first = words.first else { return }
        let names: [String]
        let port: Int?
        do {
            (names, port) = try HostName.parse(first.text)
        } catch {
            let hint =
                first.text.contains("=") && group == "ungrouped"
                ? "variables for every host go in an [all:vars] section" : nil
            builder.diagnostics.error(error.message, at: at(first.column), hint: hint)
            return
        }
        var variables: [(String, Value, SourceLocation)] = []
        for word in words.dropFirst() {
            guard let equals = word.text.firstIndex(of: "="), equals != word.text.startIndex else {
                builder.diagnostics.error("expected `name=value` after host `\(first.text)`, got `\(word.text)`", at: at(word.column))
                continue
            }
            let key = String(word.text[..<equals])
            if let problem = variableNameProblem(key) {
                builder.diagnostics.error(problem, at: at(word.column))
                continue
            }
            let value = String(word.text[word.text.index(after: equals)...])
            variables.append((key, INIValue.typed(value, quoted: word.quoted), at(word.column)))
        }
        for host in names {
            builder.addHost(host, to: group, at: at(first.column))
            if let port { builder.setHostVariable(host, "ansible_port", .int(port), at: at(first.column)) }
            for (key, value, location) in variables { builder.setHostVariable(host, key, value, at: location) }
        }
    }

    private static func parseVarsLine(_ content: String, group: String, at location: SourceLocation, into builder: inout InventoryBuilder) {
        guard let equals = content.firstIndex(of: "=") else {
            builder.diagnostics.error("expected `name=value` in [\(group):vars], got `\(content)`", at: location)
            return
        }
        let key = content[..<equals].trimmingCharacters(in: .whitespaces)
        if let problem = variableNameProblem(key) {
            builder.diagnostics.error(problem, at: location)
            return
        }
        let (text, quoted) = INIValue.varsValue(String(content[content.index(after: equals)...]))
        builder.setGroupVariable(group, key, INIValue.typed(text, quoted: quoted), at: location)
    }

    private static func variableNameProblem(_ key: String) -> String? {
        if key.isEmpty { return "a variable needs a name before `=`" }
        guard let first = key.first, first.isLetter || first == "_",
            key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
        else {
            return "`\(key)` is not a valid variable name (letters, digits and `_`, not starting with a digit)"
        }
        return nil
    }
}
