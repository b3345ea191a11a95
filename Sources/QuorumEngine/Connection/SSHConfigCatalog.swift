import Foundation
import OrderedCollections
import QuorumCore
import QuorumSSH

/// The ssh_config files of a run, read once before any host is contacted.
///
/// Which file applies to a host: the run's `-F FILE` when given; else the host's `quorum_ssh_config` (or a
/// `-F` in its `ansible_ssh_common_args`), relative to the inventory; else `~/.ssh/config` followed by
/// `/etc/ssh/ssh_config`, as OpenSSH reads them.
public struct SSHConfigCatalog: Sendable {
    /// The run's `-F FILE`, which replaces every other file.
    public var commandLineFile: String?
    var base: SSHConfig
    var byFile: [String: SSHConfig] = [:]

    public static let defaultChain = ["~/.ssh/config", "/etc/ssh/ssh_config"]

    /// No ssh_config at all (tests, or a run that wants none).
    public init() {
        base = SSHConfig()
    }

    /// Reads the run-wide configuration: `commandLineFile` (which must exist) or the default chain.
    public init(commandLineFile: String?, defaultChain: [String] = SSHConfigCatalog.defaultChain) throws {
        self.commandLineFile = commandLineFile
        if let commandLineFile {
            base = try SSHConfig.load(commandLineFile)
        } else {
            base = try SSHConfig.load(chain: defaultChain)
        }
    }

    /// Reads the run's files and runs `preflight`; every problem comes back as a diagnostic.
    public static func prepare(
        commandLineFile: String?, inventory: Inventory, acceptNewHostKeys: Bool,
        defaultChain: [String] = SSHConfigCatalog.defaultChain
    ) -> (SSHConfigCatalog, [Diagnostic]) {
        do {
            var catalog = try SSHConfigCatalog(commandLineFile: commandLineFile, defaultChain: defaultChain)
            let diagnostics = catalog.preflight(inventory, acceptNewHostKeys: acceptNewHostKeys)
            return (catalog, diagnostics)
        } catch let error as SSHConfigError {
            return (SSHConfigCatalog(), error.problems.map { diagnostic($0, host: "", sources: [:]) })
        } catch {
            return (SSHConfigCatalog(), [.error("\(error)", at: nil)])
        }
    }

    /// The configuration for a host whose variables name `hostFile` (nil: none).
    func config(hostFile: String?) throws -> SSHConfig {
        guard commandLineFile == nil, let hostFile else { return base }
        if let cached = byFile[hostFile] { return cached }
        return try SSHConfig.load(hostFile)
    }

    /// Reads every file the inventory's hosts name and works out each host's route, so a bad ssh_config, bad
    /// ssh arguments or an unsupported ProxyCommand is reported with its location before any host is
    /// contacted. Hosts whose connection variables are templates are checked when they connect instead.
    public mutating func preflight(_ inventory: Inventory, acceptNewHostKeys: Bool) -> [Diagnostic] {
        var diagnostics = base.warnings.map { Diagnostic(.warning, $0, at: nil) }
        var reported: Set<String> = []
        for host in inventory.hosts {
            let variables = inventory.variables(for: host)
            let sources = inventory.variableSources(for: host)
            let templated = ConnectionSettings.variableNames.contains { variables[$0]?.scalarText?.contains("{{") == true }
            guard !templated else { continue }
            if commandLineFile == nil, let named = variables["quorum_ssh_config"]?.scalarText, !named.isEmpty {
                let file = FileSystem.resolve(named, relativeTo: inventory.directory)
                if byFile[file] == nil, let loaded = try? SSHConfig.load(file) {
                    byFile[file] = loaded
                    diagnostics += loaded.warnings.map { Diagnostic(.warning, $0, at: nil) }
                }
            }
            do {
                _ = try ConnectionSettings(
                    host: host, variables: variables, inventoryDirectory: inventory.directory,
                    configs: self, acceptNewHostKeys: acceptNewHostKeys)
            } catch let error as SSHConfigError {
                for problem in error.problems where reported.insert(problem.description).inserted {
                    diagnostics.append(Self.diagnostic(problem, host: host, sources: sources))
                }
            } catch {
                diagnostics.append(.error("\(host): \(error)", at: inventory.hostDetails[host]?.location))
            }
        }
        return diagnostics
    }

    /// A problem at `file:line`, or in one of the host's variables (located where the variable was set).
    public static func diagnostic(_ problem: SSHConfigError.Problem, host: String, sources: [String: SourceLocation]) -> Diagnostic {
        if let variable = sources[problem.location] {
            return .error("\(host): \(problem.location): \(problem.message)", at: variable)
        }
        if let colon = problem.location.lastIndex(of: ":"), let line = Int(problem.location[problem.location.index(after: colon)...]) {
            let file = String(problem.location[..<colon])
            return .error(problem.message, at: SourceLocation(file: file, line: line, column: 1))
        }
        let text = problem.message.contains(problem.location) ? problem.message : "\(problem.location): \(problem.message)"
        return .error(host.isEmpty ? text : "\(host): \(text)", at: nil)
    }
}
