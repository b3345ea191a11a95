import OrderedCollections
import QuorumCore
import QuorumMySQL

/// `mysql_user`: an account on one or several hosts (`'magnum'@'%'`, `'magnum'@'localhost'`), its password
/// and its privileges, or its absence.
///
/// Probes `mysql.user` and `SHOW GRANTS`, then changes only what differs. The password is compared by
/// asking the server for the hash of the desired one (`SELECT PASSWORD(…)`) and comparing it with the stored
/// hash; neither is ever printed. Without `append_privileges`, privileges the playbook does not list are
/// revoked. Values go through the client's escaping; names are validated before connecting.
public struct MySQLUserStep: StepKind {
    public static let name = "mysql_user"
    public static let summary = "A MySQL/MariaDB account (one or more hosts), its password and privileges, or its absence"
    public static let schema = ArgSchema(
        [
            ArgField("name", .string, required: true, "user name (letters, digits, _ . -)"),
            ArgField("host", .list(.string), "account host(s): `%`, `localhost`, an address (default `%`)"),
            ArgField("password", .string, secret: true, "the account's password (required to create it)"),
            ArgField("privileges", .map(.string), "`{\"magnum.*\": \"ALL\"}`: target → comma-separated privileges (`GRANT` = with grant option)"),
            ArgField("append_privileges", .bool, default: .bool(false), "keep privileges not listed (false: they are revoked)"),
            ArgField("state", .choice(["present", "absent"]), "present (default) or absent"),
            MySQLLogin.field
        ], freeForm: "name")
    public static var defaultsFamily: String? { "mysql" }
    public static var runsOncePerPlay: Bool { true }

    public let user: String
    public let hosts: [String]
    public let password: String?
    /// nil: privileges are not managed.
    public let privileges: [(GrantObject, PrivilegeSet)]?
    public let append: Bool
    public let present: Bool
    public let login: MySQLLogin

    public init(checked arguments: Arguments) throws {
        user = try arguments.requiredString("name")
        var hosts: [String] = []
        for host in try arguments.stringList("host") ?? ["%"] where !hosts.contains(host) { hosts.append(host) }
        self.hosts = hosts
        password = try arguments.string("password")
        append = try arguments.value(arguments.bool, "append_privileges")
        present = try arguments.choice("state", ["present", "absent"]) != "absent"
        login = try MySQLLogin(arguments: arguments)
        let user = self.user
        var parsed: [(GrantObject, PrivilegeSet)]?
        let map = try arguments.map("privileges")
        try MySQLRun.validate {
            try SQLName.validateUser(user)
            guard !hosts.isEmpty else { throw MySQLError(.invalid, message: "`host` lists no host") }
            for host in hosts { try SQLName.validateHost(host) }
            if let map {
                parsed = try map.map { target, value in
                    guard let text = value.scalarText, value.listValue == nil, value.mapValue == nil else {
                        throw MySQLError(.invalid, message: "privileges of `\(target)` must be a string such as \"ALL\" or \"SELECT,INSERT\"")
                    }
                    return (try GrantObject(parsing: target), try PrivilegeSet(parsing: text))
                }
            }
        }
        privileges = parsed
        if let password, password.contains("\0") { throw StepFailure("`password` must not contain a NUL character") }
    }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        let db = try await login.connection(context)
        let name = try await MySQLRun.literal(db, user)
        var diffs: [Diff] = []
        var actions: [String] = []

        // Databases the grants need: present, or planned by an earlier mysql_database in check mode.
        if present, let privileges {
            var notes: [String] = []
            for database in Set(privileges.compactMap { $0.0.database }).sorted() where !database.contains("%") {
                let rows = try await MySQLRun.read(
                    db, "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = \(try await MySQLRun.literal(db, database))",
                    "checking database `\(database)`")
                guard rows.isEmpty else { continue }
                if context.check, context.planned.placeholder("mysql_database", database) != nil {
                    notes.append("database \(database) is planned by an earlier step")
                    continue
                }
                throw StepFailure("database `\(database)` does not exist: create it first (mysql_database) before granting on it")
            }
            actions += notes
        }

        for host in hosts {
            let account = "'\(user)'@'\(host)'"
            let sqlAccount = "\(name)@\(try await MySQLRun.literal(db, host))"
            let rows = try await MySQLRun.read(
                db, "SELECT plugin, authentication_string FROM mysql.user WHERE User = \(name) AND Host = \(try await MySQLRun.literal(db, host))",
                "reading account \(account)")
            let exists = !rows.isEmpty

            guard present else {
                guard exists else { continue }
                if !context.check { try await MySQLRun.change(db, "DROP USER \(sqlAccount)", "dropping \(account)") }
                diffs.append(Diff(subject: "user \(account)", before: "present", after: nil))
                actions.append("dropped \(account)")
                continue
            }

            if !exists {
                guard let password else {
                    throw StepFailure("`password` is required to create \(account)")
                }
                let secret = try await MySQLRun.literal(db, password)
                if !context.check {
                    try await MySQLRun.change(db, "CREATE USER \(sqlAccount) IDENTIFIED BY \(secret)", "creating \(account)", secret: true)
                }
                diffs.append(Diff(subject: "user \(account)", before: nil, after: "present"))
                diffs.append(Diff(subject: "password of \(account)", before: nil, after: "(set)", secret: true))
                actions.append("created \(account)")
            } else if let password {
                let plugin = rows[0][0] ?? ""
                let stored = rows[0][1] ?? ""
                let secret = try await MySQLRun.literal(db, password)
                let hash = try await MySQLRun.read(db, "SELECT PASSWORD(\(secret))", "hashing the desired password", secret: true)
                let desired = hash.first?[0] ?? ""
                let matches = (plugin == "mysql_native_password" || plugin.isEmpty) && !desired.isEmpty && desired == stored
                if !matches {
                    if !context.check {
                        try await MySQLRun.change(db, "ALTER USER \(sqlAccount) IDENTIFIED BY \(secret)", "changing the password of \(account)", secret: true)
                    }
                    diffs.append(Diff(subject: "password of \(account)", before: "(stored)", after: "(new)", secret: true))
                    actions.append("password of \(account) changed")
                }
            }

            guard let privileges else { continue }
            var current: [GrantLine] = []
            if exists {
                let lines = try await MySQLRun.read(db, "SHOW GRANTS FOR \(sqlAccount)", "reading the grants of \(account)")
                current = lines.compactMap { $0.first ?? nil }.compactMap(GrantLine.parse)
            }
            let plan = GrantPlan(current: current, desired: privileges, append: append)
            for change in plan.changes {
                if !context.check {
                    if change.revokeFirst, let object = change.revokeObjectSQL {
                        try await MySQLRun.change(
                            db, "REVOKE \(GrantPlan.revokeList(change.before)) ON \(object) FROM \(sqlAccount)",
                            "revoking privileges of \(account) on \(change.object)")
                    }
                    if let grant = change.grant, let object = change.grantObjectSQL {
                        let option = grant.grantOption ? " WITH GRANT OPTION" : ""
                        try await MySQLRun.change(
                            db, "GRANT \(GrantPlan.grantList(grant)) ON \(object) TO \(sqlAccount)\(option)",
                            "granting privileges to \(account) on \(change.object)")
                    }
                }
                diffs.append(
                    Diff(
                        subject: "privileges of \(account) on \(change.object)",
                        before: change.before.isEmpty ? nil : change.before.summary,
                        after: change.after.isEmpty ? nil : change.after.summary))
                actions.append("\(account) on \(change.object): \(change.after.summary)")
            }
        }
        let changed = !diffs.isEmpty
        return StepOutcome(
            changed: changed, diffs: diffs, message: actions.isEmpty ? nil : actions.joined(separator: "; "),
            result: ["user": .string(user), "hosts": .list(hosts.map(Value.string))])
    }
}
