import Foundation
import OrderedCollections
import QuorumCore

/// A user as `GET /api/users/{name}` returns it (only the fields Quorum compares).
struct RMQUser: Decodable, Sendable {
    var name: String
    var passwordHash: String?
    var hashingAlgorithm: String?
    var tags: [String]

    enum CodingKeys: String, CodingKey {
        case name, tags
        case passwordHash = "password_hash"
        case hashingAlgorithm = "hashing_algorithm"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        passwordHash = try container.decodeIfPresent(String.self, forKey: .passwordHash)
        hashingAlgorithm = try container.decodeIfPresent(String.self, forKey: .hashingAlgorithm)
        // A list since RabbitMQ 3.9, a comma-separated string before.
        if let list = try? container.decodeIfPresent([String].self, forKey: .tags) {
            tags = list
        } else {
            tags = RabbitMQTags.split([try container.decodeIfPresent(String.self, forKey: .tags) ?? ""])
        }
    }
}

/// A vhost as `GET /api/vhosts/{name}` returns it.
struct RMQVhost: Decodable, Sendable {
    var name: String
}

/// A user's permissions on one vhost: three regular expressions over resource names.
struct RabbitMQPermission: Decodable, Sendable, Equatable {
    var vhost: String
    var configure: String
    var write: String
    var read: String

    init(vhost: String, configure: String = ".*", write: String = ".*", read: String = ".*") {
        self.vhost = vhost
        self.configure = configure
        self.write = write
        self.read = read
    }

    /// `configure .* write .* read .*`, for diffs.
    var summary: String { "configure \(configure) write \(write) read \(read)" }

    var body: JSONBody { .object(["configure": .string(configure), "write": .string(write), "read": .string(read)]) }

    static let schema = ArgSchema([
        ArgField("vhost", .string, required: true, "virtual host"),
        ArgField("configure", .string, "regexp of resources the user may configure (default .*)"),
        ArgField("write", .string, "regexp of resources the user may write to (default .*)"),
        ArgField("read", .string, "regexp of resources the user may read from (default .*)")
    ])

    /// `permissions: [{vhost, configure, write, read}]` (a single map is a one-item list), or `vhost: X` for
    /// full permissions on X, or neither: full permissions on `/`. Each vhost once.
    static func parse(_ arguments: Arguments) throws -> [RabbitMQPermission] {
        guard let value = arguments["permissions"] else {
            return [RabbitMQPermission(vhost: try arguments.string("vhost") ?? "/")]
        }
        guard !arguments.has("vhost") else { throw StepFailure("give `vhost` or `permissions`, not both") }
        let items = value.listValue ?? [value]
        var parsed: [RabbitMQPermission] = []
        for (index, item) in items.enumerated() {
            guard let map = item.mapValue else {
                throw StepFailure("`permissions[\(index)]` must be a map {vhost, configure, write, read}, got a \(item.typeName)")
            }
            for name in map.keys where schema.field(name) == nil {
                throw StepFailure("unknown argument `permissions[\(index)].\(name)` (known: vhost, configure, write, read)")
            }
            let inner = Arguments(map, location: arguments.location)
            guard let vhost = try inner.string("vhost"), !vhost.isEmpty else {
                throw StepFailure("`permissions[\(index)].vhost` is required")
            }
            guard !parsed.contains(where: { $0.vhost == vhost }) else {
                throw StepFailure("`permissions` names vhost `\(vhost)` twice")
            }
            parsed.append(
                RabbitMQPermission(
                    vhost: vhost, configure: try inner.string("configure") ?? ".*",
                    write: try inner.string("write") ?? ".*", read: try inner.string("read") ?? ".*"))
        }
        return parsed
    }
}

/// A user's tags (`administrator`, `management`, `monitoring`…).
enum RabbitMQTags {
    /// Items, each possibly comma-separated, trimmed, empty ones and repeats dropped.
    static func split(_ items: [String]) -> [String] {
        var tags: [String] = []
        for item in items {
            for part in item.split(separator: ",") {
                let tag = part.trimmingCharacters(in: .whitespaces)
                if !tag.isEmpty, !tags.contains(tag) { tags.append(tag) }
            }
        }
        return tags
    }

    /// `a, b` for diffs; `(none)` for no tag.
    static func summary(_ tags: [String]) -> String { tags.isEmpty ? "(none)" : tags.joined(separator: ", ") }

    /// The comma-separated form every RabbitMQ version accepts in `PUT /api/users/{name}`.
    static func body(_ tags: [String]) -> JSONBody { .string(tags.joined(separator: ",")) }
}
