import OrderedCollections
import QuorumCore
import Testing

/// `{% raw %}…{% endraw %}`: template syntax written out as is (Prometheus rules, Grafana dashboards).
@Suite struct TemplateRawTests {
    let renderer = TemplateRenderer()
    let file = QuorumCore.SourceLocation(file: "files/alerts.yml.j2", line: 1, column: 1)

    @Test func rawTextIsWrittenAsIs() throws {
        let template = """
            job: {{ job }}
            {% raw %}
            summary: "{{ $labels.instance }} down {% if x %}{# not a comment #}"
            {% endraw %}
            end {% raw -%}  {{ y }} {%- endraw %}
            """
        #expect(
            try renderer.render(template, at: file, variables: ["job": .string("mysql")]) == """
                job: mysql
                summary: "{{ $labels.instance }} down {% if x %}{# not a comment #}"
                end {{ y }}
                """)
        #expect(renderer.referencedNames(in: template) == ["job"])
    }

    @Test func rawMustBeClosed() throws {
        let error = try #require(throws: TemplateError.self) {
            try renderer.render("a\n{% raw %}{{ x }}", at: file, variables: [:])
        }
        #expect(error.message == "`{% raw %}` is never closed (expected `{% endraw %}`)")
        #expect(error.location?.line == 2)
        let stray = try #require(throws: TemplateError.self) { try renderer.render("{% endraw %}", at: file, variables: [:]) }
        #expect(stray.message.contains("without an open `{% raw %}`"))
    }
}
