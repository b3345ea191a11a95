import Foundation

/// Everything a Magnum run can write in the lab, read with the lab's own tools (not Quorum): per controller the
/// files under /etc/magnum, /etc/haproxy, /etc/iptables (path, mode, owner, sha256), the live iptables rules and
/// HAProxy's master pid; MariaDB's databases, accounts and grants with its counters of changing statements;
/// Keystone's object counts. Two equal snapshots around a check run prove it wrote nothing.
struct LabSnapshot: Equatable {
    var controllers: [String: [String]]
    var databases: String
    var mysqlCounters: String
    var keystone: [String: Int]

    static func take() throws -> LabSnapshot {
        var controllers: [String: [String]] = [:]
        for host in Lab.controllers {
            controllers[host] =
                [try Lab.fingerprint(host), try HA.haproxyPid(host) ?? "no haproxy"]
                + HA.normalizedSave(try Lab.output(host, "iptables-save"))
        }
        let databases = try LabMySQL.admin(
            """
            SHOW DATABASES; SELECT User, Host FROM mysql.user ORDER BY User, Host; \
            SELECT Db, User, Host FROM mysql.db ORDER BY Db, User, Host
            """)
        return LabSnapshot(
            controllers: controllers, databases: databases, mysqlCounters: try LabMySQL.counters(),
            keystone: try LabKeystone.counts())
    }
}
