import OrderedCollections
import QuorumCore
import Testing

private let renderer = TemplateRenderer()
private let playbook = QuorumCore.SourceLocation(file: "site.yml", line: 40, column: 12)
private let magnumFile = QuorumCore.SourceLocation(file: "files/magnum.conf.j2", line: 1, column: 1)

private let vars: Variables = [
    "inventory_hostname": .string("ctl1"),
    "db": .map([("host", .string("10.0.0.5")), ("password", .string("p&ss<w>rd\"x")), ("port", .int(3306))]),
    "port": .int(9511),
    "ratio": .double(0.5),
    "debug": .bool(true),
    "nothing": .null,
    "magnum_release": .string("2025.2"),
    "groups": .map([("controllers", .list([.string("ctl1"), .string("ctl2"), .string("ctl3")]))]),
    "hostvars": .map([
        ("ctl1", .map([("ansible_host", .string("10.0.0.11"))])),
        ("ctl2", .map([("ansible_host", .string("10.0.0.12"))])),
        ("ctl3", .map([("ansible_host", .string("10.0.0.13"))]))
    ]),
    "options": .map([("zeta", .int(1)), ("alpha", .int(2)), ("mid", .int(3))]),
    "result": .map([("rc", .int(1)), ("stdout", .string(""))]),
    "item": .map([("state", .string("absent")), ("name", .string("magnum"))]),
    "big": .int(16_777_217)
]

private func render(_ text: String, _ variables: Variables = vars, at location: QuorumCore.SourceLocation = playbook) throws -> String {
    try renderer.render(text, at: location, variables: variables)
}

private func failure(_ text: String, _ variables: Variables = vars, at location: QuorumCore.SourceLocation = playbook) -> TemplateError? {
    do {
        _ = try renderer.render(text, at: location, variables: variables)
        return nil
    } catch let error as TemplateError {
        return error
    } catch {
        return TemplateError(message: "unexpected error type: \(error)", location: nil)
    }
}

@Suite("Templates: rendering")
struct TemplatesRenderingTests {
    @Test func plainTextIsReturnedAsIs() throws {
        #expect(try render("no templates here {not one}") == "no templates here {not one}")
    }

    @Test func variablesAndLookups() throws {
        #expect(try render("{{ inventory_hostname }}") == "ctl1")
        #expect(try render("{{db.host}}:{{ db.port }}") == "10.0.0.5:3306")
        #expect(try render("{{ db['host'] }} {{ db[\"port\"] }}") == "10.0.0.5 3306")
        #expect(try render("{% for h in groups.controllers %}{{ hostvars[h].ansible_host }} {% endfor %}") == "10.0.0.11 10.0.0.12 10.0.0.13 ")
        #expect(try render("{{ groups.controllers.0 }} {{ groups.controllers[-1] }} {{ groups['controllers'][1] }}") == "ctl1 ctl3 ctl2")
    }

    @Test func scalarFormatting() throws {
        #expect(try render("{{ port }} {{ ratio }} {{ debug }} [{{ nothing }}] {{ 2.0 }}") == "9511 0.5 true [] 2")
        #expect(try render("{{ groups.controllers }}") == "[\"ctl1\", \"ctl2\", \"ctl3\"]")
        #expect(try render("{{ groups.controllers|join(',') }}|{{ groups.controllers|join:\", \" }}") == "ctl1,ctl2,ctl3|ctl1, ctl2, ctl3")
    }

    @Test func noHTMLEscaping() throws {
        #expect(try render("password = {{ db.password }}") == "password = p&ss<w>rd\"x")
    }

    @Test func hostileValuesAreRenderedLiterally() throws {
        let hostile = "it's \"$(touch pwned)\" `id` \\n \\ {{ db.password }} {% if x %}\nsecond line"
        let variables: Variables = ["evil": .string(hostile), "db": vars["db"] ?? .null]
        #expect(try render("v={{ evil }}", variables) == "v=" + hostile)
        #expect(try renderer.renderValue(.string("{{ evil }}"), at: playbook, variables: variables) == .string(hostile))
        #expect(try render("{{ evil|quote }}", variables) == Shell.quote(hostile))
        #expect(try render("{{ evil|upper }}", variables) == hostile.uppercased())
    }

    @Test func ifElifElse() throws {
        let template = "{% if port > 10000 %}big{% elif port == 9511 %}magnum{% else %}other{% endif %}"
        #expect(try render(template) == "magnum")
        #expect(try render(template, ["port": .int(20000)]) == "big")
        #expect(try render(template, ["port": .int(1)]) == "other")
        #expect(try render("{% if debug and not nothing %}yes{% endif %}") == "yes")
    }

    @Test func integersCompareExactly() throws {
        // Stencil compares numbers as Float, where 16777217 == 16777216.
        #expect(try render("{% if big == 16777216 %}same{% else %}different{% endif %}") == "different")
        #expect(try render("{{ big + 1 }} {{ port // 2 }} {{ 7 % 3 }} {{ 1 / 4 }}") == "16777218 4755 1 0.25")
    }

    @Test func forLoopOverMapKeepsWrittenOrder() throws {
        #expect(try render("{% for k, v in options %}{{ k }}={{ v }};{% endfor %}") == "zeta=1;alpha=2;mid=3;")
        #expect(try render("{% for k in options %}{{ k }} {% endfor %}") == "zeta alpha mid ")
        #expect(try render("{% for k, v in options.items() %}{{ k }}{% endfor %}") == "zetaalphamid")
    }

    @Test func loopVariables() throws {
        let template = "{% for h in groups.controllers %}{{ loop.index }}/{{ loop.length }}:{{ h }}{% if not loop.last %},{% endif %}{% endfor %}"
        #expect(try render(template) == "1/3:ctl1,2/3:ctl2,3/3:ctl3")
        #expect(try render("{% for h in groups.controllers %}{{ forloop.counter0 }}{% if forloop.first %}^{% endif %}{% endfor %}") == "0^12")
        #expect(try render("{% for h in groups.controllers if h != 'ctl2' %}{{ h }}{% endfor %}") == "ctl1ctl3")
        #expect(try render("{% for h in [] %}x{% else %}none{% endfor %}") == "none")
        #expect(try render("{% for h in [] %}x{% empty %}none{% endfor %}") == "none")
    }

    @Test func haproxyServerLinePerController() throws {
        let template = """
            listen magnum_api
                bind {{ vip }}:{{ port }}
                balance roundrobin
                {% for host in groups.controllers %}
                server {{ host }} {{ hostvars[host].ansible_host }}:{{ port }} check inter 2000 rise 2 fall 5
                {% endfor %}

            """
        var variables = vars
        variables["vip"] = .string("10.0.0.10")
        let expected = """
            listen magnum_api
                bind 10.0.0.10:9511
                balance roundrobin
                server ctl1 10.0.0.11:9511 check inter 2000 rise 2 fall 5
                server ctl2 10.0.0.12:9511 check inter 2000 rise 2 fall 5
                server ctl3 10.0.0.13:9511 check inter 2000 rise 2 fall 5

            """
        #expect(try render(template, variables, at: magnumFile) == expected)
    }

    @Test func smartTrimmingLeavesNoBlankLines() throws {
        let template = """
            [DEFAULT]
            debug = {{ debug }}
            {% if magnum_release is version('2026.1', '<=') %}
              {# the trust section is gone after 2026.1 #}
            [trust]
            trustee_domain_name = magnum
            {% endif %}
            {% for k, v in options %}
            {{ k }} = {{ v }}
            {% endfor %}
            [database]
            connection = mysql+pymysql://magnum:{{ db.password|urlencode }}@{{ db.host }}/magnum
            """
        let expected = """
            [DEFAULT]
            debug = true
            [trust]
            trustee_domain_name = magnum
            zeta = 1
            alpha = 2
            mid = 3
            [database]
            connection = mysql+pymysql://magnum:p%26ss%3Cw%3Erd%22x@10.0.0.5/magnum
            """
        #expect(try render(template, at: magnumFile) == expected)
    }

    @Test func inlineTagsKeepTheirSpacesAndNewlines() throws {
        let template = "server a {% if debug %}backup{% endif %}\nnext {%- if debug %} x{% endif -%}  \n end"
        #expect(try render(template) == "server a backup\nnext xend")
    }

    @Test func setTag() throws {
        #expect(try render("{% set n = groups.controllers|length %}{{ n * 2 }}") == "6")
    }

    @Test func conditionalExpressionAndConcatenation() throws {
        #expect(try render("{{ 'on' if debug else 'off' }}-{{ 'x' ~ port }}") == "on-x9511")
    }
}

@Suite("Templates: strictness")
struct TemplatesStrictnessTests {
    @Test func undefinedTopLevelVariableIsAnError() throws {
        let error = try #require(failure("name = {{ inventory_hostnme }}"))
        #expect(error.undefinedVariable == "inventory_hostnme")
        #expect(error.message.contains("`inventory_hostnme`"))
        #expect(error.message.contains("did you mean `inventory_hostname`?"))
        #expect(error.location == QuorumCore.SourceLocation(file: "site.yml", line: 40, column: 19))
    }

    @Test func undefinedNestedKeyNamesTheFullPathAndLine() throws {
        var lines = (1...11).map { "option\($0) = {{ port }}" }
        lines.append("password = {{ db.pasword }}")
        lines.append("last = 1")
        let error = try #require(failure(lines.joined(separator: "\n"), at: magnumFile))
        #expect(error.undefinedVariable == "db.pasword")
        #expect(error.message.contains("`db.pasword`"))
        #expect(error.message.contains("did you mean `password`?"))
        #expect(error.location?.file == "files/magnum.conf.j2")
        #expect(error.location?.line == 12)
        #expect(error.location?.column == 12)
        #expect(error.description.hasPrefix("files/magnum.conf.j2:12:12: undefined variable `db.pasword`"))
    }

    @Test func repeatedLinesStillReportTheRightLine() throws {
        // Stencil's own lexer would report the first line with the same text.
        let text = "{{ a }}\n{{ a }}\n{{ a }}\n{{ missing }}\n{{ a }}"
        let error = try #require(failure(text, ["a": .int(1)], at: magnumFile))
        #expect(error.location?.line == 4)
    }

    @Test func undefinedInsideLoopBodyAndConditions() throws {
        let template = "a\n{% for h in groups.controllers %}\n{{ hostvars[h].ansible_port }}\n{% endfor %}"
        let error = try #require(failure(template, at: magnumFile))
        #expect(error.undefinedVariable == "hostvars['ctl1'].ansible_port")
        #expect(error.location?.line == 3)

        let conditionError = try #require(failure("x\n\n{% if feature_enabled %}on{% endif %}", at: magnumFile))
        #expect(conditionError.undefinedVariable == "feature_enabled")
        #expect(conditionError.location?.line == 3)

        let chain = try #require(failure("{{ a.b.c }}"))
        #expect(chain.undefinedVariable == "a.b.c")
        #expect(chain.message.contains("`a` is undefined"))
    }

    @Test func defaultIsTheEscapeHatch() throws {
        #expect(try render("{{ missing|default:\"y\" }}") == "y")
        #expect(try render("{{ missing|default('y') }}") == "y")
        #expect(try render("{{ missing | d('z') }}") == "z")
        #expect(try render("{{ db.pasword|default('none') }}") == "none")
        #expect(try render("{{ a.b.c|default(7) + 1 }}") == "8")
        #expect(try render("{{ port|default(1) }}") == "9511")
        #expect(try render("{{ nothing|default('null too') }}") == "null too")
        #expect(try render("{{ port|default(undefined_fallback) }}") == "9511")
        #expect(try render("[{{ missing|default }}]") == "[]")
    }

    @Test func isDefinedAndDefinedFilter() throws {
        #expect(try render("{% if missing is defined %}a{% else %}b{% endif %}") == "b")
        #expect(try render("{% if missing is not defined %}a{% endif %}") == "a")
        #expect(try render("{% if db.pasword is undefined %}u{% endif %}") == "u")
        #expect(try render("{% if missing is defined and missing > 3 %}a{% else %}b{% endif %}") == "b")
        #expect(try render("{{ missing|defined }} {{ db|defined }}") == "false true")
    }

    @Test func parseErrorsHaveLines() throws {
        let unknownFilter = try #require(failure("a\nb\n{{ port|uper }}", at: magnumFile))
        #expect(unknownFilter.location?.line == 3)
        #expect(unknownFilter.message.contains("unknown filter `uper`"))
        #expect(unknownFilter.message.contains("did you mean `upper`?"))

        let unclosedIf = try #require(failure("a\n{% if debug %}\nb\n", at: magnumFile))
        #expect(unclosedIf.location?.line == 2)
        #expect(unclosedIf.message.contains("endif"))

        let unclosedTag = try #require(failure("a\nb {{ port \nc", at: magnumFile))
        #expect(unclosedTag.location?.line == 2)
        #expect(unclosedTag.message.contains("never closed"))

        let unknownTag = try #require(failure("\n\n\n{% include 'x' %}", at: magnumFile))
        #expect(unknownTag.location?.line == 4)

        let stray = try #require(failure("x\n{% endif %}", at: magnumFile))
        #expect(stray.location?.line == 2)

        let syntax = try #require(failure("{{ port + }}"))
        #expect(syntax.message.contains("`port +`"))
        #expect(throws: TemplateError.self) { try renderer.check("{% for x %}{% endfor %}", at: playbook) }
        #expect(throws: Never.self) { try renderer.check("{{ anything_at_all|default(1) }}", at: playbook) }
    }

    @Test func typeErrorsAreErrors() throws {
        #expect(failure("{% if port > 'a' %}{% endif %}") != nil)
        #expect(failure("{{ 'abc'|int }}") != nil)
        #expect(failure("{% for x in port %}{% endfor %}") != nil)
        #expect(failure("{{ inventory_hostname|version_le('2026.1') }}")?.message.contains("is not a version") == true)
    }
}

@Suite("Templates: values, conditions, filters")
struct TemplatesValueTests {
    @Test func singleExpressionKeepsItsType() throws {
        let value: Value = .map([
            ("hosts", .string("{{ groups.controllers }}")),
            ("port", .string("  {{ port }} ")),
            ("db", .string("{{ db }}")),
            ("flag", .string("{{ debug }}")),
            ("text", .string("port {{ port }}")),
            ("{{ inventory_hostname }}_key", .list([.string("{{ port + 1 }}"), .int(3), .string("plain")]))
        ])
        let rendered = try renderer.renderValue(value, at: playbook, variables: vars)
        #expect(rendered["hosts"] == .list([.string("ctl1"), .string("ctl2"), .string("ctl3")]))
        #expect(rendered["port"] == .int(9511))
        #expect(rendered["db"] == vars["db"])
        #expect(rendered["flag"] == .bool(true))
        #expect(rendered["text"] == .string("port 9511"))
        #expect(rendered["ctl1_key"] == .list([.int(9512), .int(3), .string("plain")]))
        #expect(rendered.mapValue?.keys.elementsEqual(["hosts", "port", "db", "flag", "text", "ctl1_key"]) == true)
    }

    @Test func renderValueIsStrict() throws {
        do {
            _ = try renderer.renderValue(.list([.string("{{ nope }}")]), at: playbook, variables: vars)
            Issue.record("expected an error")
        } catch let error as TemplateError {
            #expect(error.undefinedVariable == "nope")
            #expect(error.location == QuorumCore.SourceLocation(file: "site.yml", line: 40, column: 12))
        }
    }

    @Test func conditions() throws {
        #expect(try renderer.evaluate("inventory_hostname == 'ctl1'", at: playbook, variables: vars))
        #expect(try !renderer.evaluate("inventory_hostname == 'ctl2'", at: playbook, variables: vars))
        #expect(try renderer.evaluate("debug and not nothing", at: playbook, variables: vars))
        #expect(try renderer.evaluate("item.state == 'absent'", at: playbook, variables: vars))
        #expect(try renderer.evaluate("result.rc != 0", at: playbook, variables: vars))
        #expect(try renderer.evaluate("'ctl2' in groups.controllers", at: playbook, variables: vars))
        #expect(try renderer.evaluate("'ctl9' not in groups.controllers", at: playbook, variables: vars))
        #expect(try renderer.evaluate("magnum_release|version_le:\"2026.1\"", at: playbook, variables: vars))
        #expect(try renderer.evaluate("(port > 9000 or missing) and groups.controllers|length == 3", at: playbook, variables: vars))
        #expect(try renderer.evaluate("missing is not defined", at: playbook, variables: vars))
        #expect(throws: TemplateError.self) { try renderer.evaluate("missing == 1", at: playbook, variables: vars) }
        #expect(throws: TemplateError.self) { try renderer.evaluate("{{ debug }}", at: playbook, variables: vars) }
        #expect(throws: TemplateError.self) { try renderer.evaluate("port ==", at: playbook, variables: vars) }
        do {
            _ = try renderer.evaluate("result.rcc != 0", at: playbook, variables: vars)
            Issue.record("expected an error")
        } catch let error as TemplateError {
            #expect(error.undefinedVariable == "result.rcc")
            #expect(error.location == playbook)
        }
    }

    @Test(arguments: [
        ("'2025.2'|version_le('2026.1')", true),
        ("'2026.2'|version_le('2026.1')", false),
        ("'2026.10'|version_gt('2026.9')", true),
        ("'2026.1' is version('2026.1.0', '==')", true),
        ("'2026.1' is version('2026.1', 'lt')", false),
        ("'2026.1'|version_compare('2025.2', '>=')", true),
        ("magnum_release is version('2026.1', '<=')", true),
        ("'v2026.10' is version('2026.9', 'gt')", true)
    ])
    func versionComparisons(condition: String, expected: Bool) throws {
        #expect(try renderer.evaluate(condition, at: playbook, variables: vars) == expected)
    }

    @Test func filters() throws {
        #expect(try render("{{ 'Magnum'|upper }} {{ 'Magnum'|lower }} {{ 'magnum'|uppercase }} {{ 'mAGNUM'|capitalize }}") == "MAGNUM magnum MAGNUM Magnum")
        #expect(try render("{{ \"it's\"|quote }} {{ 'plain'|quote }} {{ ['a b', 'c']|quote }}") == "'it'\\''s' plain 'a b' c")
        #expect(try render("{{ db|to_json }}") == "{\"host\": \"10.0.0.5\", \"password\": \"p&ss<w>rd\\\"x\", \"port\": 3306}")
        #expect(try render("{{ [1, none, true]|to_json }}") == "[1, null, true]")
        #expect(try render("{{ 'a-b-c'|replace('-', '_') }} {{ 'a-b'|replace:\"-\",\"+\" }}") == "a_b_c a+b")
        #expect(try render("{{ '9511'|int + 1 }} {{ 2.9|int }} {{ port|string ~ '!' }}") == "9512 2 9511!")
        #expect(
            try render("{{ groups.controllers|first }} {{ groups.controllers|last }} {{ groups.controllers|length }} {{ 'abc'|length }}") == "ctl1 ctl3 3 3")
        #expect(try render("{{ 'a b/c&d=é'|urlencode }}") == "a%20b%2Fc%26d%3D%C3%A9")
        #expect(try render("{{ groups.controllers|map('extract', hostvars, 'ansible_host')|join(',') }}") == "10.0.0.11,10.0.0.12,10.0.0.13")
        #expect(try render("{{ groups.controllers|map('upper')|join }}") == "CTL1CTL2CTL3")
        #expect(try render("{{ 'a,b'|split(',')|last }} {{ '  x '|trim }} {{ [3, 1, 2, 1]|unique|sort|join }}") == "b x 123")
        #expect(try render("{{ 'yes'|bool }} {{ 'off'|bool }}") == "true false")
    }

    @Test func referencedNames() throws {
        let template = """
            {% for host in groups.controllers %}{{ hostvars[host].ansible_host }}:{{ port }} {{ loop.index }}{% endfor %}
            {% if magnum_release is version('2026.1', '<=') %}{{ trustee|default('x') }}{% endif %}
            {% if optional is defined %}{{ optional.value }}{% endif %}{% set n = 3 %}{{ n }}
            """
        #expect(renderer.referencedNames(in: template) == ["groups", "hostvars", "port", "magnum_release", "trustee", "optional"])
        #expect(renderer.requiredNames(in: template) == ["groups", "hostvars", "port", "magnum_release"])
        #expect(renderer.referencedNames(in: "no template") == [])
        #expect(renderer.referencedNames(inCondition: "item.state == 'absent' and result.rc != 0") == ["item", "result"])
    }
}

@Suite("Templates: concurrency")
struct TemplatesConcurrencyTests {
    @Test func concurrentRendersOfTheSameTemplateStayIndependent() async throws {
        let template = "{% for h in hosts %}{% set me = h ~ '@' ~ name %}{{ me }};{% endfor %}"
        let results = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for index in 0..<64 {
                group.addTask {
                    let variables: Variables = ["name": .string("host\(index)"), "hosts": .list([.int(index), .int(index + 1)])]
                    return (index, try renderer.render(template, at: magnumFile, variables: variables))
                }
            }
            var all: [Int: String] = [:]
            for try await (index, text) in group { all[index] = text }
            return all
        }
        #expect(results.count == 64)
        for (index, text) in results {
            #expect(text == "\(index)@host\(index);\(index + 1)@host\(index);")
        }
    }
}
