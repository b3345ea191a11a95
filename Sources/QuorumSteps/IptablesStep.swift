import Foundation
import QuorumCore

/// `iptables`: one rule of the filter table, identified by its comment. One probe reads the chain
/// (`iptables-save -t filter`), asks `iptables -C` whether the exact rule exists, and reads the `persist` file;
/// the rule is then inserted at its position (right after the rule commented `after_comment`, before the one
/// commented `before_comment`, first or last), replaced in place (`-R`) when a rule with the same comment has
/// another spec, moved when it sits elsewhere, and duplicates with the same comment are removed. With
/// `persist`, the live rules (`iptables-save`) are written atomically (validated by `iptables-restore --test`)
/// when the live rules changed or when the file disagrees with them about this rule. Check mode reads only.
public struct IptablesStep: StepKind {
    public static let name = "iptables"
    public static let summary = "One iptables rule, identified by its comment, at a given position; optionally persisted"
    public static let schema = ArgSchema([
        ArgField("chain", .string, default: .string("INPUT"), "chain of the filter table"),
        ArgField("protocol", .choice(["tcp", "udp", "sctp", "icmp", "all"]), "protocol (default tcp when destination_ports are given)"),
        ArgField("source", .string, "source IPv4 address or network (CIDR)"),
        ArgField("destination_ports", .list(.any), "destination ports or ranges (`5404:5405`), matched with multiport (at most 15)"),
        ArgField("comment", .string, required: true, "the rule's comment: its identity"),
        ArgField("jump", .string, default: .string("ACCEPT"), "target"),
        ArgField(
            "position",
            .object(
                ArgSchema(
                    [
                        ArgField("after_comment", .string, "right after the rule with this comment"),
                        ArgField("before_comment", .string, "right before the rule with this comment"),
                        ArgField("first", .bool, "first rule of the chain"),
                        ArgField("last", .bool, "last rule of the chain")
                    ], mutuallyExclusive: [["after_comment", "before_comment", "first", "last"]],
                    oneRequired: [["after_comment", "before_comment", "first", "last"]])), "where the rule goes (default: last)"),
        ArgField("state", .choice(["present", "absent"]), default: .string("present")),
        ArgField("persist", .absolutePath, "file to save the live rules to (iptables-save format), e.g. /etc/iptables/rules.v4")
    ])

    public enum Position: Sendable, Equatable {
        case after(String), before(String), first, last
    }

    public let chain: String
    public let comment: String
    public let position: Position
    public let present: Bool
    public let persist: String?
    /// The rule's words after `-A CHAIN`, as iptables takes them and as `iptables-save` prints them.
    public let spec: [String]

    public init(checked arguments: Arguments) throws {
        chain = try arguments.value(arguments.string, "chain")
        guard IptablesStep.isName(chain) else {
            throw StepFailure("argument `chain` must be a chain name (letters, digits, `_`, `-`; at most 28), got `\(chain)`")
        }
        comment = try arguments.requiredString("comment")
        guard comment.utf8.count <= 255, !comment.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw StepFailure("argument `comment` must be one line of at most 255 bytes")
        }
        present = try arguments.value(arguments.string, "state") == "present"
        persist = try arguments.string("persist")

        var words: [String] = []
        if let source = try arguments.string("source") {
            guard let network = canonicalIPv4Network(source.trimmingCharacters(in: .whitespaces)) else {
                throw StepFailure("argument `source` must be an IPv4 address or network, got `\(source)`")
            }
            if network != "0.0.0.0/0" { words += ["-s", network] }
        }
        let ports = try IptablesStep.ports(arguments)
        var proto = try arguments.choice("protocol", ["tcp", "udp", "sctp", "icmp", "all"])
        if !ports.isEmpty {
            proto = proto ?? "tcp"
            guard ["tcp", "udp", "sctp"].contains(proto) else {
                throw StepFailure("`destination_ports` need protocol tcp, udp or sctp, got `\(proto ?? "")`")
            }
        }
        if let proto, proto != "all" { words += ["-p", proto] }
        if !ports.isEmpty { words += ["-m", "multiport", "--dports", ports.joined(separator: ",")] }
        words += ["-m", "comment", "--comment", comment]
        let jump = try arguments.value(arguments.string, "jump")
        guard IptablesStep.isName(jump), jump != "REJECT" else {
            throw StepFailure("argument `jump` must be a target without options (ACCEPT, DROP, RETURN or a chain), got `\(jump)`")
        }
        words += ["-j", jump]
        spec = words

        if let p = try arguments.map("position") {
            let position = Arguments(p, location: arguments.location)
            let given = ["after_comment", "before_comment", "first", "last"].filter { position.has($0) }
            guard given.count == 1 else { throw StepFailure("argument `position` needs exactly one of after_comment, before_comment, first, last") }
            if let after = try position.string("after_comment") {
                self.position = .after(after)
            } else if let before = try position.string("before_comment") {
                self.position = .before(before)
            } else if try position.bool("first") == true {
                self.position = .first
            } else if try position.bool("last") == true {
                self.position = .last
            } else {
                throw StepFailure("argument `position`: `first` or `last` must be true")
            }
            if case .after(let c) = self.position, c == comment { throw StepFailure("a rule cannot be placed after itself") }
            if case .before(let c) = self.position, c == comment { throw StepFailure("a rule cannot be placed before itself") }
        } else {
            position = .last
        }
    }

    static func isName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 28 && !s.hasPrefix("-")
            && s.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
            }
    }

    static func ports(_ arguments: Arguments) throws -> [String] {
        guard let value = arguments["destination_ports"] else { return [] }
        let items = value.listValue ?? [value]
        var ports: [String] = []
        for item in items {
            guard let text = item.scalarText?.trimmingCharacters(in: .whitespaces), item.listValue == nil, item.mapValue == nil else {
                throw StepFailure("argument `destination_ports` must be a list of ports or ranges")
            }
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                let bounds = part.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
                guard (1...2).contains(bounds.count), bounds.allSatisfy({ $0.map { (1...65535).contains($0) } ?? false }),
                    bounds.count == 1 || bounds[0]! < bounds[1]!
                else {
                    throw StepFailure("argument `destination_ports`: `\(part)` is not a port (1–65535) or a range `low:high`")
                }
                ports.append(bounds.map { String($0!) }.joined(separator: ":"))
            }
        }
        let weight = ports.reduce(0) { $0 + ($1.contains(":") ? 2 : 1) }
        guard weight <= 15 else { throw StepFailure("argument `destination_ports`: multiport takes at most 15 ports (a range counts 2)") }
        return ports
    }

    /// The rule as `iptables-save` prints it.
    var line: String {
        (["-A", chain]
            + spec.enumerated().map { index, word in
                index > 0 && spec[index - 1] == "--comment" ? IptablesSave.quoteWord(word) : word
            }).joined(separator: " ")
    }

    // MARK: probe

    static let checkMarker = "__quorum_iptables_check__"
    static let fileMarker = "__quorum_iptables_file__"
    static let path = "PATH=\"$PATH:/usr/sbin:/sbin\"; export PATH"

    var probeScript: String {
        var lines = [
            IptablesStep.path,
            "command -v iptables-save >/dev/null 2>&1 || { echo 'iptables-save not found on the host' >&2; exit 3; }",
            "iptables-save -t filter || exit 3",
            "echo \(IptablesStep.checkMarker)",
            "if " + Shell.join(["iptables", "-w", "5", "-t", "filter", "-C", chain] + spec) + " >/dev/null 2>&1; then echo 0; else echo 1; fi"
        ]
        if let persist {
            lines.append("echo \(IptablesStep.fileMarker)")
            lines.append("if [ -f \(Shell.quote(persist)) ]; then echo present; cat -- \(Shell.quote(persist)) || exit 3; else echo absent; fi")
        }
        return lines.joined(separator: "\n")
    }

    struct Observed {
        var live: IptablesSave
        var checkSucceeded: Bool
        /// nil without `persist`; `.some(nil)` when the file is absent.
        var file: IptablesSave??
    }

    static func parseProbe(_ text: String) -> Observed? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let check = lines.firstIndex(of: checkMarker), check + 1 < lines.count else { return nil }
        let live = IptablesSave.parse(lines[..<check].joined(separator: "\n"))
        var observed = Observed(live: live, checkSucceeded: lines[check + 1] == "0", file: nil)
        if let marker = lines.firstIndex(of: fileMarker), marker + 1 < lines.count {
            observed.file =
                lines[marker + 1] == "present"
                ? .some(IptablesSave.parse(lines[(marker + 2)...].joined(separator: "\n"))) : .some(nil)
        }
        return observed
    }

    // MARK: plan

    /// What to do to the live chain: commands (argv) and the chain as it will be.
    struct Plan: Equatable {
        var commands: [[String]] = []
        var after: [String] = []
        var message: String?
    }

    /// The 1-based position the rule must have among `others` (the chain without rules carrying this comment).
    func wantedIndex(in others: [IptablesSave.Rule]) throws -> Int {
        switch position {
        case .first: return 1
        case .last: return others.count + 1
        case .after(let anchor):
            guard let at = others.lastIndex(where: { $0.comment == anchor }) else {
                throw StepFailure("no rule commented `\(anchor)` in chain \(chain) to place `\(comment)` after")
            }
            return at + 2
        case .before(let anchor):
            guard let at = others.firstIndex(where: { $0.comment == anchor }) else {
                throw StepFailure("no rule commented `\(anchor)` in chain \(chain) to place `\(comment)` before")
            }
            return at + 1
        }
    }

    func plan(_ rules: [IptablesSave.Rule], checkSucceeded: Bool) throws -> Plan {
        let ours = rules.indices.filter { rules[$0].comment == comment }
        let iptables = ["iptables", "-w", "5", "-t", "filter"]
        var plan = Plan()
        guard present else {
            guard !ours.isEmpty else { return plan }
            plan.commands = ours.reversed().map { iptables + ["-D", chain, String($0 + 1)] }
            plan.after = rules.filter { $0.comment != comment }.map(\.line)
            plan.message = "removed rule `\(comment)` from \(chain)" + (ours.count > 1 ? " (\(ours.count) copies)" : "")
            return plan
        }
        let others = rules.filter { $0.comment != comment }
        let wanted = try wantedIndex(in: others)
        var after = others.map(\.line)
        after.insert(line, at: wanted - 1)
        let sameSpec = { (rule: IptablesSave.Rule) in rule.words == spec || (checkSucceeded && ours.count == 1) }
        if ours.count == 1, ours[0] + 1 == wanted {
            if sameSpec(rules[ours[0]]) { return plan }
            plan.commands = [iptables + ["-R", chain, String(wanted)] + spec]
            plan.message = "replaced rule `\(comment)` in place (\(chain) #\(wanted))"
        } else {
            plan.commands = ours.reversed().map { iptables + ["-D", chain, String($0 + 1)] }
            plan.commands.append(wanted == others.count + 1 ? iptables + ["-A", chain] + spec : iptables + ["-I", chain, String(wanted)] + spec)
            plan.message =
                ours.isEmpty
                ? "inserted rule `\(comment)` at \(chain) #\(wanted)"
                : "moved rule `\(comment)` to \(chain) #\(wanted)" + (ours.count > 1 ? " (\(ours.count - 1) duplicate(s) removed)" : "")
        }
        plan.after = after
        return plan
    }

    /// True when the persisted file agrees with the live chain about this rule: the same rule (or none), with
    /// the same rule before it.
    func fileAgrees(_ file: IptablesSave, live: [IptablesSave.Rule]) -> Bool {
        let fileRules = file.rules(table: "filter", chain: chain) ?? []
        func signature(_ rules: [IptablesSave.Rule]) -> [[String]] {
            rules.indices.filter { rules[$0].comment == comment }.map { i in
                (i > 0 ? rules[i - 1].words : ["<first>"]) + ["|"] + rules[i].words
            }
        }
        return signature(fileRules) == signature(live)
    }

    /// Where the rule (the first one carrying its comment) sits in `rules`: `INPUT #5, after `116 openvswitch db``;
    /// nil when absent. The words of the placement in a diff say where a rule is against where it should be.
    func placement(in rules: [IptablesSave.Rule]) -> String? {
        guard let at = rules.firstIndex(where: { $0.comment == comment }) else { return nil }
        var text = "\(chain) #\(at + 1)"
        if at == 0 {
            text += ", first"
        } else {
            let previous = rules[at - 1]
            text += ", after " + (previous.comment.map { "`\($0)`" } ?? previous.line)
        }
        let copies = rules.filter { $0.comment == comment }.count
        return copies > 1 ? text + " (\(copies) copies)" : text
    }

    /// The chain's rules in the live filter table (a built-in chain may have none yet).
    func liveRules(_ live: IptablesSave) throws -> [IptablesSave.Rule] {
        guard let rules = live.rules(table: "filter", chain: chain) ?? (["INPUT", "FORWARD", "OUTPUT"].contains(chain) ? [] : nil) else {
            throw StepFailure("chain \(chain) does not exist in the filter table")
        }
        return rules
    }

    // MARK: run

    public func run(_ context: StepContext) async throws -> StepOutcome {
        let remote = context.remote
        let result = try await remote.probe(probeScript)
        guard result.succeeded, let observed = IptablesStep.parseProbe(result.stdoutText) else {
            throw StepFailure(
                "cannot read the iptables rules (exit \(result.status))",
                detail: result.stderrText.trimmingTrailingWhitespace())
        }
        let rules = try liveRules(observed.live)
        let plan = try plan(rules, checkSucceeded: observed.checkSucceeded)
        let liveChanges = !plan.commands.isEmpty
        var fileStale = false
        if persist != nil, !liveChanges, let file = observed.file {
            fileStale = file.map { !fileAgrees($0, live: rules) } ?? true
        }
        guard liveChanges || fileStale else { return .unchanged }

        var diffs: [Diff] = []
        var notes: [String] = []
        if liveChanges {
            diffs.append(
                Diff(
                    subject: "rule `\(comment)`", before: placement(in: rules),
                    after: present ? placement(in: plan.after.map { IptablesSave.Rule(line: $0) }) : nil))
            diffs.append(
                .file(
                    "iptables filter \(chain)", before: rules.map(\.line).joined(separator: "\n") + "\n",
                    after: plan.after.joined(separator: "\n") + "\n"))
            notes.append(plan.message ?? "changed \(chain)")
        }
        if let persist {
            let why = liveChanges ? "live rules changed" : "out of date"
            diffs.append(Diff(subject: persist, before: why, after: "iptables-save"))
            notes.append("saved to \(persist)")
        }
        if context.check {
            return StepOutcome(changed: true, diffs: diffs, message: "would: " + notes.joined(separator: "; "))
        }
        if liveChanges {
            let changed = try await remote.change(IptablesStep.path + "\n" + FileHelpers.script(plan.commands))
            guard changed.succeeded else {
                throw StepFailure(
                    "changing chain \(chain) failed (exit \(changed.status))",
                    detail: changed.stderrText.trimmingTrailingWhitespace())
            }
        }
        if let persist {
            let saved = try await remote.probe(IptablesStep.path + "\niptables-save")
            guard saved.succeeded, !saved.stdout.isEmpty else {
                throw StepFailure("iptables-save failed (exit \(saved.status))", detail: saved.stderrText.trimmingTrailingWhitespace())
            }
            do {
                try await remote.writeFile(
                    persist, content: saved.stdout, attributes: FileAttributes(),
                    validate: IptablesStep.path + "; iptables-restore --test %s")
            } catch let failure as StepFailure {
                throw StepFailure("live rules changed but could not save them to \(persist)", detail: failure.detail ?? failure.message)
            }
        }
        return StepOutcome(changed: true, diffs: diffs, message: notes.joined(separator: "; "))
    }
}
