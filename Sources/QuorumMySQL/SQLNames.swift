import Foundation

/// Identifiers Quorum puts into SQL: validated against a narrow alphabet *before* any connection is made,
/// then delimited (back-ticks for database and table names; string literals for account parts).
public enum SQLName {
    /// Database and table names: letters, digits, `_`; 1–64 characters.
    public static func validateDatabase(_ name: String, what: String = "database name") throws {
        try check(name, what: what, max: 64, extra: "_")
    }

    /// User names: letters, digits, `_`, `.`, `-`; 1–80 characters.
    public static func validateUser(_ name: String) throws {
        try check(name, what: "user name", max: 80, extra: "_.-")
    }

    /// Account hosts: a host name, an IPv4/IPv6 address, a netmask (`10.0.0.0/255.0.0.0`) or a pattern
    /// with `%` and `_`; 1–255 characters.
    public static func validateHost(_ name: String) throws {
        try check(name, what: "account host", max: 255, extra: "_.-%:/")
    }

    /// Character set and collation names: letters, digits, `_`.
    public static func validateCharset(_ name: String, what: String) throws {
        try check(name, what: what, max: 64, extra: "_")
    }

    /// `` `name` `` (the name must be valid already; back-ticks are doubled regardless).
    public static func quoted(_ name: String) -> String {
        "`" + name.replacingOccurrences(of: "`", with: "``") + "`"
    }

    private static func check(_ name: String, what: String, max: Int, extra: String) throws {
        guard !name.isEmpty else { throw MySQLError(.invalid, message: "the \(what) is empty") }
        let allowed = name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || extra.unicodeScalars.contains($0)
        }
        guard allowed else {
            throw MySQLError(.invalid, message: "invalid \(what) \(printable(name)): only letters, digits and `\(extra)` are allowed")
        }
        guard name.count <= max else {
            throw MySQLError(.invalid, message: "the \(what) \(printable(name)) is longer than \(max) characters")
        }
    }

    /// A rejected name as shown in an error: escapes make quotes, newlines and control characters visible.
    static func printable(_ name: String) -> String {
        var out = "\""
        for scalar in name.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

/// What a privilege applies to: `*.*`, `db.*` or `db.table`.
public struct GrantObject: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// nil for `*`.
    public var database: String?
    /// nil for `*`.
    public var table: String?

    public init(database: String?, table: String?) {
        self.database = database
        self.table = table
    }

    /// Parses and validates `db.*`, `db.table`, `*.*` (as written in a playbook).
    public init(parsing text: String) throws {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else {
            throw MySQLError(.invalid, message: "privilege target \(SQLName.printable(text)) must be `database.table`, `database.*` or `*.*`")
        }
        database = parts[0] == "*" ? nil : parts[0]
        table = parts[1] == "*" ? nil : parts[1]
        if database == nil && table != nil {
            throw MySQLError(.invalid, message: "privilege target \(SQLName.printable(text)): `*.table` is not valid")
        }
        if let database { try SQLName.validateDatabase(database, what: "database name in privilege target") }
        if let table { try SQLName.validateDatabase(table, what: "table name in privilege target") }
    }

    /// As SQL: `` `db`.* ``.
    public var sql: String {
        (database.map(SQLName.quoted) ?? "*") + "." + (table.map(SQLName.quoted) ?? "*")
    }

    public var description: String { (database ?? "*") + "." + (table ?? "*") }

    public static func < (a: GrantObject, b: GrantObject) -> Bool { a.description < b.description }
}
