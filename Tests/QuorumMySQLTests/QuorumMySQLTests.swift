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
