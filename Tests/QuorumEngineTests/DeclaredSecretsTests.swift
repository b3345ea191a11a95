import Foundation
import QuorumCore
import QuorumEngine
import QuorumSteps
import Synchronization
import Testing

/// A play's `secrets:` list: validation at load time, and masking of the named variables' values
/// wherever Quorum reports them (raw, base64, URL-encoded, inside longer texts, in option diffs).
struct DeclaredSecretsTests {
    /// Loads `playbook` from a temporary file and returns its diagnostics (empty when it loads).
    func diagnostics(_ playbook: String) throws -> [Diagnostic] {
        let path = NSTemporaryDirectory() + "quorum-secrets-\(UUID().uuidString.prefix(8)).yml"
        try playbook.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var collector = DiagnosticCollector()
        _ = PlaybookLoader(catalog: StepCatalog.byName).loadCollecting(path, into: &collector)
        return collector.diagnostics
    }

    @Test("`secrets:` takes a list of variable names (or one name) and keeps where each was written")
    func loadsNames() throws {
        let path = NSTemporaryDirectory() + "quorum-secrets-\(UUID().uuidString.prefix(8)).yml"
        try "- hosts: all\n  secrets: [rabbit_user, some_var]\n  steps: []\n- hosts: all\n  secrets: other\n  steps: []\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let playbook = try PlaybookLoader(catalog: StepCatalog.byName).load(path)
        #expect(playbook.plays[0].secrets.map(\.value) == ["rabbit_user", "some_var"])
        #expect(playbook.plays[0].secrets[1].location.line == 2 && playbook.plays[0].secrets[1].location.column == 26)
        #expect(playbook.secretNames == ["rabbit_user", "some_var", "other"])
    }

    @Test("a map, a non-string entry or a bad name in `secrets:` is an error with file:line:col")
    func rejectsBadForms() throws {
        let map = try diagnostics("- hosts: all\n  secrets: {rabbit_user: guest}\n  steps: []\n")
        #expect(map.count == 1)
        #expect(map.first?.location?.line == 2 && map.first?.location?.column == 12)
        #expect(map.first?.message.contains("must be a list of variable names") == true)

        let entries = try diagnostics("- hosts: all\n  secrets:\n    - ok_name\n    - 42\n    - [nested]\n    - bad-name\n  steps: []\n")
        #expect(entries.map { $0.location?.line } == [4, 5, 6], "\(entries.map(\.description))")
        #expect(entries.allSatisfy { $0.location?.column == 7 })
        #expect(entries[0].message.contains("found a integer"))
        #expect(entries[1].message.contains("found a list"))
        #expect(entries[2].message.contains("`bad-name` is not a variable name"))

        let misspelt = try diagnostics("- hosts: all\n  secret: [x]\n  steps: []\n")
        #expect(misspelt.first?.message.contains("unknown play keyword `secret`") == true)
        #expect(misspelt.first?.hint?.contains("secrets") == true)
    }

    @Test("a declared secret is masked raw, base64 and URL-encoded, also inside longer texts and in other plays")
    func masksDeclaredValues() async throws {
        let h = EngineHarness()
        let value = "p@ss/w:rd%Rabbit"
        let summary = try await h.run(
            inventory: """
                all:
                  vars: {rabbit_user: "\(value)", plain: visible-text}
                  hosts: {c1: {}}
                """,
            playbook: """
                - hosts: all
                  steps:
                    - name: "first play {{ rabbit_user }} {{ plain }}"
                      command: "echo x{{ rabbit_user }}y {{ rabbit_user | urlencode }} FAIL-ON-c1"
                      ignore_errors: true
                - hosts: all
                  secrets: [rabbit_user]
                  steps:
                    - name: "second play"
                      command: "echo {{ rabbit_user }}"
                """)
        let text = "\(summary.reports)"
        #expect(!text.contains(value) && !text.contains("p%40ss%2Fw%3Ard%25Rabbit"), "\(text)")
        #expect(summary.reports.first?.step == "first play ******** visible-text")
        // The host got the real value: only what Quorum reports is masked.
        #expect(h.journal.scripts(on: "c1").contains { $0.contains("x\(value)y") })

        let redactor = h.redactor
        let base64 = Data(value.utf8).base64EncodedString()
        let basicAuth = Data("magnum:\(value)".utf8).base64EncodedString()
        #expect(redactor.redact("Authorization: Basic \(base64)") == "Authorization: Basic ********")
        #expect(!redactor.redact("Authorization: Basic \(basicAuth)").contains(basicAuth.dropFirst(10).prefix(8)))
        #expect(
            redactor.redact("rabbit://u:\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)@h")
                == "rabbit://u:********@h")
    }

    @Test("an option whose value contains a secret gets a secret diff: the previous value never shows")
    func optionHoldingSecretIsSecretDiff() async throws {
        let h = EngineHarness()
        h.journal.files.withLock { $0["/etc/app.conf"] = "[DEFAULT]\nbroker = amqp-old-Broker-Secret-1 on h1\nlog = old\n" }
        let summary = try await h.run(
            inventory: """
                all:
                  vars: {broker_credential_x: "new-Broker-Secret-2"}
                  hosts: {c1: {}}
                """,
            playbook: """
                - hosts: all
                  secrets: [broker_credential_x]
                  steps:
                    - name: app.conf
                      ini:
                        path: /etc/app.conf
                        settings:
                          DEFAULT: {broker: "amqp-{{ broker_credential_x }} on h1", log: new}
                """)
        let report = try #require(summary.reports.first)
        #expect(report.outcome == .changed)
        let broker = try #require(report.diffs.first { $0.subject == "[DEFAULT] broker" })
        #expect(broker.secret && broker.before == SecretRedactor.mask && broker.after == SecretRedactor.mask)
        let log = try #require(report.diffs.first { $0.subject == "[DEFAULT] log" })
        #expect(!log.secret && log.before == "old" && log.after == "new")
        #expect(!"\(summary.reports)".contains("Broker-Secret"))
    }

    @Test("every credential of a multi-host URL is registered, not just the first")
    func multiHostURL() {
        let redactor = SecretRedactor()
        redactor.registerURLPasswords(in: "rabbit://u1:First-Pass-1@h1:5672,u2:Second-Pass-2@h2:5672/")
        #expect(redactor.redact("First-Pass-1 Second-Pass-2") == "******** ********")
    }
}

extension DeclaredSecretsTests {
    @Test("a file diff masks the previous password too: same line start as a secret line, or a secret-named key")
    func fileDiffMasksPreviousSecret() async throws {
        let h = EngineHarness()
        h.journal.files.withLock {
            $0["/etc/app.conf"] = "auth = basic Old-Opaque-7\nservice_password: Old-Pass-1\nname = x\n"
        }
        let summary = try await h.run(
            inventory: """
                all:
                  vars: {app_credential_x: "New-Opaque-8", service_password: "New-Pass-2"}
                  hosts: {c1: {}}
                """,
            playbook: """
                - hosts: all
                  secrets: [app_credential_x]
                  steps:
                    - name: app.conf
                      template: {src: app.conf.j2, dest: /etc/app.conf}
                """, files: ["files/app.conf.j2": "auth = basic {{ app_credential_x }}\nservice_password: {{ service_password }}\nname = y\n"])
        let report = try #require(summary.reports.first)
        #expect(report.outcome == .changed, "\(report)")
        let diff = try #require(report.diffs.first { $0.isFile })
        #expect(diff.before == "auth = basic ********\nservice_password: ********\nname = x\n")
        #expect(diff.after == "auth = basic ********\nservice_password: ********\nname = y\n")
        #expect(!"\(summary.reports)".contains("Old-") && !"\(summary.reports)".contains("New-"))
    }
}

extension DeclaredSecretsTests {
    @Test("a registered variable that is secret (listed under secrets:, or by its name) masks its command's output")
    func registeredSecretOutput() async throws {
        // The harness's hosts answer `hostname` with their name: here the "secret" a command prints.
        let inventory = "all:\n  hosts: {node-alpha7: {}}\n"
        let listed = EngineHarness()
        let first = try await listed.run(
            inventory: inventory,
            playbook: """
                - hosts: all
                  secrets: [fetched]
                  steps:
                    - name: fetch
                      command: hostname
                      register: fetched
                    - name: "use {{ fetched.stdout }}"
                      command: "echo {{ fetched.stdout }}"
                """)
        #expect(first.reports.map(\.step) == ["fetch", "use ********"])

        let named = EngineHarness()
        let second = try await named.run(
            inventory: inventory,
            playbook: """
                - hosts: all
                  steps:
                    - name: fetch by a secret name, in a loop
                      command: hostname
                      register: fetched_token
                      loop: [1, 2]
                    - name: "use {{ fetched_token.results[0].stdout }}"
                      command: "echo {{ fetched_token.results[0].stdout }}"
                """)
        #expect(second.reports.map(\.step).last == "use ********", "\(second.reports.map(\.step))")

        let plain = EngineHarness()
        let third = try await plain.run(
            inventory: inventory,
            playbook: """
                - hosts: all
                  steps:
                    - {name: fetch, command: hostname, register: fetched}
                    - {name: "use {{ fetched.stdout }}", command: "echo {{ fetched.stdout }}"}
                """)
        #expect(third.reports.map(\.step).last == "use node-alpha7", "not secret: shown as it is")
    }
}

extension DeclaredSecretsTests {
    @Test("the urlencode filter's form is masked, also for a secret mixing - . _ ~ with ! $ & ' ( ) * + , ; =")
    func urlencodeFilterForm() async throws {
        let h = EngineHarness()
        let summary = try await h.run(
            inventory: """
                all:
                  vars: {queue_password: "Ab-c!d$e_f"}
                  hosts: {c1: {}}
                """,
            playbook: """
                - hosts: all
                  steps:
                    - name: "url amqp://u:{{ queue_password | urlencode }}@h/"
                      command: "true"
                """)
        // Neither Foundation's .alphanumerics nor .urlUserAllowed encodes it like the filter does.
        #expect(summary.reports.first?.step == "url amqp://u:********@h/", "\(summary.reports.map(\.step))")
    }
}
