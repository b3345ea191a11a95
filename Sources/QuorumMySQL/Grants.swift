import Foundation

/// The privileges an account holds (or should hold) on one object.
public struct PrivilegeSet: Equatable, Sendable {
    /// Upper-case privilege names, `ALL PRIVILEGES` for ALL; never `USAGE` (which means none).
    public var privileges: Set<String>
    public var grantOption: Bool

    public init(_ privileges: Set<String> = [], grantOption: Bool = false) {
        self.privileges = privileges
        self.grantOption = grantOption
    }

    public var isEmpty: Bool { privileges.isEmpty && !grantOption }

    /// True when every privilege of `other` is held here (ALL PRIVILEGES covers any).
    public func covers(_ other: PrivilegeSet) -> Bool {
        (privileges.contains(PrivilegeSet.all) || other.privileges.isSubset(of: privileges)) && (grantOption || !other.grantOption)
    }

    public static let all = "ALL PRIVILEGES"

    /// For messages and diffs: `ALL PRIVILEGES`, `INSERT, SELECT`, `+ GRANT OPTION`; `(none)` when empty.
    public var summary: String {
        var words = privileges.sorted()
        if grantOption { words.append("GRANT OPTION") }
        return words.isEmpty ? "(none)" : words.joined(separator: ", ")
    }

    /// Every privilege name MariaDB knows (10.11), for early, clear errors.
    public static let known: Set<String> = [
        "ALL PRIVILEGES", "ALTER", "ALTER ROUTINE", "BINLOG ADMIN", "BINLOG MONITOR", "BINLOG REPLAY",
        "CONNECTION ADMIN", "CREATE", "CREATE ROUTINE", "CREATE TABLESPACE", "CREATE TEMPORARY TABLES",
        "CREATE USER", "CREATE VIEW", "DELETE", "DELETE HISTORY", "DROP", "EVENT", "EXECUTE", "FEDERATED ADMIN",
        "FILE", "INDEX", "INSERT", "LOCK TABLES", "PROCESS", "READ_ONLY ADMIN", "REFERENCES", "RELOAD",
        "REPLICA MONITOR", "REPLICATION CLIENT", "REPLICATION MASTER ADMIN", "REPLICATION SLAVE",
        "REPLICATION SLAVE ADMIN", "SET USER", "SHOW CREATE ROUTINE", "SHOW DATABASES", "SHOW VIEW", "SHUTDOWN",
        "SLAVE MONITOR", "SUPER", "TRIGGER", "UPDATE", "SELECT"
    ]

    /// Parses a playbook value such as `ALL`, `SELECT,INSERT`, `ALL,GRANT` (GRANT = WITH GRANT OPTION).
    public init(parsing text: String) throws {
        var privileges = Set<String>()
        var grantOption = false
        for piece in text.split(separator: ",") {
            let word = piece.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ").uppercased()
            switch word {
            case "": continue
            case "ALL": privileges.insert(PrivilegeSet.all)
            case "GRANT", "GRANT OPTION": grantOption = true
            case "USAGE": continue
            default:
                guard PrivilegeSet.known.contains(word) else {
                    throw MySQLError(.invalid, message: "unknown privilege \(SQLName.printable(String(piece).trimmingCharacters(in: .whitespaces)))")
                }
                privileges.insert(word)
            }
        }
        self.init(privileges, grantOption: grantOption)
    }
}

/// One line of `SHOW GRANTS`, as far as Quorum manages it (database and table privileges, global ones).
public struct GrantLine: Equatable, Sendable {
    /// The object as the server wrote it (quoted), for REVOKE.
    public var objectSQL: String
    /// The object, unquoted, for comparison with a playbook's `db.*`.
    public var object: String
    public var privileges: PrivilegeSet

    /// Parses `GRANT <privs> ON <object> TO <account> [IDENTIFIED BY …] [WITH GRANT OPTION …]`.
    /// nil for lines Quorum does not manage: roles, PROXY, routines, column privileges.
    public static func parse(_ line: String) -> GrantLine? {
        guard line.hasPrefix("GRANT "), let on = line.range(of: " ON ") else { return nil }
        let privilegeText = line[line.index(line.startIndex, offsetBy: 6)..<on.lowerBound]
        guard !privilegeText.contains("("), let to = line.range(of: " TO ", range: on.upperBound..<line.endIndex) else { return nil }
        let objectSQL = String(line[on.upperBound..<to.lowerBound])
        let upperObject = objectSQL.uppercased()
        if upperObject.hasPrefix("PROCEDURE ") || upperObject.hasPrefix("FUNCTION ") || upperObject.hasPrefix("PACKAGE ") {
            return nil
        }
        var privileges = Set<String>()
        for piece in privilegeText.split(separator: ",") {
            let word = piece.trimmingCharacters(in: .whitespaces).uppercased()
            if word == "PROXY" { return nil }
            if word.isEmpty || word == "USAGE" { continue }
            privileges.insert(word)
        }
        let grantOption = line[to.upperBound...].contains(" WITH GRANT OPTION")
        let object = objectSQL.replacingOccurrences(of: "`", with: "")
        return GrantLine(objectSQL: objectSQL, object: object, privileges: PrivilegeSet(privileges, grantOption: grantOption))
    }
}

/// The statements that take an account from its current grants to the desired ones.
public struct GrantPlan: Equatable, Sendable {
    public struct Change: Equatable, Sendable {
        public var object: String
        public var before: PrivilegeSet
        public var after: PrivilegeSet
        /// `REVOKE … ON <object>` first (the account holds privileges it should not).
        public var revokeFirst: Bool
        /// The revoke statement's object (as the server wrote it) and what to revoke.
        public var revokeObjectSQL: String?
        /// The grant statement's object, nil when nothing is to be granted.
        public var grant: PrivilegeSet?
        public var grantObjectSQL: String?
    }

    public var changes: [Change]

    /// `current`: the account's grant lines (nil objects excluded); `desired`: the playbook's map;
    /// `append`: keep privileges the playbook does not mention.
    public init(current: [GrantLine], desired: [(GrantObject, PrivilegeSet)], append: Bool) {
        var byObject: [String: GrantLine] = [:]
        for line in current {
            if var existing = byObject[line.object] {
                existing.privileges.privileges.formUnion(line.privileges.privileges)
                existing.privileges.grantOption = existing.privileges.grantOption || line.privileges.grantOption
                byObject[line.object] = existing
            } else {
                byObject[line.object] = line
            }
        }
        var changes: [Change] = []
        var mentioned = Set<String>()
        for (object, want) in desired {
            let key = object.description
            mentioned.insert(key)
            let have = byObject[key]?.privileges ?? PrivilegeSet()
            if append {
                guard !have.covers(want) else { continue }
                var after = have
                after.privileges.formUnion(want.privileges)
                if after.privileges.contains(PrivilegeSet.all) { after.privileges = [PrivilegeSet.all] }
                after.grantOption = have.grantOption || want.grantOption
                changes.append(
                    Change(
                        object: key, before: have, after: after, revokeFirst: false, revokeObjectSQL: nil,
                        grant: want, grantObjectSQL: object.sql))
            } else {
                guard have != want else { continue }
                let revoke = !want.covers(have) && !have.isEmpty
                let grant: PrivilegeSet? = want.isEmpty ? nil : want
                changes.append(
                    Change(
                        object: key, before: have, after: want, revokeFirst: revoke,
                        revokeObjectSQL: revoke ? (byObject[key]?.objectSQL ?? object.sql) : nil,
                        grant: grant, grantObjectSQL: grant == nil ? nil : object.sql))
            }
        }
        if !append {
            for (key, line) in byObject.sorted(by: { $0.key < $1.key }) where !mentioned.contains(key) && !line.privileges.isEmpty {
                changes.append(
                    Change(
                        object: key, before: line.privileges, after: PrivilegeSet(), revokeFirst: true,
                        revokeObjectSQL: line.objectSQL, grant: nil, grantObjectSQL: nil))
            }
        }
        self.changes = changes
    }

    /// `REVOKE` for what `change.before` holds (ALL PRIVILEGES covers every privilege; GRANT OPTION if held).
    public static func revokeList(_ before: PrivilegeSet) -> String {
        var words = before.privileges.contains(PrivilegeSet.all) || before.privileges.isEmpty ? [PrivilegeSet.all] : before.privileges.sorted()
        if before.grantOption { words.append("GRANT OPTION") }
        return words.joined(separator: ", ")
    }

    /// The privilege list of a GRANT (never empty: GRANT OPTION alone is granted as `USAGE … WITH GRANT OPTION`).
    public static func grantList(_ set: PrivilegeSet) -> String {
        set.privileges.isEmpty ? "USAGE" : set.privileges.sorted().joined(separator: ", ")
    }
}
