import OrderedCollections
import QuorumCore

/// `apt`: installs, upgrades or removes Debian packages.
///
/// One probe (`dpkg-query`, plus `apt-cache policy` for `state: latest`) on a run with nothing to do; one
/// `apt-get` run for exactly the packages that need it when something does. Existing configuration files are
/// kept (`--force-confold`), and apt waits up to 300 s for the dpkg lock that other runs may hold.
public struct AptStep: StepKind {
    public static let name = "apt"
    public static let summary = "Install, upgrade or remove Debian packages (only the ones that need it)"
    public static let schema = ArgSchema(
        [
            ArgField("packages", .list(.string), required: true, "package names, optionally `name=version`"),
            ArgField("state", .choice(["present", "absent", "latest"]), default: .string("present")),
            ArgField(
                "update_cache", .bool, default: .bool(false),
                "run `apt-get update` first: before installing (present), before probing (latest, not in check mode)"),
            ArgField("purge", .bool, default: .bool(false), "with state absent: also remove configuration files")
        ], freeForm: "packages")

    public enum State: String, Sendable { case present, absent, latest }

    public struct Package: Sendable, Equatable {
        public var name: String
        public var version: String?
        public var argument: String { version.map { name + "=" + $0 } ?? name }
    }

    public let packages: [Package]
    public let state: State
    public let updateCache: Bool
    public let purge: Bool

    public init(checked arguments: Arguments) throws {
        let names = try arguments.stringList("packages") ?? []
        guard !names.isEmpty else { throw StepFailure("argument `packages` is required") }
        var packages: [Package] = []
        for spec in names {
            let package = try AptStep.parse(spec)
            if !packages.contains(where: { $0.name == package.name }) { packages.append(package) }
        }
        state = State(rawValue: try arguments.value(arguments.string, "state")) ?? .present
        if state != .present, let pinned = packages.first(where: { $0.version != nil }) {
            throw StepFailure("`\(pinned.argument)`: a version can only be given with state present")
        }
        self.packages = packages
        updateCache = try arguments.value(arguments.bool, "update_cache")
        purge = try arguments.value(arguments.bool, "purge")
    }

    /// A package argument checked against `^[a-z0-9][a-z0-9+.-]*(=[^ ]+)?$` (no whitespace or control characters).
    static func parse(_ spec: String) throws -> Package {
        let parts = spec.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let name = parts[0]
        let nameOK =
            !name.isEmpty && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "+.-".unicodeScalars.contains($0) }
            && !"+.-".contains(name.first ?? "-")
        let version = parts.count == 2 ? parts[1] : nil
        let versionOK = version.map { !$0.isEmpty && $0.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F } } ?? true
        guard nameOK, versionOK else {
            throw StepFailure("invalid package `\(spec)`: expected a Debian package name, optionally `=version`")
        }
        return Package(name: name, version: version)
    }

    /// What dpkg knows of one package.
    public struct Installed: Sendable, Equatable {
        /// The `db:Status-Abbrev` status letter: `i` installed, `c` config files only, `n` not installed,
        /// `U`/`F`/`H`/`W`/`t` half-done states.
        public var status: Character
        public var version: String
        public var isInstalled: Bool { status == "i" || status == "W" || status == "t" }
    }

    static let queryFormat = "${Package}\\t${db:Status-Abbrev}\\t${Version}\\n"

    var probeScript: String {
        let names = packages.map(\.name)
        let query = Shell.join(["dpkg-query", "-W", "-f=" + AptStep.queryFormat] + names)
        guard state == .latest else { return query }
        return query + "; rc=$?; printf '%s\\n' '#policy'; LC_ALL=C " + Shell.join(["apt-cache", "policy"] + names)
            + " || exit 2; exit $rc"
    }

    /// Parses `dpkg-query -W` output; a package dpkg has never heard of has no line.
    static func parseQuery(_ output: String) -> [String: Installed] {
        var result: [String: Installed] = [:]
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 3, fields[1].count >= 2 else { continue }
            let status = fields[1][fields[1].index(after: fields[1].startIndex)]
            let entry = Installed(status: status, version: String(fields[2]))
            // Multi-arch packages give a line per architecture: an installed one wins.
            if let known = result[String(fields[0])], known.isInstalled { continue }
            result[String(fields[0])] = entry
        }
        return result
    }

    /// Parses `apt-cache policy` output into package → candidate version (nil for `(none)`).
    static func parsePolicy(_ output: String) -> [String: String?] {
        var result: [String: String?] = [:]
        var current: String?
        for line in output.split(separator: "\n") {
            if !line.hasPrefix(" "), line.hasSuffix(":") {
                current = String(line.dropLast())
            } else if let name = current, line.trimmingPrefix(while: { $0 == " " }).hasPrefix("Candidate:") {
                let value = line.trimmingPrefix(while: { $0 == " " }).dropFirst("Candidate:".count)
                    .trimmingPrefix(while: { $0 == " " })
                result[name] = value == "(none)" ? .some(nil) : .some(String(value))
            }
        }
        return result
    }

    static let lockTimeout = ["-o", "DPkg::Lock::Timeout=300"]

    static func installCommand(_ packages: [String]) -> String {
        "DEBIAN_FRONTEND=noninteractive "
            + Shell.join(
                ["apt-get", "install", "-y", "-q", "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"]
                    + lockTimeout + ["--no-install-recommends"] + packages)
    }

    static var updateCommand: String { Shell.join(["apt-get", "update", "-q"] + lockTimeout) }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        let remote = context.remote
        if state == .latest, updateCache, !context.check {
            let update = try await remote.change(AptStep.updateCommand)
            guard update.succeeded else {
                throw StepFailure("apt-get update failed (exit \(update.status))", detail: AptStep.explain(update))
            }
        }
        let probe = try await remote.probe(probeScript)
        guard probe.status == 0 || probe.status == 1 else {
            throw StepFailure("dpkg-query failed (exit \(probe.status))", detail: AptStep.explain(probe))
        }
        let lines = probe.stdoutText.split(separator: "\n", omittingEmptySubsequences: false)
        let marker = lines.firstIndex(of: "#policy") ?? lines.endIndex
        let installed = AptStep.parseQuery(lines[..<marker].joined(separator: "\n"))
        let candidates = marker < lines.endIndex ? AptStep.parsePolicy(lines[(marker + 1)...].joined(separator: "\n")) : [:]

        var todo: [Package] = []
        var diffs: [Diff] = []
        for package in packages {
            let have = installed[package.name]
            let before = have.flatMap { $0.isInstalled ? $0.version : nil }
            switch state {
            case .present:
                guard let have, have.isInstalled, package.version == nil || package.version == have.version else {
                    todo.append(package)
                    diffs.append(Diff(subject: "package \(package.name)", before: before, after: package.version ?? "installed"))
                    continue
                }
            case .latest:
                let candidate = candidates[package.name] ?? nil
                if let have, have.isInstalled, candidate == nil || candidate == have.version { continue }
                todo.append(package)
                diffs.append(Diff(subject: "package \(package.name)", before: before, after: candidate ?? "latest"))
            case .absent:
                guard let have, have.status != "n", purge || have.status != "c" else { continue }
                todo.append(package)
                diffs.append(
                    Diff(
                        subject: "package \(package.name)", before: have.status == "c" ? "config files" : have.version,
                        after: nil))
            }
        }

        let key = state == .absent ? "removed" : "installed"
        let names = todo.map(\.name)
        let result: [(String, Value)] = [(key, .list(names.map(Value.string)))]
        guard !todo.isEmpty else {
            return StepOutcome(changed: false, result: .init(result, uniquingKeysWith: { a, _ in a }))
        }
        if !context.check {
            let script: String
            switch state {
            case .present:
                script = (updateCache ? AptStep.updateCommand + " && " : "") + AptStep.installCommand(todo.map(\.argument))
            case .latest:
                script = AptStep.installCommand(names)
            case .absent:
                script =
                    "DEBIAN_FRONTEND=noninteractive "
                    + Shell.join(["apt-get", purge ? "purge" : "remove", "-y", "-q"] + AptStep.lockTimeout + names)
            }
            let done = try await remote.change(script)
            guard done.succeeded else {
                throw StepFailure(
                    "apt-get \(state == .absent ? "remove" : "install") \(names.joined(separator: " ")) failed (exit \(done.status))",
                    detail: AptStep.explain(done))
            }
        }
        let verb = state == .absent ? (purge ? "purged" : "removed") : "installed"
        return StepOutcome(
            changed: true, diffs: diffs, message: "\(verb) \(names.joined(separator: ", "))",
            result: .init(result, uniquingKeysWith: { a, _ in a }))
    }

    /// The useful end of a failed command's output.
    static func explain(_ result: CommandResult) -> String {
        let text = (result.stderrText + "\n" + result.stdoutText).split(separator: "\n").suffix(20).joined(separator: "\n")
        return text
    }
}
