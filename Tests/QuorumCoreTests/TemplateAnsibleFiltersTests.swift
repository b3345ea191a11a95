import OrderedCollections
import QuorumCore
import Testing

/// The filters ported kolla and OpenStack-Ansible templates use, with Jinja2/Ansible semantics, and
/// strictness: a wrong argument is an error at the template's line and column.
@Suite("Templates: Ansible filters")
struct TemplateAnsibleFiltersTests {
    let renderer = TemplateRenderer()
    let file = QuorumCore.SourceLocation(file: "files/neutron.conf.j2", line: 1, column: 1)
    let vars: Variables = [
        "services": .list([
            .map([("name", .string("api")), ("enabled", .bool(true)), ("port", .int(9511))]),
            .map([("name", .string("conductor")), ("enabled", .bool(false))]),
            .map([("name", .string("proxy")), ("enabled", .bool(true)), ("port", .int(80))])
        ]),
        "defaults": .map([
            ("debug", .bool(false)), ("workers", .int(2)), ("hosts", .list([.string("a")])),
            ("db", .map([("host", .string("10.0.0.5")), ("port", .int(3306))]))
        ]),
        "overrides": .map([("debug", .bool(true)), ("hosts", .list([.string("b")])), ("db", .map([("port", .int(3307))]))]),
        "secret_password": .string("s3cr3t-value")
    ]

    func render(_ text: String) throws -> String {
        try renderer.render(text, at: file, variables: vars)
    }

    func failure(_ text: String) -> TemplateError? {
        do {
            _ = try render(text)
            return nil
        } catch {
            return error as? TemplateError
        }
    }

    @Test func regexReplace() throws {
        #expect(try render("{{ 'ctl1.example.org'|regex_replace('\\\\..*$', '') }}") == "ctl1")
        #expect(try render("{{ 'a-b-c'|regex_replace('(\\\\w)-(\\\\w)', '\\\\2+\\\\1') }}") == "b+a-c")
        #expect(try render("{{ 'host=db'|regex_replace('(?P<k>\\\\w+)=(?P<v>\\\\w+)', '\\\\g<v>:\\\\g<k>') }}") == "db:host")
        #expect(try render("{{ 'AaA'|regex_replace('a', 'x', ignorecase=true) }}") == "xxx")
        #expect(try render("{{ 'aaa'|regex_replace('a', 'x', count=2) }}") == "xxa")
        #expect(try render("{{ 'a\\nb'|regex_replace('^', '# ', multiline=true) }}") == "# a\n# b")
        #expect(try render("{{ 3306|regex_replace('6$', '7') }}") == "3307")
        #expect(try render("{% if 'magnum-api' is match('magnum') %}m{% endif %}{% if 'x-magnum' is search('mag') %}s{% endif %}") == "ms")
        #expect(try render("{% if 'x-magnum' is match('magnum') %}m{% else %}no{% endif %}") == "no")
    }

    @Test func regexErrorsAreLocated() throws {
        let bad = try #require(failure("a\n  {{ 'x'|regex_replace('(', '') }}"))
        #expect(bad.message.contains("`(` is not a valid regular expression"))
        #expect(bad.location == QuorumCore.SourceLocation(file: "files/neutron.conf.j2", line: 2, column: 3))
        #expect(failure("{{ services|regex_replace('a', 'b') }}")?.message.contains("needs a string, not a list") == true)
        #expect(failure("{{ 'a'|regex_replace('a', 'b', ignorecase='yes') }}")?.message.contains("`ignorecase` must be true or false") == true)
        #expect(failure("{{ 'a'|regex_replace('a', '\\\\3') }}")?.message.contains("no group 3") == true)
    }

    @Test func base64() throws {
        #expect(try render("{{ 'magnum:pw'|b64encode }}") == "bWFnbnVtOnB3")
        #expect(try render("{{ 'bWFnbnVtOnB3'|b64decode }}") == "magnum:pw")
        #expect(try render("{{ 'héllo'|b64encode|b64decode }}") == "héllo")
        let notBase64 = try #require(failure("{{ secret_password|b64decode }}"))
        #expect(notBase64.message == "filter `b64decode`: the input is not base64")
        #expect(!notBase64.description.contains("s3cr3t"))
        #expect(failure("{{ services|b64encode }}") != nil)
    }

    @Test func combine() throws {
        #expect(
            try render("{{ defaults|combine(overrides)|to_json }}")
                == #"{"debug": true, "workers": 2, "hosts": ["b"], "db": {"port": 3307}}"#)
        #expect(
            try render("{{ defaults|combine(overrides, recursive=true)|to_json }}")
                == #"{"debug": true, "workers": 2, "hosts": ["b"], "db": {"host": "10.0.0.5", "port": 3307}}"#)
        #expect(try render("{{ (defaults|combine(overrides, list_merge='append')).hosts|join(',') }}") == "a,b")
        #expect(try render("{{ (defaults|combine(overrides, list_merge='prepend')).hosts|join(',') }}") == "b,a")
        #expect(try render("{{ {'a': 1}|combine({'b': 2}, {'a': 3})|to_json }}") == #"{"a": 3, "b": 2}"#)
        #expect(try render("{{ {'a': 1}|combine([{'b': 2}, {'c': 3}])|to_json }}") == #"{"a": 1, "b": 2, "c": 3}"#)
        #expect(failure("{{ defaults|combine(services.0.name) }}")?.message.contains("needs a map, not a string") == true)
        #expect(failure("{{ defaults|combine(overrides, list_merge='merge') }}")?.message.contains("`list_merge` is one of") == true)
        #expect(failure("{{ defaults|combine(overrides, deep=true) }}")?.message.contains("no keyword argument `deep`") == true)
    }

    @Test func dict2itemsAndBack() throws {
        #expect(try render("{% for i in {'a': 1, 'b': 2}|dict2items %}{{ i.key }}={{ i.value }};{% endfor %}") == "a=1;b=2;")
        #expect(try render("{{ {'a': 1}|dict2items(key_name='k', value_name='v')|to_json }}") == #"[{"k": "a", "v": 1}]"#)
        #expect(try render("{{ ({'a': 1, 'b': 2}|dict2items|items2dict)|to_json }}") == #"{"a": 1, "b": 2}"#)
        #expect(failure("{{ services|dict2items }}")?.message.contains("needs a map, not a list") == true)
        #expect(failure("{{ [{'key': 'a'}]|items2dict }}")?.message.contains("item 0 needs `key` (a string) and `value`") == true)
    }

    @Test func selectAndReject() throws {
        #expect(try render("{{ services|selectattr('enabled')|map(attribute='name')|join(',') }}") == "api,proxy")
        #expect(try render("{{ services|rejectattr('enabled')|map(attribute='name')|join(',') }}") == "conductor")
        #expect(try render("{{ services|selectattr('port', 'defined')|map(attribute='name')|join(',') }}") == "api,proxy")
        #expect(try render("{{ services|selectattr('name', 'equalto', 'proxy')|map(attribute='port')|first }}") == "80")
        #expect(try render("{{ services|selectattr('name', 'in', ['api', 'proxy'])|length }}") == "2")
        #expect(try render("{{ services|selectattr('name', 'match', 'con')|map(attribute='name')|first }}") == "conductor")
        #expect(try render("{{ [1, 2, 3, 4]|select('even')|join }} {{ [1, 2, 3, 4]|reject('odd')|join }} {{ [0, 1, '']|select|join }}") == "24 24 1")
        #expect(try render("{{ [1, 5, 9]|select('gt', 4)|join(',') }}") == "5,9")
        let missing = try #require(failure("x\n{{ services|selectattr('port', 'gt', 100)|length }}"))
        #expect(missing.undefinedVariable == "[1].port")
        #expect(missing.message.contains("item 1 has no `port`"))
        #expect(missing.location == QuorumCore.SourceLocation(file: "files/neutron.conf.j2", line: 2, column: 1))
        #expect(failure("{{ services|selectattr('name', 'equal', 'x') }}")?.message.contains("unknown test `equal`") == true)
    }

    @Test func indent() throws {
        #expect(try render("{{ 'a\\nb\\n\\nc'|indent }}") == "a\n    b\n\n    c")
        #expect(try render("{{ 'a\\nb\\n'|indent(2, true) }}") == "  a\n  b\n")
        #expect(try render("{{ 'a\\n\\nb'|indent(width=2, blank=true) }}") == "a\n  \n  b")
        #expect(try render("{{ 'a\\nb'|indent('> ') }}") == "a\n> b")
        #expect(failure("{{ 'a'|indent(2, 'yes') }}")?.message.contains("`first` must be true or false") == true)
    }

    @Test func yaml() throws {
        #expect(
            try render("{{ defaults|to_nice_yaml }}") == """
                debug: false
                workers: 2
                hosts:
                - a
                db:
                    host: 10.0.0.5
                    port: 3306

                """)
        #expect(
            try render("{{ defaults|to_yaml }}") == """
                debug: false
                workers: 2
                hosts: [a]
                db: {host: 10.0.0.5, port: 3306}

                """)
        #expect(try render("{{ {'v': '3306', 'w': 'yes', 'x': 'plain'}|to_nice_yaml(indent=2) }}") == "v: '3306'\nw: 'yes'\nx: plain\n")
        #expect(try render("{{ {'a': [1, 2]}|to_nice_yaml(2)|indent(4) }}") == "a:\n    - 1\n    - 2\n")
    }

    @Test func minMaxFlatten() throws {
        #expect(try render("{{ [3, 1, 2]|min }} {{ [3, 1, 2]|max }} {{ ['b', 'a']|min }} {{ [1, 2.5]|max }}") == "1 3 a 2.5")
        #expect(failure("{{ []|min }}")?.message.contains("filter `min` on an empty list") == true)
        #expect(failure("{{ [1, 'a']|max }}")?.message.contains("cannot compare") == true)
        #expect(try render("{{ [1, [2, [3, [4]]], none, 'null']|flatten|to_json }}") == "[1, 2, 3, 4]")
        #expect(try render("{{ [1, [2, [3, [4]]]]|flatten(1)|to_json }}") == "[1, 2, [3, [4]]]")
        #expect(try render("{{ [1, [none]]|flatten(levels=1, skip_nulls=false)|to_json }}") == "[1, null]")
        #expect(failure("{{ defaults|flatten }}")?.message.contains("needs a list, not a map") == true)
    }

    @Test func filtersAndTestsShareOneTable() throws {
        let typo = try #require(failure("{{ 'x'|regex_replac('a', 'b') }}"))
        #expect(typo.message.contains("did you mean `regex_replace`?"))
        #expect(failure("{{ [1]|min(2) }}")?.message.contains("takes at most 0 arguments, got 1") == true)
        #expect(try render("{% if 3 is gt(2) and 2 is eq(2) and 'a' is in(['a']) %}yes{% endif %}") == "yes")
    }
}
