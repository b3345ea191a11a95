import Foundation
import QuorumTesting
import Testing

/// The Magnum playbook run with distinctive passwords, and every byte Quorum prints or writes locally
/// searched for them (raw, base64, URL-encoded); and `ps` sampled on the host and in every controller
/// during a run.
extension LabTests {
    /// The lab's admin passwords are fixed by its MariaDB and Keystone; every other password of the Magnum
    /// playbook is set per test, with a tag so that no earlier run can have left it anywhere.
    struct LeakSecrets {
        let tag = String(UUID().uuidString.filter(\.isLetter).prefix(4))
        func magnum(_ round: Int) -> [String: String] {
            [
                // URL-special characters: they travel URL-encoded in magnum.conf's `connection`/`transport_url`.
                "magnum_database_password": "Mdb\(round)-p@ss/w:rd%-\(tag)",
                "rabbit_password": "Rb\(round)-p@ss/w:rd%-\(tag)",
                // Magnum's own RabbitMQ user (the lab's inventory asks for it): set through the management API.
                // No `/` or `%`: oslo.messaging unquotes the whole transport_url before splitting it, so a password
                // holding them breaks the conductors whatever the encoding (seen: "Port could not be cast to integer").
                "magnum_rabbitmq_password": "Mmq\(round)-p@ss:w+rd-\(tag)",
                "magnum_keystone_password": "Mks\(round)-Kq8Zt-\(tag)",
                "magnum_domain_admin_password": "Mdom\(round)-Vx3Lp-\(tag)",
                // Not a secret by name: secret because a playbook lists it under `secrets:`.
                "leak_label": "Declared\(round)-Zw7Qe-\(tag)"
            ]
        }
        static let fixed = [
            "database_admin_password": LabMySQL.adminPassword, "keystone_admin_password": "keystone-Adm1n-Pa55",
            "rabbitmq_admin_password": "Qu0rum-Rabb1t"
        ]
    }

    /// The lab inventory with absolute key paths and `values` in place of its own (new keys are added to
    /// the controllers' vars).
    static func leakInventory(_ values: [String: String]) throws -> String {
        var lines = try String(contentsOfFile: Lab.inventory, encoding: .utf8)
            .replacingOccurrences(of: "../lab/state/", with: Lab.stateDirectory + "/")
            .components(separatedBy: "\n")
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            let line = "        \(key): '\(value.replacingOccurrences(of: "'", with: "''"))'"
            if let index = lines.firstIndex(where: { $0.hasPrefix("        \(key):") }) {
                lines[index] = line
            } else {
                let vars = try #require(lines.firstIndex { $0 == "      vars:" })
                lines.insert(line, at: vars + 1)
            }
        }
        return lines.joined(separator: "\n")
    }

    /// A playbook whose failures would echo every secret: a `command` that prints magnum.conf (all
    /// passwords, raw and URL-encoded) and fails, and a template whose `validate` prints the rendered
    /// file and fails. No secret is on a command line: they are read from files on the controller.
    static let echoingFailures = """
        - name: failures that echo secrets
          hosts: ctl1
          secrets: [leak_label]
          steps:
            - name: print magnum.conf and fail
              command: "sh -c 'cat /etc/magnum/magnum.conf; cat /etc/magnum/magnum.conf >&2; exit 3'"
              ignore_errors: true
            - name: a template whose validate prints it and fails
              template:
                src: leak.conf.j2
                dest: /etc/magnum/leak-test.conf
                mode: "0600"
                validate: "sh -c 'cat \\"$1\\"; cat \\"$1\\" >&2; exit 1' sh %s"
        """

    static let leakTemplate = """
        label = {{ leak_label }} and {{ leak_label | urlencode }}
        password = {{ magnum_keystone_password }}
        rabbit = rabbit://openstack:{{ rabbit_password | urlencode }}@h1,openstack:{{ rabbit_password | urlencode }}@h2/
        """

    @Test("suite-wide leak test: apply, re-render, check --diff, failures, -v, --json, inventory: no secret in any form")
    func noSecretLeaksAnywhere() throws {
        try Self.resetMagnumLab()
        let secrets = LeakSecrets()
        let round1 = secrets.magnum(1)
        let round2 = secrets.magnum(2)
        let wrongAdmin = "Wrong-Adm1n-\(secrets.tag)"
        let wrongKeystoneAdmin = "Wrong-Ks-Adm1n-\(secrets.tag)"
        var all = LeakSecrets.fixed
        for (key, value) in round1 { all[key + " (1)"] = value }
        for (key, value) in round2 { all[key + " (2)"] = value }
        all["wrong database admin password"] = wrongAdmin
        all["wrong Keystone admin password"] = wrongKeystoneAdmin
        let probe = SecretProbe(all)

        let workspace = try Workspace("leak")
        defer { workspace.remove() }
        let inventory1 = try workspace.write("one/inventory.yml", try Self.leakInventory(round1))
        let inventory2 = try workspace.write("two/inventory.yml", try Self.leakInventory(round2))
        let echoing = try workspace.write("echo.yml", Self.echoingFailures)
        try workspace.write("files/leak.conf.j2", Self.leakTemplate)
        let outputs = workspace.path + "/out"
        try FileManager.default.createDirectory(atPath: outputs, withIntermediateDirectories: true)

        /// Everything Quorum printed, per run; the --json files are read from `outputs` at the end.
        var captured: [(String, String)] = []
        func quorum(_ name: String, _ arguments: [String]) throws -> QuorumCLI.Run {
            let run = try QuorumCLI.run(arguments + ["--json", "\(outputs)/\(name).json"], json: false)
            captured.append(("\(name): stdout", run.stdout))
            captured.append(("\(name): stderr", run.stderr))
            return run
        }

        // `quorum inventory`: every variable of every host.
        let listing = try QuorumCLI.run(["inventory", "-i", inventory1, "--playbook", Self.magnumPlaybook, "--playbook", echoing], json: false)
        #expect(listing.status == 0, "\(listing.all)")
        #expect(
            listing.stdout.contains("magnum_database_password: ********") && listing.stdout.contains("leak_label: ********"),
            "\(listing.stdout)")
        captured.append(("inventory: stdout", listing.stdout))
        captured.append(("inventory: stderr", listing.stderr))

        // First apply, verbose with diffs.
        let apply1 = try quorum("apply1", ["apply", Self.magnumPlaybook, "-i", inventory1, "--diff", "-v"])
        #expect(apply1.status == 0, "first apply failed:\n\(apply1.all)")
        #expect(apply1.stdout.contains("********"), "nothing was masked: the diffs were not printed\n\(apply1.stdout)")
        // Positive control: the controllers and the services really got the secrets.
        let conf1 = try Lab.output("ctl1", "cat /etc/magnum/magnum.conf")
        // Magnum's own RabbitMQ user (the lab inventory asks for one): its password URL-encoded in transport_url.
        #expect(conf1.contains("transport_url = rabbit://magnum:Mmq1-p%40ss%3Aw%2Brd-\(secrets.tag)@10.21.22.2:5672/magnum\n"), "\(conf1)")
        #expect(conf1.contains("connection = mysql+pymysql://magnum:Mdb1-p%40ss%2Fw%3Ard%25-\(secrets.tag)@"))
        #expect(conf1.contains("password = \(round1["magnum_keystone_password"]!)"))
        #expect(conf1.contains("trustee_domain_admin_password = \(round1["magnum_domain_admin_password"]!)"))
        #expect(try LabMySQL.canLogin("magnum", round1["magnum_database_password"]!, as: "magnum@%"))
        #expect(!probe.findings(in: conf1).isEmpty, "the probe cannot find the secrets it looks for")

        // Changed passwords: check with diff (predicts, writes nothing), then apply with diff.
        let check2 = try quorum("check2", ["apply", Self.magnumPlaybook, "-i", inventory2, "--check", "--diff", "-v"])
        #expect(check2.status == 4, "check with changed passwords must exit 4:\n\(check2.all)")
        #expect(check2.stdout.contains("[database] connection: ******** → ********"), "\(check2.stdout)")
        #expect(try Lab.output("ctl1", "cat /etc/magnum/magnum.conf") == conf1, "check mode changed magnum.conf")
        let apply2 = try quorum("apply2", ["apply", Self.magnumPlaybook, "-i", inventory2, "--diff", "-v"])
        #expect(apply2.status == 0, "re-render failed:\n\(apply2.all)")
        let conf2 = try Lab.output("ctl2", "cat /etc/magnum/magnum.conf")
        #expect(conf2.contains("password = \(round2["magnum_keystone_password"]!)"), "\(conf2)")
        #expect(try LabMySQL.canLogin("magnum", round2["magnum_database_password"]!, as: "magnum@%"))

        // A wrong database admin password (given with -e: the JSON's command line holds it too).
        let wrong = try quorum(
            "wrong-admin",
            [
                "apply", Self.magnumPlaybook, "-i", inventory2, "--diff", "-v",
                "-e", "database_admin_password=\(wrongAdmin)"
            ])
        #expect(wrong.status == 2, "a wrong admin password must fail a step:\n\(wrong.all)")
        #expect(wrong.all.contains("Access denied"), "\(wrong.all)")

        // A wrong Keystone admin password (the Keystone steps fail, with Keystone's own answer).
        let wrongKeystone = try quorum(
            "wrong-keystone-admin",
            [
                "apply", Self.magnumPlaybook, "-i", inventory2, "--diff", "-v",
                "-e", "keystone_admin_password=\(wrongKeystoneAdmin)"
            ])
        #expect(wrongKeystone.status == 2, "a wrong Keystone admin password must fail a step:\n\(wrongKeystone.all)")
        #expect(wrongKeystone.all.contains("refused the credentials") && wrongKeystone.all.contains("HTTP 401"), "\(wrongKeystone.all)")

        // Failures whose output is the secrets themselves.
        let echo = try quorum("echo-failures", ["apply", echoing, "-i", inventory2, "--diff", "-v"])
        #expect(echo.status == 2, "\(echo.all)")
        #expect(echo.all.contains("rabbit://magnum:********@10.21.22.2:5672/magnum"), "the command's output was not shown:\n\(echo.all)")
        #expect(echo.all.contains("label = ******** and ********"), "the validate output was not shown:\n\(echo.all)")
        #expect(try Lab.exec("ctl1", "test -e /etc/magnum/leak-test.conf").status != 0, "a file that failed validation was installed")

        // `quorum audit` in every format: clean after the re-render, then against the first round's passwords
        // (drift in every secret field, which must show masked).
        for format in ["table", "json", "junit"] {
            let audit = try quorum("audit-\(format)", ["audit", Self.magnumPlaybook, "-i", inventory2, "--format", format])
            #expect(audit.status == 0, "audit after the re-render must find no drift:\n\(audit.all)")
        }
        let drifted = try quorum("audit-drift", ["audit", Self.magnumPlaybook, "-i", inventory1])
        #expect(drifted.status == 4, "audit with the old passwords must find drift:\n\(drifted.all)")
        #expect(drifted.stdout.contains("password: ******** → ******** (differs)"), "\(drifted.stdout)")

        for (name, text) in captured { probe.expectNone(in: text, name) }
        let written = try FileManager.default.contentsOfDirectory(atPath: outputs).sorted()
        #expect(written.count == 10, "expected one --json file per run: \(written)")
        for file in written {
            let text = try String(contentsOfFile: outputs + "/" + file, encoding: .utf8)
            #expect(text.contains("\"results\"") || text.contains("\"schema\" : \"quorum.audit/1\""), "\(file) is not a report")
            probe.expectNone(in: text, file)
        }
        // Quorum wrote nothing else into the workspace (no log, no cache beside the inventory).
        let files = try FileManager.default.subpathsOfDirectory(atPath: workspace.path).filter { !$0.hasPrefix("out") }.sorted()
        #expect(files == ["echo.yml", "files", "files/leak.conf.j2", "one", "one/inventory.yml", "two", "two/inventory.yml"], "\(files)")
    }

    @Test("ps on the host and in every controller, sampled every ~20 ms during a full run, never shows a secret")
    func noSecretOnAnyCommandLine() throws {
        // From a converged lab: every password of the run differs from the lab's, so every secret is written again.
        try Self.ensureMagnumApplied()
        let secrets = LeakSecrets()
        var all = LeakSecrets.fixed
        for (key, value) in secrets.magnum(3) { all[key] = value }
        let probe = SecretProbe(all)
        let workspace = try Workspace("ps")
        defer { workspace.remove() }
        let inventory = try workspace.write("inventory.yml", try Self.leakInventory(secrets.magnum(3)))

        // Witnesses: texts of Quorum's own processes that the samplers must see, or the test proves nothing.
        // Quorum's remote commands run as `/bin/sh -c SCRIPT`; the others name what its scripts touch.
        let quorumScript = "/bin/sh -c"
        let controllerWitnesses = [quorumScript, "/etc/magnum/magnum.conf", "iptables", "/etc/haproxy/conf.d"]
        let hostWitnesses = ["quorum apply", "mariadbd", "gunicorn"]
        // A canary on a command line in ctl1: proves the samplers find a needle when one is there.
        let canary = "Canary-\(secrets.tag)-on-a-command-line"
        let needles = probe.forms.map(\.form) + [canary]
        var samplers = try Lab.controllers.map { try ProcessSampler(on: $0, needles: needles, witnesses: controllerWitnesses) }
        samplers.append(try ProcessSampler(on: "host", needles: needles, witnesses: hostWitnesses))
        Thread.sleep(forTimeInterval: 1)  // let every sampler take its first samples
        try Lab.exec("ctl1", "sleep 1; : \(canary)")

        let run = try QuorumCLI.apply(Self.magnumPlaybook, inventory: inventory, ["--diff", "-v"])
        let results = try samplers.map { ($0.place, try $0.stop()) }
        #expect(run.status == 0, "apply failed:\n\(run.all)")
        #expect(
            try Lab.output("ctl3", "cat /etc/magnum/magnum.conf").contains(secrets.magnum(3)["magnum_keystone_password"]!),
            "the run did not use the test's passwords")

        for (place, result) in results {
            let scripts = result.witnessed[quorumScript] ?? []
            print("ps sampling on \(place): \(result.samples) samples; \(result.witnessed.mapValues(\.count)) distinct witness lines")
            #expect(result.samples >= 50, "\(place): only \(result.samples) samples")
            if place == "ctl1" || place == "host" {
                #expect(result.hits[canary] != nil, "\(place): the sampler missed the canary command line")
            }
            let leaked = probe.forms.filter { result.hits[$0.form] != nil }.map { "\($0.label) (\($0.how))" }
            #expect(leaked.isEmpty, "\(place): a process showed \(leaked)")
            if place == "host" {
                for witness in hostWitnesses {
                    #expect(!(result.witnessed[witness] ?? []).isEmpty, "host: no sample showed `\(witness)`: the sampler missed the run")
                }
            } else {
                // Some of Quorum's scripts on this controller, caught while they ran, naming what they work on.
                #expect(
                    scripts.contains { line in controllerWitnesses.dropFirst().contains { line.contains($0) } },
                    "\(place): no sample caught one of Quorum's remote scripts: \(scripts)")
            }
        }
        let conf = results.flatMap { $0.1.witnessed["/etc/magnum/magnum.conf"] ?? [] }
        #expect(conf.contains { $0.contains(quorumScript) }, "no sample caught a script touching magnum.conf: \(conf)")
    }
}
