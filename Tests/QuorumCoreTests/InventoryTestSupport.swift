import Foundation

@testable import QuorumCore

/// Fixtures for the inventory tests: the checked-in topology and scratch directories.
enum InventoryFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/inventory").path

    static var topologyYAML: String { root + "/topology/hosts.yml" }
    static var topologyINI: String { root + "/topology/hosts.ini" }

    /// Writes `files` (relative path → text) into a fresh directory and returns its path.
    static func scratch(_ files: [String: String]) throws -> String {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("quorum-inventory-\(UUID().uuidString)").path
        for (relative, text) in files {
            let path = dir + "/" + relative
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        return dir
    }

    /// Loads an inventory written as `name` with `text` (plus optional extra files) in a scratch directory.
    static func load(_ name: String, _ text: String, extra: [String: String] = [:]) throws -> Inventory {
        let dir = try scratch(extra.merging([name: text]) { $1 })
        return try Inventory.load(dir + "/" + name)
    }

    /// The diagnostics `Inventory.load` throws for `text` written as `name`, locations made relative.
    static func diagnostics(_ name: String, _ text: String, extra: [String: String] = [:]) throws -> [Diagnostic] {
        let dir = try scratch(extra.merging([name: text]) { $1 })
        do {
            _ = try Inventory.load(dir + "/" + name)
            return []
        } catch let error as ConfigurationError {
            return error.diagnostics.map { diagnostic in
                var diagnostic = diagnostic
                if let file = diagnostic.location?.file, file.hasPrefix(dir + "/") {
                    diagnostic.location?.file = String(file.dropFirst(dir.count + 1))
                }
                return diagnostic
            }
        }
    }
}

extension Diagnostic {
    /// `file:line:col` of the diagnostic, or "" when it has no location.
    var at: String { location?.description ?? "" }
}
