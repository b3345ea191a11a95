import Foundation
import OrderedCollections
import QuorumCore
import QuorumTesting
import Testing

@testable import QuorumSteps

/// The step kinds' preflight contributions, each against a fake: what a missing need says, that nothing is
/// written, and that a need an earlier step of the run creates (the preflight's planned objects) passes.
@Suite struct StepPreflightTests {
    /// A check-mode context over `remote`, sharing `planned` between the steps of one preflight.
    static func context(
        _ remote: any Remote, host: String = "ctl1", planned: PlannedObjects = PlannedObjects(),
        cache: RunCache = RunCache()
    ) -> StepContext {
        StepContext(
            remote: remote, host: host, check: true, wantsDiff: false, variables: [:],
            templates: TemplateRenderer(), files: FileResolver(searchPath: []), location: nil,
            planned: planned, cache: cache)
    }

    // MARK: Keystone

    /// Builds a Keystone step with the fake's admin credentials and runs its preflight.
    func keystone<K: StepKind>(
        _ kind: K.Type, _ values: OrderedDictionary<String, Value>, _ fake: FakeKeystone,
        planned: PlannedObjects, cache: RunCache
    ) async throws {
        var arguments = values
        arguments["auth"] = KeystoneRun.auth()
        arguments["via"] = "direct"
        let step = try K(arguments: Arguments(arguments))
        try await KeystoneClient.$transportOverride.withValue(fake) {
            try await step.preflight(Self.context(FakeRemote(), planned: planned, cache: cache))
        }
    }

    @Test("keystone: a missing project, domain or role fails; one an earlier step creates passes; nothing is sent that writes")
    func keystoneReferences() async throws {
        let fake = FakeKeystone()
        let planned = PlannedObjects()
        let cache = RunCache()
        let missing = await #expect(throws: StepFailure.self) {
            try await keystone(
                KeystoneRoleAssignmentStep.self, ["user": "admin", "role": "admin", "project": "magnum-project"],
                fake, planned: planned, cache: cache)
        }
        #expect(missing?.message == "role admin for user admin on project Default/magnum-project: project `magnum-project` does not exist in domain `Default`")
        let role = await #expect(throws: StepFailure.self) {
            try await keystone(
                KeystoneRoleAssignmentStep.self, ["user": "admin", "role": "heat_stack_owner", "project": "admin"],
                fake, planned: planned, cache: cache)
        }
        #expect(role?.message.contains("role `heat_stack_owner` does not exist") == true)
        let domain = await #expect(throws: StepFailure.self) {
            try await keystone(
                KeystoneUserStep.self, ["name": "magnum_domain_admin", "domain": "magnum", "password": "x"],
                fake, planned: planned, cache: cache)
        }
        #expect(domain?.message.contains("domain `magnum` does not exist") == true)

        // The run creates them first: the domain, a project, a user in that domain; then the grants pass.
        try await keystone(KeystoneDomainStep.self, ["name": "magnum"], fake, planned: planned, cache: cache)
        try await keystone(KeystoneProjectStep.self, ["name": "magnum-project"], fake, planned: planned, cache: cache)
        try await keystone(
            KeystoneUserStep.self, ["name": "magnum_domain_admin", "domain": "magnum", "password": "x"],
            fake, planned: planned, cache: cache)
        try await keystone(
            KeystoneRoleAssignmentStep.self, ["user": "admin", "role": "admin", "project": "magnum-project"],
            fake, planned: planned, cache: cache)
        try await keystone(
            KeystoneRoleAssignmentStep.self,
            [
                "user": "magnum_domain_admin", "user_domain": "magnum",
                "role": "admin", "domain": "magnum"
            ], fake, planned: planned, cache: cache)
        #expect(fake.writes == [], "preflight sent \(fake.writes)")
        #expect(fake.objects("domains").count == 1 && fake.objects("projects").count == 2)
    }

    @Test("keystone: wrong admin credentials fail the preflight")
    func keystoneCredentials() async throws {
        let fake = FakeKeystone()
        fake.setPassword(user: "admin", "changed-by-hand")
        await #expect(throws: StepFailure.self) {
            try await keystone(
                KeystoneServiceStep.self, ["name": "magnum", "type": "container-infra"], fake,
                planned: PlannedObjects(), cache: RunCache())
        }
    }

    // MARK: iptables

    static let rules = """
        *filter
        :INPUT ACCEPT [0:0]
        -A INPUT -p tcp -m multiport --dports 6641,6642 -m comment --comment "116 openvswitch db" -j ACCEPT
        COMMIT
        """

    static func rule(_ comment: String, after anchor: String? = nil) throws -> IptablesStep {
        var values: OrderedDictionary<String, Value> = ["comment": .string(comment), "destination_ports": .list([.int(9511)])]
        if let anchor { values["position"] = .map(["after_comment": .string(anchor)]) }
        return try IptablesStep(arguments: Arguments(values))
    }

    @Test("iptables: the anchor rule must exist, or be placed by an earlier step on the same host")
    func iptablesAnchor() async throws {
        let remote = FakeRemote()
        remote.commandHandler = { script, _ in
            script.contains("iptables-save -t filter") ? CommandResult(stdout: Array(Self.rules.utf8)) : CommandResult(status: 127)
        }
        let planned = PlannedObjects()
        try await Self.rule("180 magnum-api", after: "116 openvswitch db").preflight(Self.context(remote, planned: planned))
        let missing = await #expect(throws: StepFailure.self) {
            try await Self.rule("190 other", after: "150 nowhere").preflight(Self.context(remote, planned: planned))
        }
        #expect(missing?.message == "no rule commented `150 nowhere` in chain INPUT to place `190 other` after")
        // "180 magnum-api" was planned on ctl1 by the first step: a rule after it passes there, not on ctl2.
        let probes = remote.commands.count
        try await Self.rule("181 after magnum", after: "180 magnum-api").preflight(Self.context(remote, planned: planned))
        #expect(remote.commands.count == probes, "known from the plan, no probe")
        await #expect(throws: StepFailure.self) {
            try await Self.rule("181 after magnum", after: "180 magnum-api").preflight(Self.context(remote, host: "ctl2", planned: planned))
        }
        #expect(remote.writes.isEmpty)
    }

    // MARK: pcs_resource

    @Test("pcs_resource: the resource must exist in the cluster")
    func pcsResource() async throws {
        let remote = FakeRemote()
        let xml =
            #"<pacemaker-result><resources><clone id="p_haproxy-clone"><resource id="p_haproxy" role="Started"><node name="ctl1"/></resource></clone></resources></pacemaker-result>"#
        remote.commandHandler = { _, _ in CommandResult(stdout: Array(xml.utf8)) }
        try await PcsResourceStep(arguments: Arguments(["resource": "p_haproxy"])).preflight(Self.context(remote))
        let missing = await #expect(throws: StepFailure.self) {
            try await PcsResourceStep(arguments: Arguments(["resource": "p_vip"])).preflight(Self.context(remote))
        }
        #expect(missing?.message == "no Pacemaker resource `p_vip` in the cluster (crm_mon on fake1)")
        #expect(remote.writes.isEmpty)
    }

    // MARK: a file HAProxy validates

    /// A folder with a stand-in `haproxy` that rejects any `-f` file containing `broken`, and the files.
    struct HAProxyFolder {
        let dir = NSTemporaryDirectory() + "quorum-haproxy-\(UUID().uuidString.prefix(8))"

        init() throws {
            try FileManager.default.createDirectory(atPath: dir + "/bin", withIntermediateDirectories: true)
            try """
            #!/bin/sh
            while [ $# -gt 0 ]; do
              if [ "$1" = -f ] && grep -q broken "$2"; then echo "[ALERT] parsing [$2:1]: broken" >&2; exit 1; fi
              shift
            done
            echo "Configuration file is valid"
            """.write(toFile: dir + "/bin/haproxy", atomically: true, encoding: .utf8)
            chmod(dir + "/bin/haproxy", 0o755)
        }

        func put(_ name: String, _ text: String) throws { try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }

        /// A Remote whose commands run in a local `/bin/sh` with the stand-in first on PATH.
        func remote() -> FakeRemote {
            let remote = FakeRemote()
            let path = dir + "/bin:/usr/bin:/bin"
            remote.commandHandler = { script, _ in
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/bin/sh")
                process.arguments = ["-c", script]
                process.environment = ["PATH": path]
                let output = Pipe()
                let errors = Pipe()
                process.standardOutput = output
                process.standardError = errors
                guard (try? process.run()) != nil else { return CommandResult(status: 127) }
                let stdout = output.fileHandleForReading.readDataToEndOfFile()
                let stderr = errors.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                return CommandResult(stdout: Array(stdout), stderr: Array(stderr), status: process.terminationStatus)
            }
            return remote
        }

        func template() throws -> TemplateStep {
            try TemplateStep(
                arguments: Arguments([
                    "src": "stanza.j2", "dest": .string(dir + "/180-magnum.cfg"),
                    "validate": .string("haproxy -c -f \(dir)/haproxy.cfg -f %s")
                ]))
        }
    }

    @Test("template validated by haproxy: a broken base fails with HAProxy's message; a broken or missing stanza (which the run replaces) does not")
    func haproxyBase() async throws {
        let folder = try HAProxyFolder()
        defer { try? FileManager.default.removeItem(atPath: folder.dir) }
        let step = try folder.template()
        try folder.put("haproxy.cfg", "global\n")
        try await step.preflight(Self.context(folder.remote()))  // no stanza yet
        try folder.put("180-magnum.cfg", "listen magnum broken\n")
        try await step.preflight(Self.context(folder.remote()))  // the run repairs the stanza
        try folder.put("180-magnum.cfg", "listen magnum\n")
        try await step.preflight(Self.context(folder.remote()))

        try folder.put("haproxy.cfg", "global broken\n")
        let remote = folder.remote()
        let failure = await #expect(throws: StepFailure.self) { try await step.preflight(Self.context(remote)) }
        #expect(failure?.message.hasPrefix("HAProxy's configuration is invalid without \(folder.dir)/180-magnum.cfg") == true)
        #expect(failure?.detail == "[ALERT] parsing [\(folder.dir)/haproxy.cfg:1]: broken")
        #expect(remote.writes.isEmpty)
        #expect(try String(contentsOfFile: folder.dir + "/180-magnum.cfg", encoding: .utf8) == "listen magnum\n")

        // Without haproxy in `validate`, nothing is checked.
        let plain = try TemplateStep(arguments: Arguments(["src": "x", "dest": "/etc/x", "validate": "visudo -cf %s"]))
        let untouched = FakeRemote()
        try await plain.preflight(Self.context(untouched))
        #expect(untouched.commands.isEmpty)
    }
}
