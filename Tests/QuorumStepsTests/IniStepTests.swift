import OrderedCollections
import QuorumCore
import QuorumTesting
import Testing

@testable import QuorumSteps

private func context(_ remote: any Remote, check: Bool = false) -> StepContext {
    StepContext(
        remote: remote, host: remote.host, check: check, wantsDiff: true,
        variables: [:], templates: TemplateRenderer(), files: FileResolver(searchPath: []), location: nil)
}

private func ini(_ values: [(String, Value)]) throws -> IniStep {
    try IniStep(arguments: Arguments(.init(values, uniquingKeysWith: { _, last in last })))
}

private let path = "/etc/magnum/magnum.conf"

private func magnumStep() throws -> IniStep {
    try ini([
        ("path", .string(path)),
        (
            "settings",
            .map([
                (
                    "DEFAULT",
                    .map([
                        ("transport_url", .string("rabbit://openstack:NEW_PASS@controller1:5672/")),
                        ("debug", .bool(false)), ("state_path", .string("/var/lib/magnum"))
                    ])
                ),
                (
                    "keystone_authtoken",
                    .map([
                        ("memcached_servers", .list([.string("controller1:11211"), .string("controller2:11211")])),
                        ("password", .string("MAGNUM_PASS"))
                    ])
                ),
                ("api", .map([("port", .int(9511))])),
                ("trust", .map([("trustee_domain_name", .string("magnum"))]))
            ])
        ),
        ("absent", .map([("keystone_authtoken", .list([.string("policy_file_note"), .string("auth_uri")]))]))
    ])
}

@Suite struct IniStepTests {
    @Test func firstRunChangesSecondRunIsOkWithOneRead() async throws {
        let fake = FakeRemote()
        fake.put(path, magnumConf, mode: 0o640, owner: "root", group: "magnum")
        let step = try magnumStep()

        let first = try await step.run(context(fake))
        #expect(first.changed)
        #expect(fake.writes == ["write: \(path)"])
        #expect(
            first.diffs.map(\.subject) == [
                "[DEFAULT] transport_url", "[keystone_authtoken] memcached_servers",
                "[api] port", "[trust] trustee_domain_name",
                "[keystone_authtoken] policy_file_note"
            ])
        let written = IniDocument(fake.file(path)?.content ?? [])
        #expect(written.value("keystone_authtoken", "memcached_servers") == "controller1:11211,controller2:11211")
        #expect(written.value("DEFAULT", "debug") == "false")
        #expect(written.value("keystone_authtoken", "policy_file_note") == nil)
        #expect(fake.file(path)?.info == FileInfo(kind: .file, mode: 0o640, owner: "root", group: "magnum"))

        let second = try await step.run(context(fake))
        #expect(!second.changed)
        #expect(second.diffs.isEmpty)
        #expect(fake.writes.count == 1)
        #expect(fake.commands.isEmpty)  // only readFile, no scripts
    }

    @Test func checkModePredictsApplyAndWritesNothing() async throws {
        let fake = FakeRemote()
        fake.put(path, magnumConf)
        let step = try magnumStep()
        let predicted = try await step.run(context(fake, check: true))
        #expect(fake.writes.isEmpty)
        #expect(fake.file(path)?.text == magnumConf)
        let applied = try await step.run(context(fake))
        #expect(predicted.changed == applied.changed)
        #expect(predicted.diffs == applied.diffs)
        #expect(predicted.message == applied.message)
    }

    @Test func secretOptionsAreFlagged() async throws {
        let fake = FakeRemote()
        fake.put(path, magnumConf)
        let outcome = try await magnumStep().run(context(fake, check: true))
        let secret = Dictionary(uniqueKeysWithValues: outcome.diffs.map { ($0.subject, $0.secret) })
        #expect(secret["[DEFAULT] transport_url"] == true)
        #expect(secret["[keystone_authtoken] memcached_servers"] == false)
        #expect(secret["[api] port"] == false)
        #expect(IniStep.isSecret("connection"))
        #expect(IniStep.isSecret("trustee_domain_admin_password"))
        #expect(IniStep.isSecret("memcache_secret_key"))
        #expect(IniStep.isSecret("admin_token"))
        #expect(!IniStep.isSecret("auth_url"))
        #expect(IniStep.isSecret("encryption_key"))
        #expect(!IniStep.isSecret("trustee_keystone_interface"), "`_keystone` is not `_key`")
        #expect(!IniStep.isSecret("ssl_key_file"), "a path to a key is not a secret")
        // The before value of a changed secret is reported (for the reporter to mask), not dropped.
        let url = outcome.diffs.first { $0.subject == "[DEFAULT] transport_url" }
        #expect(url?.before?.contains("RABBIT_PASS") == true)
    }

    @Test func missingFileIsCreatedWhenItsDirectoryExists() async throws {
        let fake = FakeRemote()
        fake.mkdir("/etc/magnum")
        let step = try ini([
            ("path", .string(path)), ("mode", .string("0640")), ("group", .string("magnum")),
            ("settings", .map([("DEFAULT", .map([("debug", .bool(true))]))]))
        ])
        let predicted = try await step.run(context(fake, check: true))
        #expect(predicted.changed && fake.writes.isEmpty)
        let applied = try await step.run(context(fake))
        #expect(applied.diffs == predicted.diffs)
        #expect(fake.file(path)?.text == "[DEFAULT]\ndebug = true\n")
        #expect(fake.file(path)?.info.mode == 0o640)
        #expect(fake.file(path)?.info.group == "magnum")
        #expect(try await !step.run(context(fake)).changed)
    }

    @Test func missingDirectoryOrCreateFalseFails() async throws {
        let fake = FakeRemote()
        let step = try ini([("path", .string(path)), ("settings", .map([("DEFAULT", .map([("debug", .bool(true))]))]))])
        await #expect(throws: StepFailure.self) { try await step.run(context(fake, check: true)) }
        await #expect(throws: StepFailure.self) { try await step.run(context(fake)) }
        fake.mkdir("/etc/magnum")
        let noCreate = try ini([
            ("path", .string(path)), ("create", .bool(false)),
            ("settings", .map([("DEFAULT", .map([("debug", .bool(true))]))]))
        ])
        await #expect(throws: StepFailure.self) { try await noCreate.run(context(fake)) }
        #expect(fake.writes.isEmpty)
    }

    @Test func onlyRemovingFromAMissingFileIsOk() async throws {
        let fake = FakeRemote()
        fake.mkdir("/etc/magnum")
        let step = try ini([("path", .string(path)), ("absent", .map([("DEFAULT", .list([.string("rpc_backend")]))]))])
        #expect(try await !step.run(context(fake)).changed)
        #expect(fake.writes.isEmpty && fake.file(path) == nil)
    }

    @Test func modeAndOwnerDriftIsAChangeEvenWithSameContent() async throws {
        let fake = FakeRemote()
        fake.put(path, "[DEFAULT]\ndebug = true\n", mode: 0o644, owner: "root", group: "root")
        let step = try ini([
            ("path", .string(path)), ("mode", .int(640)), ("group", .string("magnum")),
            ("settings", .map([("DEFAULT", .map([("debug", .string("true"))]))]))
        ])
        let outcome = try await step.run(context(fake))
        #expect(outcome.changed)
        #expect(
            outcome.diffs == [
                Diff(subject: "\(path) mode", before: "0644", after: "0640"),
                Diff(subject: "\(path) group", before: "root", after: "magnum")
            ])
        #expect(fake.file(path)?.text == "[DEFAULT]\ndebug = true\n")
        #expect(try await !step.run(context(fake)).changed)
    }

    @Test func hostileValuesLandLiterallyInTheFile() async throws {
        let fake = FakeRemote()
        let hostilePath = "/etc/it's $(touch pwned)/`x`.conf"
        fake.mkdir("/etc/it's $(touch pwned)")
        let value = "'; $(touch pwned) `reboot` \\ \"x\""
        let step = try ini([
            ("path", .string(hostilePath)),
            ("settings", .map([("DEFAULT", .map([("transport_url", .string(value))]))]))
        ])
        _ = try await step.run(context(fake))
        #expect(IniDocument(fake.file(hostilePath)?.content ?? []).value("DEFAULT", "transport_url") == value)
        #expect(fake.commands.isEmpty)
    }

    @Test func badArgumentsAreRejected() {
        #expect(throws: StepFailure.self) { try ini([("path", .string("relative.conf"))]) }
        #expect(throws: StepFailure.self) { try ini([("path", .string(path)), ("settings", .map([("s", .string("x"))]))]) }
        #expect(throws: StepFailure.self) {
            try ini([("path", .string(path)), ("settings", .map([("s", .map([("k", .map([("a", .int(1))]))]))]))])
        }
        #expect(throws: StepFailure.self) {
            try ini([("path", .string(path)), ("settings", .map([("s", .map([("k", .null)]))]))])
        }
        #expect(throws: StepFailure.self) {
            try ini([
                ("path", .string(path)), ("settings", .map([("s", .map([("k", .string("v"))]))])),
                ("absent", .map([("s", .list([.string("k")]))]))
            ])
        }
        #expect(throws: StepFailure.self) {
            try ini([("path", .string(path)), ("settings", .map([("s", .map([("k", .string("a\n\nb"))]))]))])
        }
    }
}
