import Foundation
import QuorumTesting
import Synchronization
import Testing

/// The schema step of magnum-ha.yml (`magnum-db-manage upgrade` with the `unless` probe `magnum_schema_current`):
/// check and audit predict it, a no-change apply does not run magnum-db-manage, drift is found and repaired.
enum MagnumSchema {
    static let step = "Magnum's database schema"
    static var pair: String { DriftMatrix.once(step) }

    /// magnum-db-manage itself in ctl1's process list, as the kernel started it (interpreter, script, arguments):
    /// not the shells that only name it (the step's `sh -c '… upgrade 2>&1'`, the probe's `command -v`).
    static let upgradeWitness = "/usr/bin/magnum-db-manage --config-file /etc/magnum/magnum.conf upgrade"
    /// The probe's Python (`python3 - --config-file … --expect …`).
    static let probeWitness = "python3 - --config-file /etc/magnum/magnum.conf --expect magnum@10.21.22.2:3306/magnum"

    /// Runs `body` while sampling ctl1's processes; returns its result and the witnesses seen.
    static func watchingCtl1<T>(_ body: () throws -> T) throws -> (T, Set<String>) {
        let sampler = try ProcessSampler(on: "ctl1", needles: [], witnesses: [upgradeWitness, probeWitness])
        let result: T
        do {
            result = try body()
        } catch {
            _ = try? sampler.stop()
            throw error
        }
        let seen = try sampler.stop()
        #expect(seen.samples > 10, "the sampler sampled \(seen.samples) times")
        return (result, Set(seen.witnessed.keys))
    }

    /// The revisions of the lab's Magnum (Debian 12's Magnum 15) by alembic's own reading of its scripts
    /// (`ScriptDirectory`, which imports every script): the head and its parent.
    static func alembicHeadAndParent() throws -> (head: String, parent: String) {
        let result = try Command.run([
            "/usr/bin/python3", "-c",
            """
            from alembic.script import ScriptDirectory
            import magnum.db.sqlalchemy as s, os
            d = ScriptDirectory(os.path.join(os.path.dirname(s.__file__), "alembic"))
            (head,) = d.get_heads()
            print(head, d.get_revision(head).down_revision)
            """
        ])
        let words = result.stdout.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard result.status == 0, words.count == 2 else { throw TestError("alembic: \(result.stdout)\(result.stderr)") }
        return (words[0], words[1])
    }

    static func version() throws -> String {
        try LabMySQL.admin("SELECT GROUP_CONCAT(version_num) FROM magnum.alembic_version").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Replaces the magnum database (same character set and collation, grants kept) by one whose schema is at
    /// `revision`, as a database restored from an older Magnum's backup would be: made by Magnum's own tool.
    static func restoreAt(_ revision: String) throws {
        let charset = try LabMySQL.admin(
            "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'magnum'"
        )
        .split(separator: "\t").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard charset.count == 2 else { throw TestError("no magnum database: \(charset)") }
        _ = try LabMySQL.admin("DROP DATABASE magnum; CREATE DATABASE magnum CHARACTER SET \(charset[0]) COLLATE \(charset[1])")
        _ = try Lab.output("ctl1", "magnum-db-manage --config-file /etc/magnum/magnum.conf upgrade \(revision) 2>&1")
    }

    /// `quorum audit --json`: the schema step is drift on ctl1 when `drift`, and never "not audited".
    static func expectAudited(drift: Bool, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let audit = try LabAudit.audit(DriftMatrix.extra)
        #expect(audit.drift.contains(pair) == drift, "audit drift: \(audit.drift.sorted())", sourceLocation: sourceLocation)
        let notAudited = audit.hosts.flatMap { ($0["not_audited"] as? [[String: Any]] ?? []).compactMap { $0["step"] as? String } }
        #expect(!notAudited.contains(step), "the schema step is not audited: \(audit.stdout)", sourceLocation: sourceLocation)
        #expect(audit.status == (drift ? 4 : 0), "audit exit \(audit.status):\n\(audit.stdout)\(audit.stderr)", sourceLocation: sourceLocation)
    }
}

extension LabTests {
    @Test("magnum-ha.yml's schema step: check and audit predict it on an empty database and an older schema; a no-change apply does not run magnum-db-manage")
    func magnumSchemaIsProbed() throws {
        let extra = DriftMatrix.extra
        let secrets = DriftMatrix.secrets
        let (head, parent) = try MagnumSchema.alembicHeadAndParent()
        try Self.resetMagnumLab()
        DriftMatrix.applied.withLock { $0 = false }

        // Everything but the schema: an empty magnum database.
        let setup = try QuorumCLI.apply(Self.magnumPlaybook, extra + ["-e", "magnum_db_upgrade=false"])
        #expect(setup.status == 0, "\(setup.all)")
        #expect(try LabMySQL.admin("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'magnum'") == "0\n")

        // (a) check mode runs the probe: a predicted change, not "unchecked"; the audit reports it as drift.
        let empty = try Drift.predicted(Self.magnumPlaybook, extra, secrets: secrets)
        #expect(empty.pairs == [MagnumSchema.pair] && empty.unchecked.isEmpty, "\(empty.pairs.sorted()) \(empty.unchecked.sorted())")
        let predicted = try #require(empty.report.results.first { $0.step == MagnumSchema.step })
        #expect(
            predicted.message?.hasPrefix("would run: `unless` probe exited 1: no schema in magnum@10.21.22.2:3306/magnum") == true,
            "\(predicted.message ?? "")")
        try MagnumSchema.expectAudited(drift: true)
        // Apply runs the upgrade: magnum-db-manage in ctl1's process list, the schema at alembic's head.
        let (created, createdSeen) = try MagnumSchema.watchingCtl1 { try Drift.applied(Self.magnumPlaybook, extra, secrets: secrets) }
        #expect(created == [MagnumSchema.pair], "\(created.sorted())")
        #expect(createdSeen.contains(MagnumSchema.upgradeWitness), "magnum-db-manage was not seen running (positive control)")
        #expect(try MagnumSchema.version() == head)

        // (b) A second apply: the step is ok, the probe ran, magnum-db-manage did not.
        let (second, seen) = try MagnumSchema.watchingCtl1 { try QuorumCLI.apply(Self.magnumPlaybook, extra) }
        #expect(second.status == 0 && second.report?.totalChanged == 0, "\(second.all)")
        let ok = try #require(second.report?.results.first { $0.step == MagnumSchema.step })
        #expect(
            ok.outcome == "ok"
                && ok.message == "not run: `unless` probe succeeded: "
                    + "magnum@10.21.22.2:3306/magnum is at the head of Magnum's migrations, \(head)",
            "\(ok.message ?? "")")
        #expect(!seen.contains(MagnumSchema.upgradeWitness), "magnum-db-manage ran on a no-change apply")
        #expect(seen.contains(MagnumSchema.probeWitness), "the probe was not seen running: \(seen.sorted())")
        #expect(ok.duration < 1.5, "the schema step took \(ok.duration) s")
        print("schema step, no change: \(String(format: "%.2f", ok.duration)) s; whole apply: \(second.stdout.split(separator: "\n").last ?? "")")

        // (c) Drift: the database restored at the head's parent. Check and audit report the step as drift,
        // apply upgrades it (one migration), a check after finds nothing.
        try MagnumSchema.restoreAt(parent)
        #expect(try MagnumSchema.version() == parent)
        let older = try Drift.predicted(Self.magnumPlaybook, extra, secrets: secrets)
        #expect(older.pairs == [MagnumSchema.pair] && older.unchecked.isEmpty, "\(older.pairs.sorted()) \(older.unchecked.sorted())")
        let drift = try #require(older.report.results.first { $0.step == MagnumSchema.step })
        #expect(drift.message == "would run: `unless` probe exited 1: magnum@10.21.22.2:3306/magnum is at \(parent), Magnum's head is \(head)")
        try MagnumSchema.expectAudited(drift: true)
        let (repaired, repairSeen) = try MagnumSchema.watchingCtl1 { try Drift.applied(Self.magnumPlaybook, extra, secrets: secrets) }
        #expect(repaired == [MagnumSchema.pair], "\(repaired.sorted())")
        #expect(repairSeen.contains(MagnumSchema.upgradeWitness))
        #expect(try MagnumSchema.version() == head)
        let after = try Drift.predicted(Self.magnumPlaybook, extra, secrets: secrets)
        #expect(after.pairs.isEmpty && after.unchecked.isEmpty, "\(after.pairs.sorted()) \(after.unchecked.sorted())")
        try MagnumSchema.expectAudited(drift: false)
        DriftMatrix.applied.withLock { $0 = after.pairs.isEmpty }
    }
}
