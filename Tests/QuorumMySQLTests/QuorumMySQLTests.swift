import Foundation
import Testing
@testable import QuorumMySQL

@Suite("QuorumMySQL without a server")
struct OfflineTests {
    @Test("identifiers: plain names pass, hostile ones are refused with the reason")
    func identifiers() throws {
        try SQLName.validateDatabase("magnum")
        try SQLName.validateDatabase("nova_api")
        try SQLName.validateUser("magnum-ro.1")
        for host in ["%", "localhost", "10.21.22.%", "10.0.0.0/255.0.0.0", "::1", "ctl1"] { try SQLName.validateHost(host) }
        for bad in ["magnum`; DROP DATABASE mysql; --", "a b", "x'y", "ma\ngnum", "", "é", String(repeating: "a", count: 65), "db.x"] {
            #expect(throws: MySQLError.self) { try SQLName.validateDatabase(bad) }
        }
        for bad in ["o'brien", "u\"", "u@h", "u;", "u\\"] { #expect(throws: MySQLError.self) { try SQLName.validateUser(bad) } }
        for bad in ["%' OR '1'='1", "h h", "h`"] { #expect(throws: MySQLError.self) { try SQLName.validateHost(bad) } }
        do {
            try SQLName.validateDatabase("bad\nname")
            Issue.record("accepted a newline")
        } catch let error as MySQLError {
            #expect(error.message.contains("\"bad\\nname\""), "\(error.message)")
        }
        #expect(SQLName.quoted("a`b") == "`a``b`")
    }

    @Test("privilege targets and privilege lists")
    func privileges() throws {
        #expect(try GrantObject(parsing: "magnum.*").sql == "`magnum`.*")
        #expect(try GrantObject(parsing: "*.*").sql == "*.*")
        #expect(try GrantObject(parsing: "magnum.t1").sql == "`magnum`.`t1`")
        #expect(throws: MySQLError.self) { try GrantObject(parsing: "magnum") }
        #expect(throws: MySQLError.self) { try GrantObject(parsing: "*.t") }
        #expect(throws: MySQLError.self) { try GrantObject(parsing: "m`x.*") }
        #expect(try PrivilegeSet(parsing: "ALL") == PrivilegeSet(["ALL PRIVILEGES"]))
        #expect(try PrivilegeSet(parsing: "select, insert,GRANT") == PrivilegeSet(["SELECT", "INSERT"], grantOption: true))
        #expect(try PrivilegeSet(parsing: "lock  tables") == PrivilegeSet(["LOCK TABLES"]))
        #expect(throws: MySQLError.self) { try PrivilegeSet(parsing: "SELECT; DROP TABLE x") }
    }

    @Test("SHOW GRANTS lines as MariaDB 10.11 writes them")
    func grantLines() throws {
        let usage = try #require(GrantLine.parse("GRANT USAGE ON *.* TO `magnum`@`%` IDENTIFIED BY PASSWORD '*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19'"))
        #expect(usage.object == "*.*" && usage.privileges.isEmpty)
        let all = try #require(GrantLine.parse("GRANT ALL PRIVILEGES ON `magnum`.* TO `magnum`@`%`"))
        #expect(all.object == "magnum.*" && all.objectSQL == "`magnum`.*" && all.privileges == PrivilegeSet(["ALL PRIVILEGES"]))
        let some = try #require(GrantLine.parse("GRANT SELECT, INSERT, LOCK TABLES ON `magnum`.* TO `magnum`@`localhost` WITH GRANT OPTION"))
        #expect(some.privileges == PrivilegeSet(["SELECT", "INSERT", "LOCK TABLES"], grantOption: true))
        #expect(GrantLine.parse("GRANT PROXY ON ''@'%' TO 'root'@'localhost' WITH GRANT OPTION") == nil)
        #expect(GrantLine.parse("GRANT `role1` TO `magnum`@`%`") == nil)
        #expect(GrantLine.parse("GRANT SELECT (`a`) ON `magnum`.`t` TO `magnum`@`%`") == nil)
        #expect(GrantLine.parse("GRANT EXECUTE ON PROCEDURE `magnum`.`p` TO `magnum`@`%`") == nil)
    }

    @Test("grant plans: nothing when equal, grant when missing, revoke then grant when extra")
    func plans() throws {
        let all = [(try GrantObject(parsing: "magnum.*"), try PrivilegeSet(parsing: "ALL"))]
        let hasAll = [GrantLine.parse("GRANT ALL PRIVILEGES ON `magnum`.* TO `magnum`@`%`")!]
        #expect(GrantPlan(current: hasAll, desired: all, append: false).changes.isEmpty)
        let fresh = GrantPlan(current: [], desired: all, append: false).changes
        #expect(fresh.count == 1 && fresh[0].grant == PrivilegeSet(["ALL PRIVILEGES"]) && !fresh[0].revokeFirst)
        // A privilege revoked by hand: grant ALL again, no revoke needed.
        let drift = [GrantLine.parse("GRANT SELECT, INSERT ON `magnum`.* TO `magnum`@`%`")!]
        let restore = GrantPlan(current: drift, desired: all, append: false).changes
        #expect(restore.count == 1 && !restore[0].revokeFirst && restore[0].grant != nil)
        // Too much: revoke, then grant what is wanted.
        let select = [(try GrantObject(parsing: "magnum.*"), try PrivilegeSet(parsing: "SELECT"))]
        let shrink = GrantPlan(current: hasAll, desired: select, append: false).changes
        #expect(shrink.count == 1 && shrink[0].revokeFirst && shrink[0].grant == PrivilegeSet(["SELECT"]))
        #expect(GrantPlan(current: hasAll, desired: select, append: true).changes.isEmpty)
        // Not listed: revoked (unless append); USAGE on *.* is never touched.
        let other = hasAll + [GrantLine.parse("GRANT SELECT ON `nova`.* TO `magnum`@`%`")!, GrantLine.parse("GRANT USAGE ON *.* TO `magnum`@`%`")!]
        let extra = GrantPlan(current: other, desired: all, append: false).changes
        #expect(extra.map(\.object) == ["nova.*"] && extra[0].revokeFirst && extra[0].grant == nil)
        #expect(GrantPlan(current: other, desired: all, append: true).changes.isEmpty)
        #expect(GrantPlan.revokeList(PrivilegeSet(["SELECT"], grantOption: true)) == "SELECT, GRANT OPTION")
    }

    @Test("statement doors: only SELECT/SHOW read")
    func classification() {
        #expect(MySQLStatement.isRead("SELECT 1"))
        #expect(MySQLStatement.isRead("  SHOW GRANTS FOR 'a'@'%'"))
        #expect(!MySQLStatement.isRead("GRANT ALL ON *.* TO x"))
        #expect(!MySQLStatement.isRead("SELECT * FROM t INTO OUTFILE '/tmp/x'"))
        #expect(!MySQLStatement.isRead("select 1 for update"))
        #expect(MySQLStatement.verb("\n create database x") == "CREATE")
    }

    @Test("a read-only connection refuses every change before sending it, and counts the refusal")
    func readOnlyRefuses() async throws {
        let connection = MySQLConnection(readOnly: true, label: "offline")
        for sql in ["CREATE DATABASE x", "GRANT ALL ON x.* TO 'a'@'%'", "DROP USER 'a'@'%'"] {
            await #expect(throws: MySQLError.self) { try await connection.execute(sql) }
        }
        // Nothing that changes state passes the read door either.
        await #expect(throws: MySQLError.self) { try await connection.query("DROP DATABASE mysql") }
        let stats = await connection.statistics
        #expect(stats == MySQLConnection.Statistics(reads: 0, changes: 0, refused: 3))
        await connection.close()
    }

    @Test("escaping on an initialised handle (utf8mb4): quotes, backslash, NUL, newline, unicode")
    func escaping() async throws {
        let connection = MySQLConnection(readOnly: true, label: "offline")
        _ = try await connection.prepareForTests()
        #expect(try await connection.literal("a'b") == "'a\\'b'")
        #expect(try await connection.literal("x\"y\\z;--\n\u{0}é🔑") == "'x\\\"y\\\\z;--\\n\\0é🔑'")
        await connection.close()
    }
}

extension MySQLConnection {
    func prepareForTests() throws -> Bool {
        _ = try prepare(MySQLEndpoint(host: "127.0.0.1", port: 3306, user: "nobody", password: ""))
        return true
    }
}

/// Real round trips against the lab's MariaDB (10.21.22.2:3306, from this machine), when the lab is up
/// (`bash lab/with-lab.sh swift test --filter QuorumMySQLTests`).
@Suite("QuorumMySQL against the lab's MariaDB", .enabled(if: LabDatabase.reachable), .serialized)
struct LabDatabaseTests {
    @Test("hostile passwords round-trip: set through escaping, then log in with them")
    func hostilePasswords() async throws {
        let admin = try await LabDatabase.admin()
        defer { Task { await admin.close() } }
        let passwords = ["it's", "say \"hi\"", "back\\slash", "semi;colon -- comment", "new\nline\ttab", "ünïcødé 🔑 中文",
                         "'; DROP USER 'quorum_admin'@'%'; --", "\\'\\\"%_", String(repeating: "x", count: 200)]
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

    @Test("wrong password and nothing listening: clear errors, no secret")
    func connectErrors() async throws {
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

    @Test("check mode: the read-only connection sends no changing statement (server counters unchanged)")
    func readOnlyOnTheServer() async throws {
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

    @Test("connections run on their own threads, many at once")
    func manyConnections() async throws {
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

    static let reachable: Bool = {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(3306).bigEndian
        inet_pton(AF_INET, host, &address.sin_addr)
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        // A MariaDB server speaks first: a handshake packet, protocol version 10, then "x.y.z-MariaDB".
        var greeting = [UInt8](repeating: 0, count: 64)
        guard connected, recv(fd, &greeting, greeting.count, 0) > 8 else { return false }
        return greeting[4] == 10 && String(decoding: greeting[5...], as: UTF8.self).contains("MariaDB")
    }()

    static func endpoint(user: String = adminUser, password: String = adminPassword) -> MySQLEndpoint {
        MySQLEndpoint(host: host, port: 3306, user: user, password: password, connectTimeout: 5)
    }

    static func admin() async throws -> MySQLConnection {
        try await MySQLConnection.connect(endpoint(), readOnly: false, label: "unit admin")
    }

    /// The server's counters of statements that change databases and accounts.
    static func changeCounters(_ admin: MySQLConnection) async throws -> MySQLRows {
        try await admin.query("""
            SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN \
            ('COM_CREATE_DB','COM_DROP_DB','COM_ALTER_DB','COM_CREATE_USER','COM_DROP_USER','COM_ALTER_USER',\
            'COM_GRANT','COM_REVOKE','COM_REVOKE_ALL','COM_SET_OPTION') ORDER BY VARIABLE_NAME
            """)
    }
}
