import OrderedCollections
import QuorumCore
import QuorumTesting
import Testing

@testable import QuorumSteps

/// `{% include %}`: files looked up like the template step's `src`, rendered with the including template's
/// variables, errors located in the included file, include cycles an error.
@Suite struct TemplateIncludeTests {
    let renderer = TemplateRenderer()
    let variables: Variables = [
        "hosts": .list([.string("ctl1"), .string("ctl2")]),
        "port": .int(9511)
    ]

    /// Renders `main` of `dir` as the template step does.
    func render(_ main: String, in dir: TemplateDir) throws -> String {
        let resolver = FileResolver(searchPath: [dir.path])
        let path = try resolver.resolve(main)
        return try renderer.render(
            FileSystem.readText(path) ?? "", at: SourceLocation(file: path, line: 1, column: 1),
            variables: variables, includes: resolver)
    }

    func failure(_ main: String, in dir: TemplateDir) -> TemplateError? {
        do {
            _ = try render(main, in: dir)
            return nil
        } catch {
            return error as? TemplateError
        }
    }

    @Test func includedFilesSeeTheIncludingTemplatesVariables() throws {
        let dir = try TemplateDir([
            "main.j2": "listen api\n{% set check = 'check inter 2s' %}\n{% for h in hosts %}\n{% include 'server.j2' %}\n{% endfor %}\nend\n",
            "server.j2": "    server {{ h }} {{ h }}:{{ port }} {{ check }} #{{ loop.index }}\n{% set check = 'leaked' %}\n"
        ])
        defer { dir.cleanup() }
        #expect(
            try render("main.j2", in: dir) == """
                listen api
                    server ctl1 ctl1:9511 check inter 2s #1
                    server ctl2 ctl2:9511 check inter 2s #2
                end

                """)
    }

    @Test func theNameMayBeAnExpression() throws {
        let dir = try TemplateDir(["main.j2": "{% set part = 'b' %}{% include part ~ '.j2' %}", "b.j2": "B{{ port }}"])
        defer { dir.cleanup() }
        #expect(try render("main.j2", in: dir) == "B9511")
        let wrongType = try TemplateDir(["main.j2": "{% include port %}"])
        defer { wrongType.cleanup() }
        #expect(failure("main.j2", in: wrongType)?.message.contains("needs a file name (a string), not a integer") == true)
    }

    @Test func errorsAreLocatedInTheIncludedFile() throws {
        let dir = try TemplateDir([
            "main.j2": "a\n{% include 'inner.j2' %}\n",
            "inner.j2": "ok {{ port }}\n  x = {{ prot }}\n",
            "syntax.j2": "x\n{% if %}\n",
            "bad-syntax.j2": "{% include 'syntax.j2' %}"
        ])
        defer { dir.cleanup() }
        let undefined = try #require(failure("main.j2", in: dir))
        #expect(undefined.undefinedVariable == "prot")
        #expect(undefined.message.contains("did you mean `port`?"))
        #expect(undefined.location == SourceLocation(file: dir.path + "/inner.j2", line: 2, column: 7))
        let syntax = try #require(failure("bad-syntax.j2", in: dir))
        #expect(syntax.location == SourceLocation(file: dir.path + "/syntax.j2", line: 2, column: 1))
    }

    @Test func aMissingFileIsAnErrorAtTheIncludeTag() throws {
        let dir = try TemplateDir(["main.j2": "a\n  {% include 'nope.j2' %}\n"])
        defer { dir.cleanup() }
        let missing = try #require(failure("main.j2", in: dir))
        #expect(missing.message.contains("cannot find file `nope.j2`"))
        #expect(missing.location == SourceLocation(file: dir.path + "/main.j2", line: 2, column: 3))
    }

    @Test func includeCyclesAreErrors() throws {
        let dir = try TemplateDir([
            "a.j2": "A\n{% include 'b.j2' %}\n",
            "b.j2": "B\n\n{% include 'a.j2' %}\n",
            "self.j2": "{% include 'self.j2' %}"
        ])
        defer { dir.cleanup() }
        let cycle = try #require(failure("a.j2", in: dir))
        #expect(cycle.message == "include cycle: \(dir.path)/a.j2 → \(dir.path)/b.j2 → \(dir.path)/a.j2")
        #expect(cycle.location == SourceLocation(file: dir.path + "/b.j2", line: 3, column: 1))
        #expect(failure("self.j2", in: dir)?.message.hasPrefix("include cycle") == true)
    }

    @Test func includeNeedsTemplateFiles() throws {
        let error = try #require(throws: TemplateError.self) {
            try renderer.render("x {% include 'a.j2' %}", at: SourceLocation(file: "site.yml", line: 3, column: 9), variables: variables)
        }
        #expect(error.message.contains("works in template files"))
        #expect(error.location == SourceLocation(file: "site.yml", line: 3, column: 11))
    }

    @Test func theTemplateStepRendersIncludes() async throws {
        let dir = try TemplateDir(["magnum.conf.j2": "[api]\n{% include 'api.j2' %}\n", "api.j2": "port = {{ port }}\n"])
        defer { dir.cleanup() }
        let fake = FakeRemote()
        let step = try TemplateStep(arguments: args(["src": "magnum.conf.j2", "dest": "/etc/magnum/magnum.conf"]))
        _ = try await checkThenApply(step, on: fake, files: [dir.path], variables: variables)
        #expect(fake.file("/etc/magnum/magnum.conf")?.text == "[api]\nport = 9511\n")
    }
}
