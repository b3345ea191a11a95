import OrderedCollections
import QuorumCore
import QuorumMySQL

/// `mysql_database`: a database present (with its character set and collation) or absent.
/// Probes `information_schema.SCHEMATA`; creates, alters or drops only when that differs. In check mode it
/// sends nothing that changes state and records the database as planned, so that a later `mysql_user`
/// granting on it reports "would change" instead of failing.
public struct MySQLDatabaseStep: StepKind {
    public static let name = "mysql_database"
    public static let summary = "A MySQL/MariaDB database present (with encoding and collation) or absent"
    public static let schema = ArgSchema(
        [
            ArgField("name", .string, required: true, "database name (letters, digits, _)"),
            ArgField("encoding", .string, default: .string("utf8mb4"), "character set"),
            ArgField("collation", .string, "collation (default: the character set's default)"),
            ArgField("state", .choice(["present", "absent"]), "present (default) or absent"),
            MySQLLogin.field
        ], freeForm: "name")
    public static var defaultsFamily: String? { "mysql" }
    public static var runsOncePerPlay: Bool { true }

    public let database: String
    public let encoding: String
    public let collation: String?
    public let present: Bool
    public let login: MySQLLogin

    public init(checked arguments: Arguments) throws {
        database = try arguments.requiredString("name")
        encoding = try arguments.value(arguments.string, "encoding")
        collation = try arguments.string("collation")
        present = try arguments.choice("state", ["present", "absent"]) != "absent"
        login = try MySQLLogin(arguments: arguments)
        try MySQLRun.validate {
            try SQLName.validateDatabase(database)
            try SQLName.validateCharset(encoding, what: "encoding")
            if let collation { try SQLName.validateCharset(collation, what: "collation") }
        }
    }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        let db = try await login.connection(context)
        let name = try await MySQLRun.literal(db, database)
        let rows = try await MySQLRun.read(
            db,
            """
            SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA \
            WHERE SCHEMA_NAME = \(name)
            """, "reading database `\(database)`")
        let quoted = SQLName.quoted(database)
        let subject = "database \(database)"
        let wanted = encoding + (collation.map { " / " + $0 } ?? "")

        guard present else {
            guard !rows.isEmpty else { return StepOutcome(changed: false, message: "database \(database) is absent") }
            if !context.check { try await MySQLRun.change(db, "DROP DATABASE \(quoted)", "dropping database `\(database)`") }
            return StepOutcome(
                changed: true, diffs: [Diff(subject: subject, before: "present", after: nil)],
                message: "dropped database \(database)")
        }

        var clause = "CHARACTER SET \(encoding.lowercased())"
        if let collation { clause += " COLLATE \(collation.lowercased())" }
        guard let row = rows.first else {
            if context.check {
                context.planned.plan("mysql_database", database)
            } else {
                try await MySQLRun.change(db, "CREATE DATABASE \(quoted) \(clause)", "creating database `\(database)`")
            }
            return StepOutcome(
                changed: true, diffs: [Diff(subject: subject, before: nil, after: wanted)],
                message: "created database \(database) (\(wanted))", result: ["db": .string(database)])
        }
        let charset = row[0] ?? ""
        let currentCollation = row[1] ?? ""
        let same =
            charset.lowercased() == encoding.lowercased()
            && (collation.map { $0.lowercased() == currentCollation.lowercased() } ?? true)
        guard !same else { return StepOutcome(changed: false, result: ["db": .string(database)]) }
        if !context.check {
            try await MySQLRun.change(db, "ALTER DATABASE \(quoted) \(clause)", "altering database `\(database)`")
        }
        return StepOutcome(
            changed: true, diffs: [Diff(subject: subject + " character set", before: "\(charset) / \(currentCollation)", after: wanted)],
            message: "database \(database): \(charset) / \(currentCollation) → \(wanted)", result: ["db": .string(database)])
    }
}
