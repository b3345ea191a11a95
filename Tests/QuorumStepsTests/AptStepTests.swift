import OrderedCollections
import QuorumCore
import QuorumTesting
import Synchronization
import Testing

@testable import QuorumSteps

private func context(_ remote: any Remote, check: Bool = false) -> StepContext {
    StepContext(
        remote: remote, host: remote.host, check: check, wantsDiff: true,
        variables: [:], templates: TemplateRenderer(), files: FileResolver(searchPath: []), location: nil)
}

private func apt(_ values: [(String, Value)]) throws -> AptStep {
    try AptStep(arguments: Arguments(.init(values, uniquingKeysWith: { _, last in last })))
}

private func packages(_ names: String...) -> (String, Value) { ("packages", .list(names.map(Value.string))) }

/// A host whose dpkg database answers `dpkg-query -W` as the real one does and whose `apt-get install/remove`
/// updates it.
private final class FakeDpkg: Sendable {
    let db: Mutex<[String: (String, String)]>  // name → (status abbrev, version)
    let candidates: [String: String]

    init(_ db: [String: (String, String)], candidates: [String: String] = [:]) {
        self.db = Mutex(db)
        self.candidates = candidates
    }

    func handle(_ script: String) -> CommandResult {
        let words = script.split(separator: " ").map(String.init)
        if script.hasPrefix("dpkg-query -W ") {
            let query = script.split(separator: ";")[0].split(separator: " ").map(String.init)
            let names = query.dropFirst(3)
            var out = ""
            var err = ""
            for name in names {
                if let (status, version) = db.withLock({ $0[name] }) {
                    out += "\(name)\t\(status)\t\(version)\n"
                } else {
                    err += "dpkg-query: no packages found matching \(name)\n"
                }
            }
            if script.contains("apt-cache policy") {
                out += "#policy\n"
                for name in names {
                    let installed = db.withLock { $0[name] }.flatMap { $0.0 == "ii " ? $0.1 : nil } ?? "(none)"
                    out += "\(name):\n  Installed: \(installed)\n  Candidate: \(candidates[name] ?? "(none)")\n  Version table:\n"
                }
            }
            return CommandResult(stdout: Array(out.utf8), stderr: Array(err.utf8), status: err.isEmpty ? 0 : 1)
        }
        if let verb = words.firstIndex(of: "install") ?? words.firstIndex(of: "remove") {
            for spec in words[(verb + 1)...] where !spec.hasPrefix("-") {
                let parts = spec.split(separator: "=").map(String.init)
                if parts[0] == "doesnotexist" {
                    return CommandResult(stderr: Array("E: Unable to locate package doesnotexist\n".utf8), status: 100)
                }
                db.withLock {
                    $0[parts[0]] =
                        words[verb] == "install"
                        ? ("ii ", parts.count > 1 ? parts[1] : candidates[parts[0]] ?? "1.0") : ("rc ", $0[parts[0]]?.1 ?? "")
                }
            }
        }
        return CommandResult()
    }
}

@Suite struct AptStepTests {
    @Test func installsOnlyMissingPackagesThenIsOk() async throws {
        let dpkg = FakeDpkg([
            "python3-magnumclient": ("ii ", "4.4.0-0ubuntu1"), "magnum-api": ("un ", ""),
            "magnum-conductor": ("rc ", "1:17.0.0-0ubuntu1")
        ])
        let fake = FakeRemote()
        fake.commandHandler = { script, _ in dpkg.handle(script) }
        let step = try apt([packages("magnum-api", "magnum-conductor", "python3-magnumclient", "magnum-common")])

        let first = try await step.run(context(fake))
        #expect(first.changed)
        #expect(
            fake.commands.first
                == "dpkg-query -W '-f=${Package}\\t${db:Status-Abbrev}\\t${Version}\\n' magnum-api magnum-conductor python3-magnumclient magnum-common")
        #expect(
            fake.writes == [
                "change: DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold -o DPkg::Lock::Timeout=300 --no-install-recommends magnum-api magnum-conductor magnum-common"
            ])
        #expect(first.result["installed"] == .list([.string("magnum-api"), .string("magnum-conductor"), .string("magnum-common")]))
        #expect(first.diffs.map(\.subject) == ["package magnum-api", "package magnum-conductor", "package magnum-common"])

        let second = try await step.run(context(fake))
        #expect(!second.changed)
        #expect(second.result["installed"] == .list([]))
        #expect(fake.commands.count == 3)  // probe, install, probe
    }

    @Test func checkModePredictsAndWritesNothing() async throws {
        let dpkg = FakeDpkg(["haproxy": ("ii ", "2.4.24-0ubuntu0.22.04.1")])
        let fake = FakeRemote()
        fake.commandHandler = { script, _ in dpkg.handle(script) }
        let step = try apt([packages("haproxy", "keepalived"), ("update_cache", .bool(true))])
        let predicted = try await step.run(context(fake, check: true))
        #expect(predicted.changed)
        #expect(fake.writes.isEmpty)
        #expect(predicted.diffs == [Diff(subject: "package keepalived", before: nil, after: "installed")])
        let applied = try await step.run(context(fake))
        #expect(applied.diffs == predicted.diffs)
        #expect(applied.result["installed"] == predicted.result["installed"])
        #expect(fake.writes.count == 1)
        #expect(fake.writes[0].hasPrefix("change: apt-get update -q -o DPkg::Lock::Timeout=300 && DEBIAN_FRONTEND=noninteractive apt-get install"))
        #expect(fake.writes[0].hasSuffix(" keepalived"))
    }

    @Test func pinnedVersionMustMatch() async throws {
        let dpkg = FakeDpkg(["mariadb-server": ("ii ", "1:10.6.18-0ubuntu0.22.04.1")])
        let fake = FakeRemote()
        fake.commandHandler = { script, _ in dpkg.handle(script) }
        let same = try await apt([packages("mariadb-server=1:10.6.18-0ubuntu0.22.04.1")]).run(context(fake))
        #expect(!same.changed)
        let other = try await apt([packages("mariadb-server=1:10.6.20-0ubuntu0.22.04.1")]).run(context(fake, check: true))
        #expect(
            other.diffs == [
                Diff(
                    subject: "package mariadb-server", before: "1:10.6.18-0ubuntu0.22.04.1",
                    after: "1:10.6.20-0ubuntu0.22.04.1")
            ])
    }

    @Test func absentRemovesInstalledOnesOnly() async throws {
        let dpkg = FakeDpkg(["apache2": ("ii ", "2.4.52-1ubuntu4"), "nginx": ("rc ", "1.18.0")])
        let fake = FakeRemote()
        fake.commandHandler = { script, _ in dpkg.handle(script) }
        let step = try apt([packages("apache2", "nginx", "lighttpd"), ("state", .string("absent"))])
        let first = try await step.run(context(fake))
        #expect(first.changed)
        #expect(fake.writes == ["change: DEBIAN_FRONTEND=noninteractive apt-get remove -y -q -o DPkg::Lock::Timeout=300 apache2"])
        #expect(first.result["removed"] == .list([.string("apache2")]))
        #expect(try await !step.run(context(fake)).changed)
        // purge also counts leftover configuration files.
        let purge = try await apt([packages("nginx"), ("state", .string("absent")), ("purge", .bool(true))]).run(context(fake, check: true))
        #expect(purge.changed)
    }

    @Test func latestUpgradesWhenTheCandidateIsNewer() async throws {
        let dpkg = FakeDpkg(
            ["haproxy": ("ii ", "2.4.22-0ubuntu0.22.04.1"), "socat": ("ii ", "1.7.4.1-3ubuntu4")],
            candidates: ["haproxy": "2.4.24-0ubuntu0.22.04.1", "socat": "1.7.4.1-3ubuntu4"])
        let fake = FakeRemote()
        fake.commandHandler = { script, _ in dpkg.handle(script) }
        let step = try apt([packages("haproxy", "socat"), ("state", .string("latest"))])
        let first = try await step.run(context(fake))
        #expect(first.diffs == [Diff(subject: "package haproxy", before: "2.4.22-0ubuntu0.22.04.1", after: "2.4.24-0ubuntu0.22.04.1")])
        #expect(fake.commands[0].contains("apt-cache policy haproxy socat"))
        #expect(fake.writes.count == 1 && fake.writes[0].hasSuffix("--no-install-recommends haproxy"))
        #expect(try await !step.run(context(fake)).changed)
    }

    @Test func failedInstallReportsAptsOutput() async throws {
        let dpkg = FakeDpkg([:])
        let fake = FakeRemote()
        fake.commandHandler = { script, _ in dpkg.handle(script) }
        do {
            _ = try await apt([packages("doesnotexist")]).run(context(fake))
            Issue.record("expected a failure")
        } catch let failure as StepFailure {
            #expect(failure.description.contains("Unable to locate package doesnotexist"))
        }
    }

    @Test func dpkgQueryFatalErrorIsAFailure() async throws {
        let fake = FakeRemote()
        fake.commandHandler = { _, _ in CommandResult(stderr: Array("sh: 1: dpkg-query: not found\n".utf8), status: 127) }
        await #expect(throws: StepFailure.self) { try await apt([packages("vim")]).run(context(fake)) }
    }

    @Test func packageNamesAreValidated() {
        for bad in ["$(touch pwned)", "Vim", "-o", "vim; reboot", "a b", "vim=1 2", "vim=", ".hidden", "a\nb", "pkg:amd64"] {
            #expect(throws: StepFailure.self, "\(bad.debugDescription)") { try apt([packages(bad)]) }
        }
        #expect(throws: StepFailure.self) { try apt([packages("vim=2:8.2"), ("state", .string("latest"))]) }
        #expect(throws: StepFailure.self) { try apt([("packages", .list([]))]) }
        // Odd but valid versions are quoted, never pasted.
        let step = try? apt([packages("libstdc++6", "vim=2:8.2.3995-1ubuntu2.$(id)")])
        #expect(step?.packages.map(\.argument) == ["libstdc++6", "vim=2:8.2.3995-1ubuntu2.$(id)"])
        let command = AptStep.installCommand(step?.packages.map(\.argument) ?? [])
        #expect(command.hasSuffix(" libstdc++6 'vim=2:8.2.3995-1ubuntu2.$(id)'"))
    }

    @Test func parsesMultiArchAndHalfInstalledLines() {
        let parsed = AptStep.parseQuery("libc6\tii \t2.35-0ubuntu3.8\nlibc6\tun \t\nfoo\tiF \t1.0\n")
        #expect(parsed["libc6"]?.isInstalled == true)
        #expect(parsed["foo"]?.isInstalled == false)
        let policy = AptStep.parsePolicy(
            "nginx:\n  Installed: (none)\n  Candidate: 1.18.0-6ubuntu14.5\n  Version table:\n     1.18.0-6ubuntu14.5 500\nbogus:\n  Installed: (none)\n  Candidate: (none)\n"
        )
        #expect(policy["nginx"] == .some("1.18.0-6ubuntu14.5"))
        #expect(policy["bogus"] == .some(nil))
    }
}
