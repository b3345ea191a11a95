import Foundation

/// A temporary folder holding a playbook (and optional `files/`) for one test.
public struct Workspace: Sendable {
    public let path: String

    public init(_ name: String = "ws") throws {
        path = NSTemporaryDirectory() + "quorum-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path + "/files", withIntermediateDirectories: true)
    }

    /// Writes `text` to `name` (folders created as needed) and returns the file's path.
    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}
