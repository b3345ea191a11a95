import OrderedCollections
import QuorumCore
import QuorumTesting
import Testing

@testable import QuorumSteps

/// A magnum.conf as magnum-ha.yml writes it for current releases: nothing removed or deprecated in it.
private let currentMagnumConf = """
    [DEFAULT]
    transport_url = rabbit://openstack:R4bbit-S3cret@10.0.0.4:5672,openstack:R4bbit-S3cret@10.0.0.5:5672/
    log_dir = /var/log/magnum

    [api]
    host = 10.0.0.4
    port = 9511

    [database]
    connection = mysql+pymysql://magnum:Db-S3cret@10.0.0.2:3306/magnum

    [keystone_authtoken]
    www_authenticate_uri = http://10.0.0.2:5000/v3
    auth_url = http://10.0.0.2:5000/v3
    auth_type = password
    memcached_servers = 10.0.0.4:11211
    username = magnum
    password = Ks-S3cret
    project_name = service

    [trust]
    trustee_domain_admin_password = Dom-S3cret
    trustee_keystone_interface = public

    [oslo_messaging_rabbit]
    rabbit_quorum_queue = true

    """

private func findings(_ text: String) -> [Finding] {
    DeprecatedOptions.findings(in: IniDocument(text), file: "/etc/magnum/magnum.conf")
}

@Suite struct DeprecatedOptionsTests {
    @Test(
        "every option the audit must name is found, with its replacement",
        arguments: [
            ("DEFAULT", "rabbit_hosts", "[DEFAULT] transport_url"),
            ("DEFAULT", "rabbit_userid", "[DEFAULT] transport_url"),
            ("DEFAULT", "rabbit_password", "[DEFAULT] transport_url"),
            ("DEFAULT", "rpc_backend", "[DEFAULT] transport_url"),
            ("oslo_messaging_rabbit", "rabbit_hosts", "[DEFAULT] transport_url"),
            ("oslo_messaging_rabbit", "rabbit_userid", "[DEFAULT] transport_url"),
            ("oslo_messaging_rabbit", "rabbit_password", "[DEFAULT] transport_url"),
            ("oslo_messaging_rabbit", "rpc_backend", "[DEFAULT] transport_url"),
            ("oslo_messaging_rabbit", "rabbit_virtual_host", "[DEFAULT] transport_url"),
            ("oslo_messaging_rabbit", "kombu_ssl_ca_certs", "[oslo_messaging_rabbit] ssl_ca_file"),
            ("keystone_authtoken", "auth_uri", "[keystone_authtoken] www_authenticate_uri"),
            ("keystone_authtoken", "admin_user", "[keystone_authtoken] username"),
            ("keystone_authtoken", "admin_password", "[keystone_authtoken] password"),
            ("keystone_authtoken", "admin_tenant_name", "[keystone_authtoken] project_name"),
            ("keystone_authtoken", "identity_uri", "[keystone_authtoken] auth_url")
        ])
    func listedOption(section: String, key: String, replacement: String) throws {
        let found = findings(currentMagnumConf + "[\(section)]\n\(key) = Pr1vate-Value\n")
        #expect(found.count == 1, "\(found)")
        let finding = try #require(found.first)
        #expect(finding.subject == "[\(section)] \(key)")
        #expect(finding.replacement == replacement)
        #expect(finding.message.contains(replacement))
        #expect(finding.severity == .warning)
        #expect(finding.file == "/etc/magnum/magnum.conf")
        #expect(!finding.message.contains("Pr1vate-Value"), "a value in a finding: \(finding.message)")
    }

    @Test("a Keystone URL on the admin port 35357 is found in any section; port 5000 and look-alikes are not")
    func adminPort() throws {
        let text = """
            [keystone_authtoken]
            auth_url = http://controller:35357/v3
            [trust]
            auth_url = https://user:S3cret@[fd00::2]:35357
            [keystone_auth]
            auth_url = http://controller:5000/v3
            [cinder_client]
            auth_url = http://controller:353570/v3
            [other]
            auth_url = http://controller:5000/v3?port=35357
            """
        let found = findings(text)
        #expect(found.map(\.subject) == ["[keystone_authtoken] auth_url", "[trust] auth_url"])
        #expect(found.allSatisfy { $0.message.contains("35357") && $0.replacement == "the public Keystone URL on port 5000" })
        #expect(!found.contains { $0.message.contains("S3cret") })
        #expect(DeprecatedOptions.usesAdminPort("http://10.0.0.2:35357"))
        #expect(!DeprecatedOptions.usesAdminPort("10.0.0.2:35357"))
    }

    @Test("identity_uri on 35357 is one finding naming both problems")
    func identityURIOnAdminPort() {
        let found = findings("[keystone_authtoken]\nidentity_uri = http://controller:35357/\n")
        #expect(found.count == 1)
        #expect(found.first?.replacement == "[keystone_authtoken] auth_url")
        #expect(found.first?.message.contains("35357") == true)
    }

    @Test("a current magnum.conf, and a section that only looks alike, give no finding")
    func cleanFile() {
        #expect(findings(currentMagnumConf).isEmpty)
        #expect(findings("[api]\nauth_uri = http://x:5000\nrabbit_hosts = a\n").isEmpty)
        #expect(findings("").isEmpty)
    }

    @Test("an option written twice is one finding; [trustee] options point to [trust]")
    func duplicatesAndTrustee() {
        let found = findings("[DEFAULT]\nrabbit_hosts = a\n[DEFAULT]\nrabbit_hosts = b\n[trustee]\nauth_uri = http://x:5000\n")
        #expect(found.map(\.subject) == ["[DEFAULT] rabbit_hosts", "[trustee] auth_uri"])
        #expect(found.last?.replacement == "[trust] trustee_domain_* options")
    }

    @Test("the ini step reports findings from the file as it is, in check mode and apply alike, masked of values")
    func iniStepFindings() async throws {
        let path = "/etc/magnum/magnum.conf"
        let step = try IniStep(
            arguments: Arguments([
                "path": .string(path),
                "settings": .map(["keystone_authtoken": .map(["memcached_servers": .string("10.0.0.5:11211")])])
            ]))
        for check in [true, false] {
            let fake = FakeRemote()
            fake.put(path, currentMagnumConf + "[DEFAULT]\nrabbit_password = R4bbit-S3cret\n[keystone_authtoken]\nauth_uri = http://k:5000\n")
            let context = StepContext(
                remote: fake, host: fake.host, check: check, wantsDiff: true,
                variables: [:], templates: TemplateRenderer(), files: FileResolver(searchPath: []),
                location: nil)
            let outcome = try await step.run(context)
            #expect(outcome.changed)
            #expect(outcome.findings.map(\.subject) == ["[DEFAULT] rabbit_password", "[keystone_authtoken] auth_uri"])
            #expect(!outcome.findings.contains { $0.message.contains("R4bbit-S3cret") })
            #expect(fake.writes.count == (check ? 0 : 1))
        }
    }
}
