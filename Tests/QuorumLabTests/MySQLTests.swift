import Foundation
import QuorumMySQL
import QuorumTesting
import Testing

/// The lab's MariaDB (lab/services/30-mariadb.sh) and the `mysql` client, to check what Quorum did.
enum LabMySQL {
    static let vip = "10.21.22.2"
    static let adminUser = "quorum_admin"
    static let adminPassword = "Qu0rum-Adm1n"
    static var socket: String { Lab.stateDirectory + "/lab/mariadb/mysqld.sock" }
    static var pidFile: String { Lab.stateDirectory + "/lab/pids/mariadb" }
    /// How the tests' playbooks reach the database: through the controller's SSH session (the default, as
    /// users run it); `QUORUM_TEST_MYSQL_VIA=direct` reaches the VIP straight from this machine.
    static let via = ProcessInfo.processInfo.environment["QUORUM_TEST_MYSQL_VIA"] ?? "tunnel"

    /// `mysql` from the root namespace over TCP to the VIP (or the server's socket), the password in MYSQL_PWD.
    static func client(_ sql: String, user: String = adminUser, password: String = adminPassword, socket viaSocket: Bool = false) throws -> Command.Result {
        var argv = ["mysql", "--no-defaults", "-N", "-B", "-u", user, "-e", sql]
        argv += viaSocket ? ["--protocol=socket", "-S", socket] : ["-h", vip, "-P", "3306", "--connect-timeout=5"]
        return try Command.run(argv, environment: ["PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "MYSQL_PWD": password])
    }

    /// The output of a statement that must succeed as the admin.
    static func admin(_ sql: String) throws -> String {
        let result = try client(sql)
        guard result.status == 0 else { throw TestError("mysql `\(sql)` failed: \(result.stderr)") }
        return result.stdout
    }

    /// True when `user`/`password` can log in (and CURRENT_USER() is the expected account).
    static func canLogin(_ user: String, _ password: String, as account: String, socket: Bool = false) throws -> Bool {
        let result = try client("SELECT CURRENT_USER()", user: user, password: password, socket: socket)
        return result.status == 0 && result.stdout == account + "\n"
    }

    /// No magnum database and no magnum account, and Magnum's services stopped as on a fresh lab: a conductor
    /// whose database went away under it never registers again in the new one (it keeps updating its old row;
    /// seen: `magnum service-list` without conductors minutes later), so the next apply starts them anew.
    static func resetMagnum() throws {
        _ = try admin("DROP DATABASE IF EXISTS magnum; DROP USER IF EXISTS 'magnum'@'%', 'magnum'@'localhost', 'magnum'@'controller'")
        for host in Lab.controllers {
            _ = try Lab.output(host, "service magnum-api stop >/dev/null; service magnum-conductor stop >/dev/null; true")
        }
    }

    /// Server counters of statements that change databases and accounts, plus connections made.
    static func counters() throws -> String {
        try admin(
            """
            SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN \
            ('COM_CREATE_DB','COM_DROP_DB','COM_ALTER_DB','COM_CREATE_USER','COM_DROP_USER','COM_ALTER_USER',\
            'COM_GRANT','COM_REVOKE','COM_REVOKE_ALL') ORDER BY VARIABLE_NAME
            """)
    }

    static func connections() throws -> Int {
        Int(
            try admin("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='CONNECTIONS'")
                .trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// The magnum playbook: database, then the account on `%` and `localhost` with ALL on magnum.*.
    static func playbook(
        _ ws: Workspace, password: String, database: String = "magnum", user: String = "magnum",
        databaseStep: Bool = true
    ) throws -> String {
        let createDatabase =
            databaseStep
            ? """
                - name: magnum database
                  mysql_database: {name: \(try LabTests.yamlQuoted(database))}
            """ : ""
        return try ws.write(
            "mysql.yml",
            """
            - name: Magnum's database
              hosts: controllers
              vars:
                mysql_admin_password: \(adminPassword)
                magnum_db_password: \(try LabTests.yamlQuoted(password))
              defaults:
                mysql:
                  login: {host: \(vip), port: 3306, user: \(adminUser), password: "{{ mysql_admin_password }}", via: \(via)}
              steps:
            \(createDatabase)
                - name: magnum user
                  mysql_user:
                    name: \(try LabTests.yamlQuoted(user))
                    host: ["%", localhost]
                    password: "{{ magnum_db_password }}"
                    privileges: {"\(database).*": ALL}
            """)
    }

    static func expectNoSecret(_ run: QuorumCLI.Run, _ secrets: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        for secret in secrets {
            #expect(!run.all.contains(secret), "a password was printed", sourceLocation: sourceLocation)
            #expect(!(run.report?.raw.contains(secret) ?? false), "a password is in the --json report", sourceLocation: sourceLocation)
        }
    }

    static let allOnMagnum = "GRANT ALL PRIVILEGES ON `magnum`.* TO `magnum`@`%`"
}

extension LabTests {
    @Test("mysql: check on a fresh server predicts database and account and creates nothing; apply creates them; second run ok")
    func mysqlCreatesDatabaseAndAccount() throws {
        try LabMySQL.resetMagnum()
        let ws = try Workspace("mysql")
        defer { ws.remove() }
        let password = "m4gnum-DB-pass"
        let playbook = try LabMySQL.playbook(ws, password: password)

        let counters = try LabMySQL.counters()
        let check = try QuorumCLI.apply(playbook, ["--check", "--diff"])
        #expect(check.status == 4, "check on a fresh server must report drift:\n\(check.all)")
        #expect(check.report?.pairs("changed") == ["ctl1/magnum database", "ctl1/magnum user"], "\(check.report?.pairs("changed") ?? [])")
        #expect(check.report?.pairs("failed") == [], "\(check.all)")
        let countersAfter = try LabMySQL.counters()
        #expect(countersAfter == counters, "check mode sent a statement that changes the server: \(counters) → \(countersAfter)")
        #expect(try LabMySQL.admin("SHOW DATABASES LIKE 'magnum'").isEmpty)
        #expect(try LabMySQL.admin("SELECT COUNT(*) FROM mysql.user WHERE User='magnum'") == "0\n")
        LabMySQL.expectNoSecret(check, [password, LabMySQL.adminPassword])

        let apply = try QuorumCLI.apply(playbook, ["--diff"])
        #expect(apply.status == 0, "\(apply.all)")
        #expect(apply.report?.pairs("changed") == check.report?.pairs("changed"), "apply did not do what check predicted")
        // Once per play: only the first controller ran the steps.
        #expect(apply.report?.results.filter { $0.host != "ctl1" && $0.outcome != "skipped" }.isEmpty ?? false)
        LabMySQL.expectNoSecret(apply, [password, LabMySQL.adminPassword])
        #expect(try LabMySQL.admin("SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='magnum'") == "utf8mb4\n")
        #expect(try LabMySQL.canLogin("magnum", password, as: "magnum@%"))
        #expect(try LabMySQL.canLogin("magnum", password, as: "magnum@localhost", socket: true))
        let fromController = try Lab.exec("ctl2", "MYSQL_PWD='\(password)' mysql --no-defaults -N -B -h \(LabMySQL.vip) -u magnum -e 'SELECT CURRENT_USER()'")
        #expect(fromController.stdout == "magnum@%\n", "\(fromController.stderr)")
        let grants = try LabMySQL.client("SHOW GRANTS", user: "magnum", password: password).stdout
        #expect(grants.contains(LabMySQL.allOnMagnum), "\(grants)")
        #expect(try LabMySQL.admin("SHOW GRANTS FOR 'magnum'@'localhost'").contains("GRANT ALL PRIVILEGES ON `magnum`.* TO `magnum`@`localhost`"))
        // The magnum account can use its database.
        #expect(try LabMySQL.client("CREATE TABLE magnum.t (i INT); DROP TABLE magnum.t", user: "magnum", password: password).status == 0)

        let again = try QuorumCLI.apply(playbook)
        #expect(again.status == 0, "\(again.all)")
        #expect(again.report?.totalChanged == 0, "second run changed: \(again.report?.pairs("changed") ?? [])")
    }

    @Test("mysql: a new password is one change; the new one logs in, the old one no longer does")
    func mysqlPasswordChange() throws {
        try LabMySQL.resetMagnum()
        let ws = try Workspace("mysql-pw")
        defer { ws.remove() }
        let old = "old-Pa55"
        let new = "new-Pa55"
        #expect(try QuorumCLI.apply(try LabMySQL.playbook(ws, password: old)).status == 0)
        let counters = try LabMySQL.counters()
        let check = try QuorumCLI.apply(try LabMySQL.playbook(ws, password: new), ["--check", "--diff"])
        #expect(check.status == 4 && check.report?.pairs("changed") == ["ctl1/magnum user"], "\(check.all)")
        #expect(try LabMySQL.counters() == counters)
        #expect(try LabMySQL.canLogin("magnum", old, as: "magnum@%"), "check mode changed the password")
        let run = try QuorumCLI.apply(try LabMySQL.playbook(ws, password: new), ["--diff"])
        #expect(run.status == 0, "\(run.all)")
        #expect(run.report?.pairs("changed") == ["ctl1/magnum user"], "\(run.report?.pairs("changed") ?? [])")
        LabMySQL.expectNoSecret(run, [old, new, LabMySQL.adminPassword])
        #expect(try LabMySQL.canLogin("magnum", new, as: "magnum@%"))
        #expect(try LabMySQL.canLogin("magnum", new, as: "magnum@localhost", socket: true))
        #expect(try !LabMySQL.canLogin("magnum", old, as: "magnum@%"))
        #expect(try QuorumCLI.apply(try LabMySQL.playbook(ws, password: new)).report?.totalChanged == 0)
    }

    @Test("mysql: a privilege revoked by hand is drift: --check reports it and changes nothing, apply restores it")
    func mysqlPrivilegeDrift() throws {
        try LabMySQL.resetMagnum()
        let ws = try Workspace("mysql-drift")
        defer { ws.remove() }
        let playbook = try LabMySQL.playbook(ws, password: "drift-Pa55")
        #expect(try QuorumCLI.apply(playbook).status == 0)
        _ = try LabMySQL.admin("REVOKE DELETE ON magnum.* FROM 'magnum'@'%'")
        let drifted = try LabMySQL.admin("SHOW GRANTS FOR 'magnum'@'%'")
        #expect(!drifted.contains(LabMySQL.allOnMagnum))

        let check = try QuorumCLI.apply(playbook, ["--check", "--diff"])
        #expect(check.status == 4, "\(check.all)")
        #expect(check.report?.pairs("changed") == ["ctl1/magnum user"], "\(check.report?.pairs("changed") ?? [])")
        #expect(check.stdout.contains("magnum.*"), "the diff does not name the grant:\n\(check.stdout)")
        #expect(try LabMySQL.admin("SHOW GRANTS FOR 'magnum'@'%'") == drifted, "check mode changed the grants")

        let apply = try QuorumCLI.apply(playbook)
        #expect(apply.status == 0 && apply.report?.pairs("changed") == ["ctl1/magnum user"], "\(apply.all)")
        #expect(try LabMySQL.admin("SHOW GRANTS FOR 'magnum'@'%'").contains(LabMySQL.allOnMagnum))
        #expect(try QuorumCLI.apply(playbook).report?.totalChanged == 0)
    }

    @Test("mysql: hostile passwords round-trip through the playbook and log in")
    func mysqlHostilePasswords() throws {
        try LabMySQL.resetMagnum()
        let ws = try Workspace("mysql-hostile")
        defer { ws.remove() }
        for password in ["it's \"quoted\" back\\slash; semi -- dash", "new\nline ünïcødé 🔑 中文 '; DROP USER 'quorum_admin'@'%'; --", Self.hostile] {
            let playbook = try LabMySQL.playbook(ws, password: password)
            let run = try QuorumCLI.apply(playbook)
            #expect(run.status == 0, "\(run.all)")
            LabMySQL.expectNoSecret(run, [password])
            #expect(try LabMySQL.canLogin("magnum", password, as: "magnum@%"), "cannot log in with \(password.debugDescription)")
            #expect(try QuorumCLI.apply(playbook).report?.totalChanged == 0, "not idempotent with \(password.debugDescription)")
        }
        #expect(try LabMySQL.canLogin(LabMySQL.adminUser, LabMySQL.adminPassword, as: "quorum_admin@%"))
    }

    @Test("mysql: hostile database and user names are refused before any connection (exit 2)")
    func mysqlHostileNames() throws {
        let ws = try Workspace("mysql-names")
        defer { ws.remove() }
        // The first failing step is the one with the hostile name (the user cases have no database step, which
        // would connect before the user step refuses its name).
        for (database, user) in [("magnum`; DROP DATABASE mysql; --", "magnum"), ("magnum", "x'@'%' IDENTIFIED BY 'p"), ("magnum", "new\nline")] {
            let playbook = try LabMySQL.playbook(ws, password: "p", database: database, user: user, databaseStep: user == "magnum")
            let before = try LabMySQL.connections()
            let run = try QuorumCLI.apply(playbook)
            #expect(run.status == 2, "\(run.all)")
            #expect(run.all.contains("refused before connecting"), "\(run.all)")
            #expect(run.all.contains("invalid"), "\(run.all)")
            // Only our own counting connection reached the server in between.
            let after = try LabMySQL.connections()
            #expect(after - before == 1, "quorum connected although a name was refused (\(before) → \(after)): \(run.all)")
        }
        #expect(try LabMySQL.admin("SHOW DATABASES LIKE 'mysql'") == "mysql\n")
    }

    @Test("mysql: MariaDB stopped: a clean failure naming the host, the step and the server's error (exit 2)")
    func mysqlServerDown() throws {
        let ws = try Workspace("mysql-down")
        defer { ws.remove() }
        let playbook = try LabMySQL.playbook(ws, password: "down-Pa55")
        let pid = try String(contentsOfFile: LabMySQL.pidFile, encoding: .utf8).split(separator: " ").first.map(String.init) ?? ""
        #expect(try Command.run(["kill", "-TERM", pid]).status == 0)
        var stopped = false
        for _ in 0..<300 where !stopped {
            stopped = !FileManager.default.fileExists(atPath: "/proc/\(pid)")
            if !stopped { Thread.sleep(forTimeInterval: 0.1) }
        }
        #expect(stopped)
        let run = try QuorumCLI.apply(playbook)
        // Bring it back for the other tests whatever happened (lab.sh up is idempotent and restarts it).
        let up = try Command.run(["bash", PackageRoot.path + "/lab/lab.sh", "up"])
        #expect(up.status == 0, "\(up.stderr)")
        #expect(run.status == 2, "\(run.all)")
        let failed = run.report?.results.filter { $0.outcome == "failed" } ?? []
        // Found by the preflight, before any write: the database login of each MySQL step, on the first controller.
        #expect(failed.first.map { "\($0.host)/\($0.step)" } == "ctl1/preflight: magnum database", "\(run.all)")
        #expect(failed.allSatisfy { $0.host == "ctl1" && $0.step.hasPrefix("preflight: ") }, "\(run.all)")
        let error = failed.first?.error ?? ""
        // Through the tunnel, ctl1's sshd reports that nothing listens at the VIP; directly, the client does.
        let cause = LabMySQL.via == "tunnel" ? "cannot connect to 10.21.22.2:3306" : "MySQL error"
        #expect(error.contains("10.21.22.2:3306") && error.contains("ctl1") && error.contains(cause), "\(error)")
        #expect(run.all.contains("magnum database"))
        LabMySQL.expectNoSecret(run, ["down-Pa55", LabMySQL.adminPassword])
        // Nothing else disturbed: the controllers still answer.
        for host in Lab.controllers { #expect(try Lab.exec(host, "true").status == 0) }
    }
}

/// QuorumMySQL itself against the lab's MariaDB (10.21.22.2:3306, from this machine): inside the one
/// serialized lab suite, so that the server's counters are not disturbed by another test.
extension LabTests {
    @Test("mysql library: hostile passwords round-trip: set through escaping, then log in with them")
    func mysqlLibraryHostilePasswords() async throws {
        let admin = try await LabDatabase.admin()
        defer { Task { await admin.close() } }
        let passwords = [
            "it's", "say \"hi\"", "back\\slash", "semi;colon -- comment", "new\nline\ttab", "ünïcødé 🔑 中文",
            "'; DROP USER 'quorum_admin'@'%'; --", "\\'\\\"%_", String(repeating: "x", count: 200)
        ]
        try await admin.execute("DROP USER IF EXISTS 'quorum_unit'@'%'")
        try await admin.execute("CREATE USER 'quorum_unit'@'%' IDENTIFIED BY 'initial'")
        for password in passwords {
            try await admin.execute("ALTER USER 'quorum_unit'@'%' IDENTIFIED BY \(try await admin.literal(password))", secret: true)
            let user = try await MySQLConnection.connect(LabDatabase.endpoint(user: "quorum_unit", password: password), readOnly: true, label: "unit")
            #expect(try await user.query("SELECT CURRENT_USER()") == [["quorum_unit@%"]])
            await user.close()
            // The server's hash of the same value is the stored one (how mysql_user detects a change).
            let stored = try await admin.query("SELECT authentication_string FROM mysql.user WHERE User='quorum_unit' AND Host='%'")
            let hashed = try await admin.query("SELECT PASSWORD(\(try await admin.literal(password)))", secret: true)
            #expect(stored == hashed)
        }
        try await admin.execute("DROP USER 'quorum_unit'@'%'")
        // The admin account survived the hostile values.
        #expect(try await admin.query("SELECT COUNT(*) FROM mysql.user WHERE User='quorum_admin'") == [["1"]])
    }

    @Test("mysql library: wrong password and nothing listening: clear errors, no secret")
    func mysqlLibraryConnectErrors() async throws {
        do {
            _ = try await MySQLConnection.connect(LabDatabase.endpoint(password: "wrong-Secret-42"), readOnly: true, label: "unit")
            Issue.record("logged in with a wrong password")
        } catch let error as MySQLError {
            #expect(error.kind == .connect && error.code == 1045, "\(error)")
            #expect(!error.description.contains("wrong-Secret-42"))
        }
        do {
            var endpoint = LabDatabase.endpoint()
            endpoint.port = 3307
            endpoint.connectTimeout = 2
            _ = try await MySQLConnection.connect(endpoint, readOnly: true, label: "unit")
            Issue.record("connected to a closed port")
        } catch let error as MySQLError {
            #expect(error.isUnreachable, "\(error)")
        }
    }

    @Test("mysql library: check mode: the read-only connection sends no changing statement (server counters unchanged)")
    func mysqlLibraryReadOnlyOnTheServer() async throws {
        let admin = try await LabDatabase.admin()
        defer { Task { await admin.close() } }
        let before = try await LabDatabase.changeCounters(admin)
        let ro = try await MySQLConnection.connect(LabDatabase.endpoint(), readOnly: true, label: "unit")
        await #expect(throws: MySQLError.self) { try await ro.execute("CREATE DATABASE quorum_unit_never") }
        await #expect(throws: MySQLError.self) { try await ro.execute("CREATE USER 'never'@'%'") }
        _ = try await ro.query("SHOW DATABASES")
        #expect(await ro.statistics == MySQLConnection.Statistics(reads: 1, changes: 0, refused: 2))
        await ro.close()
        #expect(try await LabDatabase.changeCounters(admin) == before)
        #expect(try await admin.query("SHOW DATABASES LIKE 'quorum_unit_never'").isEmpty)
    }

    @Test("mysql library: connections run on their own threads, many at once")
    func mysqlLibraryManyConnections() async throws {
        try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    let connection = try await MySQLConnection.connect(LabDatabase.endpoint(), readOnly: true, label: "unit")
                    let rows = try await connection.query("SELECT SLEEP(0.3), CONNECTION_ID()")
                    await connection.close()
                    return rows.first?[1] ?? nil
                }
            }
            var ids = Set<String>()
            for try await id in group { if let id { ids.insert(id) } }
            #expect(ids.count == 8)
        }
    }
}

enum LabDatabase {
    static let host = "10.21.22.2"
    static let adminUser = "quorum_admin"
    static let adminPassword = "Qu0rum-Adm1n"

    static func endpoint(user: String = adminUser, password: String = adminPassword) -> MySQLEndpoint {
        MySQLEndpoint(host: host, port: 3306, user: user, password: password, connectTimeout: 5)
    }

    static func admin() async throws -> MySQLConnection {
        try await MySQLConnection.connect(endpoint(), readOnly: false, label: "unit admin")
    }

    /// The server's counters of statements that change databases and accounts.
    static func changeCounters(_ admin: MySQLConnection) async throws -> MySQLRows {
        try await admin.query(
            """
            SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN \
            ('COM_CREATE_DB','COM_DROP_DB','COM_ALTER_DB','COM_CREATE_USER','COM_DROP_USER','COM_ALTER_USER',\
            'COM_GRANT','COM_REVOKE','COM_REVOKE_ALL','COM_SET_OPTION') ORDER BY VARIABLE_NAME
            """)
    }
}

extension LabTests {
    @Test("mysql: a controller whose sshd refuses TCP forwarding gives a clear error naming it and the setting")
    func mysqlForwardingRefused() throws {
        guard LabMySQL.via == "tunnel" else { return }
        let config = Lab.stateDirectory + "/ctl2/sshd_config"
        let original = try String(contentsOfFile: config, encoding: .utf8)
        let refusing = original.replacingOccurrences(of: "AllowTcpForwarding yes", with: "AllowTcpForwarding no")
        #expect(refusing != original, "the lab's sshd_config no longer says AllowTcpForwarding yes")
        // sshd re-reads its configuration on SIGHUP; new sessions then follow it.
        func reload() throws {
            try Lab.exec("ctl2", "kill -HUP $(cat /run/sshd.pid)")
            Thread.sleep(forTimeInterval: 0.5)
        }
        try refusing.write(toFile: config, atomically: true, encoding: .utf8)
        try reload()
        defer {
            try? original.write(toFile: config, atomically: true, encoding: .utf8)
            try? reload()
        }
        let ws = try Workspace("mysql-noforward")
        defer { ws.remove() }
        let playbook = try LabMySQL.playbook(ws, password: "fwd-Pa55")
        let run = try QuorumCLI.apply(playbook, inventory: Lab.inventory, ["--limit", "ctl2"])
        #expect(run.status == 2, "\(run.all)")
        let error = run.report?.results.first { $0.outcome == "failed" }?.error ?? ""
        #expect(error.contains("ctl2") && error.contains("AllowTcpForwarding"), "\(error)")
        LabMySQL.expectNoSecret(run, ["fwd-Pa55", LabMySQL.adminPassword])
    }
}
