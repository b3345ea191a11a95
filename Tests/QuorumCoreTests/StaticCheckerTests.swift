import Foundation
import OrderedCollections
import QuorumSteps
import Testing

@testable import QuorumCore

/// The static check's undefined-variable errors where guards make a use safe (`is defined`, `default`,
/// `when:`), checked against what rendering does with the same variables.
@Suite("Static check: guarded variables")
struct StaticCheckerTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let renderer = TemplateRenderer()
    /// The value `opt` has where the inventory defines it.
    static let optValue = "{enabled: true, name: n, sub: s, items: [1, 2], a: {b: 1}}"

    /// The static check of `playbook` (written as pb.yml, beside `files`) against an inventory whose
    /// controllers have `vars` (name → YAML text). Errors only, as `file:line:col: message` with the
    /// scratch directory left out.
    static func errors(_ playbook: String, vars: [String: String] = [:], files: [String: String] = [:]) throws -> [String] {
        let inventory =
            "all:\n  children:\n    controllers:\n      hosts:\n        ctl1: {ansible_host: 127.0.0.1}\n"
            + "      vars:\n        flag: 1\n" + vars.map { "        \($0.key): \($0.value)\n" }.joined()
        let dir = try InventoryFixtures.scratch(files.merging(["hosts.yml": inventory, "pb.yml": playbook]) { $1 })
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let loaded = try PlaybookLoader(catalog: StepCatalog.byName).load(dir + "/pb.yml")
        return errors(StaticChecker(inventory: try Inventory.load(dir + "/hosts.yml")).check([loaded]), in: dir)
    }

    static func errors(_ diagnostics: [Diagnostic], in dir: String) -> [String] {
        diagnostics.filter { $0.severity == .error }.map { diagnostic in
            let location = diagnostic.location.map { "\($0.file.replacingOccurrences(of: dir + "/", with: "")):\($0.line):\($0.column)" }
            return "\(location ?? "-"): \(diagnostic.message)"
        }
    }

    /// A play whose variable `text` is `= ` and `template`, a plain scalar: the template's column c is
    /// column 12 + c of line 3.
    static func playVar(_ template: String) -> String {
        "- hosts: controllers\n  vars:\n    text: = \(template)\n  steps: []\n"
    }

    /// `opt` in `variables` or not, as the inventory would give it.
    static func variables(opt: Bool) -> Variables {
        var variables: Variables = ["flag": .int(1)]
        if opt {
            variables["opt"] = .map([
                ("enabled", .bool(true)), ("name", .string("n")), ("sub", .string("s")),
                ("items", .list([.int(1), .int(2)])), ("a", .map([("b", .int(1))]))
            ])
        }
        return variables
    }

    // MARK: guards in templates

    static let guardedForms = [
        "{% if opt is defined %}{{ opt.name }}{{ opt.sub }}{% endif %}",
        "{% if opt is not undefined %}{{ opt.name }}{% endif %}",
        "{% if opt is defined and opt.enabled %}{{ opt.name }}{% endif %}",
        "{% if flag == 1 and opt.a is defined %}{{ opt.a.b }}{% endif %}",
        "{% if opt is undefined %}none{% else %}{{ opt.name }}{% endif %}",
        "{% if opt is not defined %}none{% else %}{{ opt.name }}{% endif %}",
        "{% if not (opt is defined) %}none{% else %}{{ opt.name }}{% endif %}",
        "{% if flag == 2 %}two{% elif opt is defined %}{{ opt.name }}{% else %}none{% endif %}",
        "{% for i in [1, 2] if opt is defined %}{{ opt.name }}{{ i }}{% endfor %}",
        "{{ opt.name if opt is defined else 'none' }}",
        "{{ 'none' if opt is undefined else opt.name }}",
        "{{ opt is defined and opt.enabled }}",
        "{{ opt is undefined or opt.enabled }}",
        "{{ opt | default('x') }} {{ opt.name | default('x') }} {{ opt.a.b | default(1) }}",
        "{{ opt | d('x') }} {{ opt | default:\"y\" }} {{ opt | defined }}"
    ]

    @Test(
        "each guard form: no error whether the inventory defines the variable or not, and rendering agrees",
        arguments: guardedForms)
    func guardedFormPasses(template: String) throws {
        #expect(try Self.errors(Self.playVar(template)) == [])
        #expect(try Self.errors(Self.playVar(template), vars: ["opt": Self.optValue]) == [])
        // The guard alone (nothing known about `opt`) keeps `opt` out of the required names.
        #expect(!Self.renderer.requiredNames(in: template).contains("opt"))
        let location = QuorumCore.SourceLocation(file: "t", line: 1, column: 1)
        #expect(throws: Never.self) { try Self.renderer.render(template, at: location, variables: Self.variables(opt: false)) }
        #expect(throws: Never.self) { try Self.renderer.render(template, at: location, variables: Self.variables(opt: true)) }
    }

    /// (template, whether the inventory defines `opt`, the variable reported, the column of its tag in the template).
    static let unguardedForms: [(String, Bool, String, Int)] = [
        ("{{ missing }}", false, "missing", 1),
        ("x {{ opt.name }}", false, "opt", 3),
        // A guard on one variable does not cover another.
        ("{% if opt is defined %}{{ other }}{% endif %}", true, "other", 24),
        ("{{ other if opt is defined else 'x' }}", true, "other", 1),
        ("{{ opt is defined and other }}", true, "other", 1),
        // The `else` of `opt is defined` runs when `opt` is undefined: what it uses is required.
        ("{% if opt is defined %}{{ opt }}{% else %}{{ fallback }}{% endif %}", false, "fallback", 43),
        // Where `opt` is known to be undefined, using it is an error.
        ("{% if opt is undefined %}{{ opt.name }}{% endif %}", false, "opt", 26),
        ("{{ opt.name if opt is undefined else 'x' }}", false, "opt", 1),
        // `default` guards its input, not its fallback.
        ("{{ opt | default(fallback) }}", false, "fallback", 1),
        // A guard is honoured after it, not before; a loop's variable only inside the loop.
        ("{{ opt.name }}{% if opt is defined %}{{ opt.name }}{% endif %}", false, "opt", 1),
        ("{% for x in [1] %}{% endfor %}{{ x }}", false, "x", 31)
    ]

    @Test("an unguarded use is an error at the tag that uses it, and rendering fails on it too", arguments: unguardedForms)
    func unguardedFormFails(template: String, optDefined: Bool, name: String, column: Int) throws {
        let vars = optDefined ? ["opt": Self.optValue] : [:]
        #expect(try Self.errors(Self.playVar(template), vars: vars) == ["pb.yml:3:\(12 + column): undefined variable `\(name)`"])
        let location = QuorumCore.SourceLocation(file: "t", line: 1, column: 1)
        let rendered = #expect(throws: TemplateError.self) {
            try Self.renderer.render(template, at: location, variables: Self.variables(opt: optDefined))
        }
        #expect(rendered?.undefinedVariable.map { $0 == name || $0.hasPrefix(name + ".") } == true, "\(String(describing: rendered))")
    }

    @Test("a template file's undefined variable is reported at its own line and column")
    func templateFileLocation() throws {
        let playbook = "- hosts: controllers\n  steps:\n    - template: {src: t.j2, dest: /tmp/t}\n"
        let file = "line one\n{% if opt is defined %}{{ opt }}{% endif %}\n  port {{ missing_port }}\n"
        #expect(try Self.errors(playbook, files: ["files/t.j2": file]) == ["files/t.j2:3:8: undefined variable `missing_port`"])
    }

    // MARK: guards in `when:`

    static let guardedSteps = [
        // string form: guards the name, the arguments, the loop and changed_when
        """
        - name: use {{ opt.name }}
          command: echo {{ opt.name }} {{ item }}
          loop: "{{ opt['items'] }}"
          changed_when: opt.enabled
          when: opt is defined
        """,
        // list form: each condition is evaluated only when the ones before held
        """
        - command: echo {{ opt.a.b }}
          when:
            - flag == 1
            - opt is defined
            - opt.enabled
        """,
        """
        - command: echo {{ opt.name }}
          when: opt is defined and opt.enabled
        """,
        """
        - command: echo {{ opt.name }}
          when: not (opt is undefined)
        """
    ]

    @Test("a step whose when: says the variable is defined: no error, defined or not", arguments: guardedSteps)
    func guardedStepPasses(step: String) throws {
        let playbook = "- hosts: controllers\n  steps:\n" + step.split(separator: "\n").map { "    \($0)\n" }.joined()
        #expect(try Self.errors(playbook) == [])
        #expect(try Self.errors(playbook, vars: ["opt": Self.optValue]) == [])
    }

    @Test("a when: on another variable, or on no definedness, does not guard the step")
    func unguardedStepFails() throws {
        let other = "- hosts: controllers\n  steps:\n    - command: echo {{ opt.name }}\n      when: other is defined\n"
        #expect(try Self.errors(other, vars: ["other": "1"]) == ["pb.yml:3:21: undefined variable `opt`"])
        let flag = "- hosts: controllers\n  steps:\n    - name: n {{ opt }}\n      command: echo hi\n      when: flag == 1\n"
        // A name's uses are reported at the step.
        #expect(try Self.errors(flag) == ["pb.yml:3:7: undefined variable `opt`"])
        let condition = "- hosts: controllers\n  steps:\n    - command: echo hi\n      when: [flag == 1, missing_flag == 2]\n"
        #expect(try Self.errors(condition) == ["pb.yml:4:25: undefined variable `missing_flag`"])
        // A string inside a list is reported at the list.
        let loop = "- hosts: controllers\n  steps:\n    - command: echo {{ item }}\n      loop: [a, \"{{ missing_item }}\"]\n"
        #expect(try Self.errors(loop) == ["pb.yml:4:13: undefined variable `missing_item`"])
    }

    @Test("a step whose when: cannot hold (nothing defines the variable) is not checked further")
    func neverRunningStep() throws {
        let playbook = "- hosts: controllers\n  steps:\n    - command: echo {{ opt }} {{ typo }}\n      when: opt is defined\n"
        #expect(try Self.errors(playbook) == [])
        #expect(try Self.errors(playbook, vars: ["opt": "1"]) == ["pb.yml:3:31: undefined variable `typo`"])
    }

    // MARK: the shipped Magnum playbook

    /// playbooks/magnum-ha.yml checked against inventory/lab.yml with its controllers' variables changed.
    static func magnumErrors(_ change: (inout Variables) -> Void) throws -> [String] {
        var inventory = try Inventory.load(repository + "/inventory/lab.yml")
        let controllers = try #require(inventory.groups["controllers"])
        // As shipped, the lab gives Magnum's own RabbitMQ user (its password) and the brokers, no transport_url.
        #expect(["rabbit_hosts", "magnum_rabbitmq_password", "rabbitmq_api_url"].allSatisfy { controllers.variables[$0] != nil })
        #expect(controllers.variables["transport_url"] == nil && controllers.variables["rabbit_user"] == nil)
        change(&inventory.groups["controllers", default: controllers].variables)
        let playbook = try PlaybookLoader(catalog: StepCatalog.byName).load(repository + "/playbooks/magnum-ha.yml")
        return errors(StaticChecker(inventory: inventory).check([playbook]), in: repository)
    }

    /// Every variable transport_url can be built from.
    static func dropRabbit(_ variables: inout Variables) {
        for name in [
            "rabbit_hosts", "rabbit_user", "rabbit_password", "magnum_rabbitmq_password", "rabbitmq_api_url",
            "rabbitmq_admin_user", "rabbitmq_admin_password"
        ] { variables[name] = nil }
    }

    /// The line of `magnum_transport_url: >-` in the playbook (a block scalar is located at its indicator).
    static func transportURLLine() throws -> Int {
        let text = try String(contentsOfFile: repository + "/playbooks/magnum-ha.yml", encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return try #require(lines.firstIndex { $0.contains("magnum_transport_url: >-") }) + 1
    }

    @Test("magnum-ha.yml validates with Magnum's own RabbitMQ user, with transport_url alone, with the shared rabbit_* account")
    func magnumEitherWay() throws {
        #expect(try Self.magnumErrors { _ in } == [])
        #expect(
            try Self.magnumErrors { variables in
                Self.dropRabbit(&variables)
                variables["transport_url"] = .string("rabbit://openstack:secret@10.21.22.4:5672/")
            } == [])
        #expect(
            try Self.magnumErrors { variables in
                Self.dropRabbit(&variables)
                variables["rabbit_hosts"] = .list([.string("10.21.22.4:5672")])
                variables["rabbit_user"] = .string("openstack")
                variables["rabbit_password"] = .string("secret")
            } == [])
    }

    @Test("magnum-ha.yml with none of them: an error per rabbit_* variable with file:line:col, none for transport_url")
    func magnumNeither() throws {
        let errors = try Self.magnumErrors(Self.dropRabbit)
        #expect(errors.map { $0.split(separator: " ").last } == ["`rabbit_hosts`", "`rabbit_user`", "`rabbit_password`"], "\(errors)")
        // A block scalar's text is located from its indicator (as rendering errors are), the column from there by
        // the tag's column in the text.
        let line = try Self.transportURLLine()
        #expect(errors.allSatisfy { $0.hasPrefix("playbooks/magnum-ha.yml:\(line):") }, "\(errors)")
        #expect(!errors.contains { $0.contains("transport_url") })

        // Rendering agrees: the value fails on rabbit_hosts without either, and is transport_url with it.
        let playbook = try PlaybookLoader(catalog: StepCatalog.byName).load(Self.repository + "/playbooks/magnum-ha.yml")
        let value = try #require(playbook.plays.flatMap(\.vars).first { $0.name == "magnum_transport_url" })
        let text = try #require(value.value.stringValue)
        let failure = #expect(throws: TemplateError.self) { try Self.renderer.render(text, at: value.location, variables: [:]) }
        #expect(failure?.undefinedVariable == "rabbit_hosts")
        let url = "rabbit://openstack:secret@10.21.22.4:5672/"
        #expect(try Self.renderer.render(text, at: value.location, variables: ["transport_url": .string(url)]) == url)
    }
}
