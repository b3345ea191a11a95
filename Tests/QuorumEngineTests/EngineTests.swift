import QuorumCore
import QuorumEngine
import QuorumVault
import Synchronization
import Testing

@Suite struct EngineTests {
    @Test("run_once runs on the first host only and its result is registered on every host")
    func runOnce() async throws {
        let h = EngineHarness()
        let summary = try await h.run(
            inventory: EngineHarness.threeHosts,
            playbook: """
                - hosts: controllers
                  steps:
                    - name: once
                      command: hostname
                      run_once: true
                      register: first
                    - name: everywhere
                      command: "echo {{ first.stdout }}-{{ inventory_hostname }}"
                """)
        #expect(summary.outcomes("once") == ["c1": .changed])
        #expect(h.journal.scripts(on: "c2").contains("echo c1-c2"))
        #expect(h.journal.scripts(on: "c3").contains("echo c1-c3"))
        #expect(summary.exitStatus == .success)
    }

    @Test("handlers run once per notifying host, at the end, only when the notifying step changed")
    func handlers() async throws {
        let h = EngineHarness()
        let summary = try await h.run(
            inventory: EngineHarness.threeHosts,
            playbook: """
                - hosts: controllers
                  steps:
                    - name: maybe change
                      command: "true"
                      changed_when: inventory_hostname != 'c2'
                      notify: restart
                    - name: notify twice
                      command: "true"
                      changed_when: inventory_hostname == 'c1'
                      notify: restart
                    - name: last step
                      command: "true"
                  handlers:
                    - name: restart
                      command: "echo restart"
                """)
        let handlerRuns = summary.reports.filter(\.isHandler)
        #expect(Set(handlerRuns.map(\.host)) == ["c1", "c3"])
        #expect(handlerRuns.count == 2)
        // The handler ran after the last step on each host.
        // (The pending-handler bookkeeping, "# quorum: …", records the notification and clears it after.)
        let c1 = h.journal.scripts(on: "c1").filter { !$0.hasPrefix("# quorum:") }
        #expect(c1.last == "echo restart")
    }

    @Test("serial: a failure in one batch stops the roll; later hosts are untouched")
    func serialStopsOnFailure() async throws {
        let h = EngineHarness()
        let summary = try await h.run(
            inventory: EngineHarness.threeHosts,
            playbook: """
                - hosts: controllers
                  serial: 1
                  steps:
                    - name: restart
                      command: "restart FAIL-ON-c2"
                """)
        #expect(summary.outcomes("restart") == ["c1": .changed, "c2": .failed])
        #expect(h.journal.scripts(on: "c3").isEmpty)
        #expect(h.recorder.stopped.withLock { $0.count } == 1)
        #expect(summary.exitStatus == .stepFailed)
    }

    @Test("check mode: no change is ever sent to a host, and would-be changes give exit 4")
    func checkModeWritesNothing() async throws {
        let h = EngineHarness()
        let summary = try await h.run(
            inventory: EngineHarness.threeHosts,
            playbook: """
                - hosts: controllers
                  steps:
                    - command: "touch /x"
                    - copy: {dest: /etc/x, content: "hello"}
                    - file: {path: /etc/d, state: directory}
                """, check: true)
        #expect(h.journal.writes().isEmpty, "writes in check mode: \(h.journal.writes())")
        #expect(summary.reports.allSatisfy { $0.outcome == .changed })
        #expect(summary.exitStatus == .drift)
    }

    @Test("when, loop, register, failed_when and until work together")
    func keywords() async throws {
        let h = EngineHarness()
        let summary = try await h.run(
            inventory: EngineHarness.threeHosts,
            playbook: """
                - hosts: controllers
                  vars:
                    ports: [9511, 9512]
                  steps:
                    - name: only c3
                      command: "echo only"
                      when: inventory_hostname == 'c3'
                    - name: loop
                      command: "open {{ item }}"
                      loop: "{{ ports }}"
                      register: opened
                    - name: tolerated failure
                      command: "x FAIL-ON-c1"
                      failed_when: false
                    - name: counted
                      command: "echo {{ opened.results | length }}"
                      until: true
                      retries: 2
                """)
        #expect(summary.outcomes("only c3") == ["c1": .skipped, "c2": .skipped, "c3": .changed])
        #expect(h.journal.scripts(on: "c1").contains("open 9512"))
        #expect(summary.outcomes("tolerated failure")["c1"] == .changed)
        #expect(h.journal.scripts(on: "c2").contains("echo 2"))
        #expect(summary.exitStatus == .success)
    }

    @Test("an unreachable host is reported and the others go on; exit 3")
    func unreachableHost() async throws {
        let h = EngineHarness()
        let summary = try await h.run(
            inventory: EngineHarness.threeHosts,
            playbook: """
                - hosts: controllers
                  steps:
                    - {name: a, command: "true"}
                    - {name: b, command: "true"}
                """, unreachable: ["c2"])
        #expect(summary.outcomes("b") == ["c1": .changed, "c3": .changed])
        #expect(summary.recap["c2"]?.unreachable == 1)
        #expect(summary.exitStatus == .unreachable)
    }

    @Test("secret variables are masked in every reported field")
    func secretsAreRedacted() async throws {
        let h = EngineHarness()
        let summary = try await h.run(
            inventory: """
                all:
                  vars: {db_password: "S3cr3t-pw!", url: "mysql+pymysql://magnum:Url-Pass-42@db/magnum"}
                  hosts: {c1: {}}
                """,
            playbook: """
                - hosts: all
                  steps:
                    - name: "uses {{ db_password }}"
                      command: "echo {{ url }} {{ db_password }} FAIL-ON-c1"
                """)
        let text = "\(summary.reports)"
        #expect(!text.contains("S3cr3t-pw!"))
        #expect(!text.contains("Url-Pass-42"))
        #expect(summary.reports.first?.step == "uses ********")
    }

    @Test("values from vault files (group_vars and vars_files) are masked whatever their names")
    func vaultValuesAreRedacted() async throws {
        let passphrase = VaultPassphrase("Engine-Vault-Pass")
        let fast = ScryptParameters(logN: 15, r: 8, p: 1)
        let groupVars = try VaultFormat.encrypt(Array("login_name: Vault-Login-8842\n".utf8), passphrase: passphrase, parameters: fast)
        let varsFile = try VaultFormat.encrypt(Array("greeting: Vault-Greeting-5521\n".utf8), passphrase: passphrase, parameters: fast)
        let h = EngineHarness()
        let summary = try await h.run(
            inventory: "all:\n  hosts: {c1: {}}\n",
            playbook: """
                - hosts: all
                  vars_files: [secrets.yml]
                  steps:
                    - name: "uses {{ login_name }} {{ greeting }}"
                      command: "echo {{ login_name }} {{ greeting }} FAIL-ON-c1"
                """, files: ["group_vars/all.yml": groupVars, "secrets.yml": varsFile], vault: VaultKeyring(passphrase: passphrase))
        let text = "\(summary.reports)"
        #expect(!text.contains("Vault-Login-8842"))
        #expect(!text.contains("Vault-Greeting-5521"))
        #expect(summary.reports.first?.step == "uses ******** ********")
        #expect(summary.reports.first?.outcome == .failed)
        // The host itself got the real values: only what Quorum prints is masked.
        #expect(h.journal.scripts(on: "c1").contains { $0.contains("Vault-Login-8842 Vault-Greeting-5521") })
    }
}
