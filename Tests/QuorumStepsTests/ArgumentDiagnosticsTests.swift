import Foundation
import OrderedCollections
import QuorumCore
import Testing

@testable import QuorumSteps

/// Arguments the kinds used to refuse on every host while the loader let them through (issue 17): now
/// errors at load time, at the value's file:line:col, from the same check the run makes after rendering.
@Suite struct ArgumentDiagnosticsTests {
    static func errors(_ steps: String, defaults: String = "") throws -> [String] {
        try RequiredNullTests.diagnostics("- hosts: all\n\(defaults)  steps:\n\(steps)").map {
            "\($0.location?.line ?? 0):\($0.location?.column ?? 0) \($0.message)"
        }
    }

    @Test("ini: a null option value is an error at the null, at load time and after rendering alike")
    func iniNullValue() throws {
        let errors = try Self.errors(
            """
                - ini: {path: /etc/magnum/magnum.conf, settings: {DEFAULT: {debug: ~, verbose: [a, ~]}}}
            """)
        #expect(
            errors == [
                "3:72 `ini.settings.DEFAULT.debug` must be a string, number or boolean, found a null",
                "3:88 `ini.settings.DEFAULT.verbose[1]` must be a string, number or boolean, found a null"
            ], "\(errors)")
        let rendered: Value = .map(["path": "/etc/magnum/magnum.conf", "settings": .map(["DEFAULT": .map(["debug": .null])])])
        let failure = #expect(throws: StepFailure.self) {
            try IniStep.schema.arguments(rendered: rendered, kind: "ini", location: nil)
        }
        #expect(failure?.message == "`ini.settings.DEFAULT.debug` must be a string, number or boolean, found a null")
    }

    @Test("relative paths, out-of-range ports and timeouts, empty required values: load-time errors where they are written")
    func constraintsTheKindsChecked() throws {
        let errors = try Self.errors(
            """
                - copy: {dest: etc/x, content: a}
                - wait_for: {port: 0}
                - pcs_resource: {resource: p_haproxy, timeout: 7200}
                - template: {src: "", dest: /etc/x}
                - apt: {packages: []}
                - haproxy_reload: {config: [/etc/haproxy/haproxy.cfg, conf.d]}
            """)
        #expect(
            errors == [
                "3:20 `copy.dest` must be an absolute path (starting with `/`), found `etc/x`",
                "4:24 `wait_for.port` must be an integer from 1 to 65535, found `0`",
                "5:52 `pcs_resource.timeout` must be an integer from 1 to 3600, found `7200`",
                "6:23 `template.src` is required, found an empty string",
                "7:23 `apt.packages` is required, found an empty list",
                "8:59 `haproxy_reload.config[1]` must be an absolute path (starting with `/`), found `conf.d`"
            ], "\(errors)")
    }

    @Test("one boolean grammar: on/off/1/0 load as they run; a null argument is an absent one in exclusive groups")
    func grammarAndNulls() throws {
        let errors = try Self.errors(
            """
                - file: {path: /srv/x, state: directory, recurse: "on"}
                - line: {path: /etc/x, line: a, create: "0"}
                - copy: {dest: /etc/x, content: a, src: ~}
                - copy: {dest: /etc/x, src: ~}
                - mysql_user: {name: magnum, login: {port: 3306.0}}
                - file: {path: /srv/x, recurse: maybe}
            """)
        #expect(
            errors == [
                "6:13 `copy` needs one of `content`, `src`",
                "8:37 `file.recurse` must be a boolean, found a string `maybe`"
            ], "\(errors)")
        for text in ["true", "yes", "on", "1", "TRUE", "Off", "no", "false", "0"] {
            #expect(Value.string(text).booleanValue == ["true", "yes", "on", "1"].contains(text.lowercased()))
        }
        #expect(Value.string("maybe").booleanValue == nil && Value.int(2).booleanValue == nil)
    }

    @Test("Keystone credentials need url, username, password and project, unless the play's defaults give them")
    func nestedRequiredFields() throws {
        let errors = try Self.errors(
            """
                - keystone_domain: {name: heat, auth: {url: "http://vip:5000/v3"}}
            """)
        #expect(
            errors == [
                "3:43 `keystone_domain.auth` is missing the required argument `username`",
                "3:43 `keystone_domain.auth` is missing the required argument `password`",
                "3:43 `keystone_domain.auth` is missing the required argument `project`"
            ], "\(errors)")
        let defaulted = try Self.errors(
            """
                - keystone_domain: {name: heat, auth: {project: service}}
            """, defaults: "  defaults: {keystone: {auth: {url: \"http://vip:5000/v3\", username: admin, password: pw, project: admin}}}\n")
        #expect(defaulted.isEmpty, "\(defaulted)")
    }

    @Test("a secret argument of the wrong type is named, its value never printed")
    func secretsStayOut() throws {
        let errors = try Self.errors(
            """
                - mysql_user: {name: magnum, password: [hunter2]}
            """)
        #expect(
            errors.count == 1 && errors.allSatisfy { !$0.contains("hunter2") } && errors.first?.contains("`mysql_user.password`") == true,
            "\(errors)")
    }

    @Test("a schema default is filled in for the kind, in normal form, and does not count as given")
    func defaultsAreFilled() throws {
        let arguments = try WaitForStep.schema.arguments(
            rendered: .map(["port": "8080", "sleep": .null]), kind: "wait_for",
            location: nil)
        #expect(arguments.values["port"] == .int(8080) && arguments.values["timeout"] == .int(60) && arguments.values["sleep"] == .int(1))
        #expect(arguments.has("port") && !arguments.has("timeout") && !arguments.has("sleep"))
        let step = try WaitForStep(arguments: Arguments(["port": .int(80)]))
        #expect(step.timeout == 60 && step.delay == 0 && step.sleep == 1 && step.wantPresent)
        // `haproxy_reload:` with no arguments at all (null) runs with the defaults too.
        let reload = try HAProxyReloadStep(checked: HAProxyReloadStep.schema.arguments(rendered: .null, kind: "haproxy_reload", location: nil))
        #expect(reload.timeout == 60)
    }
}
