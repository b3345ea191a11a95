import Foundation
import QuorumTesting
import Testing

/// The lab's real Keystone (lab/services/30-keystone.sh, VIP 10.21.22.2:5000), checked with its own API
/// (Python's urllib from the lab's venv) and the real `openstack` CLI — never with Quorum itself.
enum LabKeystone {
    static let url = "http://10.21.22.2:5000/v3"
    static let adminPassword = "keystone-Adm1n-Pa55"
    static let magnumPassword = "Magnum-lab-Pa55"
    static var venv: String { Lab.stateDirectory + "/venvs/keystone" }
    static var pidFile: String { Lab.stateDirectory + "/lab/pids/keystone" }

    /// A tiny admin client of the Identity API, run with the venv's Python.
    static let api = #"""
        import json, sys, urllib.request, urllib.error
        URL = "http://10.21.22.2:5000/v3"
        def call(method, path, body=None, token=None):
            req = urllib.request.Request(URL + path, method=method, data=json.dumps(body).encode() if body is not None else None)
            req.add_header("Content-Type", "application/json")
            if token: req.add_header("X-Auth-Token", token)
            try:
                with urllib.request.urlopen(req, timeout=20) as r:
                    return r.status, r.headers, (json.loads(r.read() or b"null"))
            except urllib.error.HTTPError as e:
                return e.code, e.headers, None
        def login(user, password, domain="default", project="admin"):
            ident = {"methods": ["password"], "password": {"user": {"name": user, "domain": {"id": domain}, "password": password}}}
            auth = {"identity": ident}
            if project: auth["scope"] = {"project": {"name": project, "domain": {"id": "default"}}}
            status, headers, _ = call("POST", "/auth/tokens", {"auth": auth})
            return status, headers.get("X-Subject-Token")
        _, T = login("admin", sys.argv[1])
        def get(path, key): return call("GET", path, token=T)[2][key]
        cmd = sys.argv[2]
        if cmd == "reset":
            for e in get("/services", "services"):
                if e["type"] != "identity": call("DELETE", "/services/" + e["id"], token=T)
            for u in get("/users", "users"):
                if u["name"] != "admin": call("DELETE", "/users/" + u["id"], token=T)
            for p in get("/projects", "projects"):
                if p["name"] not in ("admin", "service"): call("DELETE", "/projects/" + p["id"], token=T)
            for d in get("/domains", "domains"):
                if d["id"] != "default":
                    call("PATCH", "/domains/" + d["id"], {"domain": {"enabled": False}}, token=T)
                    call("DELETE", "/domains/" + d["id"], token=T)
        elif cmd == "token":  # the admin's project-scoped token, for calls to other services' APIs
            print(T)
        elif cmd == "counts":
            print(json.dumps({k: len(get("/" + k, k)) for k in ("domains", "projects", "users", "services", "endpoints", "role_assignments")}))
        elif cmd == "endpoints":
            svc = [s["id"] for s in get("/services", "services") if s["type"] == sys.argv[3]]
            print(json.dumps([e for e in get("/endpoints", "endpoints") if e["service_id"] in svc]))
        elif cmd == "set-endpoint-url":
            svc = [s["id"] for s in get("/services", "services") if s["type"] == sys.argv[3]]
            e = [e for e in get("/endpoints", "endpoints") if e["service_id"] in svc and e["interface"] == sys.argv[4]][0]
            print(call("PATCH", "/endpoints/" + e["id"], {"endpoint": {"url": sys.argv[5]}}, token=T)[0])
        elif cmd == "set-password":
            u = [u for u in get("/users?name=" + sys.argv[3], "users")][0]
            print(call("PATCH", "/users/" + u["id"], {"user": {"password": sys.argv[4]}}, token=T)[0])
        elif cmd == "delete-service":
            for s in get("/services", "services"):
                if s["type"] == sys.argv[3]: print(call("DELETE", "/services/" + s["id"], token=T)[0])
        elif cmd == "project-role":  # HEAD (204: assigned, 404: not) or DELETE, then user role project
            u, r, p = (get("/%s?name=%s" % (k, n), k)[0]["id"] for k, n in zip(("users", "roles", "projects"), sys.argv[4:7]))
            print(call(sys.argv[3], "/projects/%s/users/%s/roles/%s" % (p, u, r), token=T)[0])
        elif cmd == "login":
            print(login(sys.argv[3], sys.argv[4], project=None)[0])
        """#

    @discardableResult
    static func call(_ arguments: [String]) throws -> String {
        let result = try Command.run([venv + "/bin/python3", "-c", api, adminPassword] + arguments)
        guard result.status == 0 else { throw TestError("keystone API \(arguments.first ?? ""): \(result.stderr)") }
        return result.stdout
    }

    static func json(_ arguments: [String]) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(try call(arguments).utf8))
    }

    /// Back to the bootstrap state: admin, the default domain, admin and service projects, identity service.
    static func reset() throws { try call(["reset"]) }

    static func counts() throws -> [String: Int] { try json(["counts"]) as? [String: Int] ?? [:] }

    static func endpoints(type: String) throws -> [[String: Any]] { try json(["endpoints", type]) as? [[String: Any]] ?? [] }

    /// The real CLI (python-openstackclient) as the lab's admin.
    static func openstack(_ arguments: [String]) throws -> Command.Result {
        var environment = ProcessInfo.processInfo.environment
        environment.merge([
            "OS_AUTH_URL": url, "OS_IDENTITY_API_VERSION": "3", "OS_USERNAME": "admin", "OS_PASSWORD": adminPassword,
            "OS_PROJECT_NAME": "admin", "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
            "OS_REGION_NAME": "RegionOne", "PYTHONWARNINGS": "ignore"
        ]) { _, new in new }
        return try Command.run([venv + "/bin/openstack"] + arguments, environment: environment)
    }

    /// Everything Magnum needs in Keystone, for the lab's three controllers (runs once per play: on ctl1).
    static func playbook(adminPassword: String = adminPassword, via: String = "tunnel") -> String {
        """
        - name: Keystone for Magnum
          hosts: controllers
          vars:
            keystone_admin_password: "\(adminPassword)"
            magnum_keystone_password: "\(magnumPassword)"
          defaults:
            keystone:
              via: \(via)
              auth:
                url: \(url)
                username: admin
                password: "{{ keystone_admin_password }}"
                project: admin
                region: RegionOne
          steps:
            - name: magnum user
              keystone_user: {name: magnum, domain: Default, password: "{{ magnum_keystone_password }}", default_project: service}
            - name: magnum is admin in service
              keystone_role_assignment: {user: magnum, role: admin, project: service}
            - name: magnum service
              keystone_service: {name: magnum, type: container-infra, description: Container Infrastructure Management Service}
            - name: magnum endpoints
              keystone_endpoint: {service: magnum, interface: "{{ item }}", url: "http://10.21.22.2:9511/v1", region: RegionOne}
              loop: [public, internal, admin]
            - name: magnum domain
              keystone_domain: {name: magnum, description: Owns users and projects created by magnum}
            - name: magnum domain admin
              keystone_user: {name: magnum_domain_admin, domain: magnum, password: "{{ magnum_keystone_password }}"}
            - name: domain admin role
              keystone_role_assignment: {user: magnum_domain_admin, user_domain: magnum, role: admin, domain: magnum}
        """
    }

    static func apply(_ workspace: Workspace, _ extra: [String] = [], playbook text: String = playbook()) throws -> QuorumCLI.Run {
        try QuorumCLI.apply(try workspace.write("keystone.yml", text), extra)
    }

    /// No password of the run in anything Quorum printed or wrote.
    static func expectNoSecret(_ run: QuorumCLI.Run, sourceLocation: SourceLocation = #_sourceLocation) {
        for secret in [adminPassword, magnumPassword, "wrong-Adm1n-pass"] {
            #expect(!run.all.contains(secret), "a password was printed", sourceLocation: sourceLocation)
            #expect(!(run.report?.raw.contains(secret) ?? false), "a password is in --json", sourceLocation: sourceLocation)
        }
    }
}

extension LabTests {
    @Test("Keystone: everything Magnum needs is created once (checked with the openstack CLI); a second run changes nothing")
    func keystoneMagnumSet() throws {
        try LabKeystone.reset()
        let ws = try Workspace("keystone")
        defer { ws.remove() }
        let first = try LabKeystone.apply(ws, ["--diff"])
        #expect(first.status == 0, "first apply failed:\n\(first.all)")
        let report = try #require(first.report)
        let keystoneResults = report.results.filter { $0.kind.hasPrefix("keystone_") }
        #expect(keystoneResults.count == 7)
        #expect(
            keystoneResults.allSatisfy { $0.host == "ctl1" && $0.outcome == "changed" },
            "\(keystoneResults.map { "\($0.host) \($0.step) \($0.outcome) \($0.error ?? "")" })")
        LabKeystone.expectNoSecret(first)

        let endpoints = try LabKeystone.openstack([
            "endpoint", "list", "--service", "container-infra", "-f", "value",
            "-c", "Region", "-c", "Interface", "-c", "URL"
        ])
        #expect(endpoints.status == 0, "\(endpoints.stderr)")
        let rows = endpoints.stdout.split(separator: "\n").map(String.init).sorted()
        #expect(
            rows == [
                "RegionOne admin http://10.21.22.2:9511/v1", "RegionOne internal http://10.21.22.2:9511/v1",
                "RegionOne public http://10.21.22.2:9511/v1"
            ], "\(rows)")

        let assignments = try LabKeystone.openstack([
            "role", "assignment", "list", "--names", "-f", "value",
            "-c", "Role", "-c", "User", "-c", "Project", "-c", "Domain"
        ])
        #expect(assignments.status == 0, "\(assignments.stderr)")
        let lines = Set(assignments.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") })
        #expect(lines.contains("admin magnum@Default service@Default"), "\(lines.sorted())")
        #expect(lines.contains("admin magnum_domain_admin@magnum magnum"), "\(lines.sorted())")

        let second = try LabKeystone.apply(ws)
        #expect(second.status == 0, "second apply failed:\n\(second.all)")
        #expect(try #require(second.report).totalChanged == 0, "second run changed: \(second.report?.pairs("changed").sorted() ?? [])")
        #expect(try LabKeystone.endpoints(type: "container-infra").count == 3)
    }

    @Test("Keystone: an endpoint URL changed by hand — --check reports it (exit 4), apply fixes that endpoint in place")
    func keystoneEndpointDrift() throws {
        let ws = try Workspace("keystone")
        defer { ws.remove() }
        let setup = try LabKeystone.apply(ws)
        #expect(setup.status == 0, "\(setup.all)")
        let before = try LabKeystone.endpoints(type: "container-infra")
        let internalID = try #require(before.first { $0["interface"] as? String == "internal" }?["id"] as? String)
        #expect(try LabKeystone.call(["set-endpoint-url", "container-infra", "internal", "http://10.21.22.99:9511/v1"]) == "200\n")

        let check = try LabKeystone.apply(ws, ["--check", "--diff"])
        #expect(check.status == 4, "check with drift must exit 4:\n\(check.all)")
        #expect(try #require(check.report).pairs("changed") == ["ctl1/magnum endpoints"])
        #expect(check.stdout.contains("http://10.21.22.99:9511/v1"), "the diff does not show the hand edit:\n\(check.stdout)")
        #expect(
            try LabKeystone.endpoints(type: "container-infra").first { $0["id"] as? String == internalID }?["url"] as? String
                == "http://10.21.22.99:9511/v1", "check mode changed Keystone")

        let apply = try LabKeystone.apply(ws)
        #expect(apply.status == 0, "\(apply.all)")
        #expect(try #require(apply.report).pairs("changed") == ["ctl1/magnum endpoints"])
        let after = try LabKeystone.endpoints(type: "container-infra")
        #expect(after.count == 3)
        #expect(
            after.first { $0["id"] as? String == internalID }?["url"] as? String == "http://10.21.22.2:9511/v1",
            "the same endpoint (same id) must hold the URL again")
    }

    @Test("Keystone: a password changed by hand is detected by logging in and restored (update_password: always)")
    func keystonePasswordDrift() throws {
        let ws = try Workspace("keystone")
        defer { ws.remove() }
        let setup = try LabKeystone.apply(ws)
        #expect(setup.status == 0, "\(setup.all)")
        #expect(try LabKeystone.call(["set-password", "magnum", "changed-by-hand-1"]) == "200\n")
        #expect(try LabKeystone.call(["login", "magnum", LabKeystone.magnumPassword]) == "401\n")

        let check = try LabKeystone.apply(ws, ["--check", "--diff"])
        #expect(check.status == 4, "\(check.all)")
        #expect(try #require(check.report).pairs("changed") == ["ctl1/magnum user"])
        #expect(try LabKeystone.call(["login", "magnum", "changed-by-hand-1"]) == "201\n", "check mode changed the password")
        LabKeystone.expectNoSecret(check)

        let apply = try LabKeystone.apply(ws, ["--diff"])
        #expect(apply.status == 0, "\(apply.all)")
        #expect(try #require(apply.report).pairs("changed") == ["ctl1/magnum user"])
        #expect(try LabKeystone.call(["login", "magnum", LabKeystone.magnumPassword]) == "201\n")
        LabKeystone.expectNoSecret(apply)
    }

    @Test("Keystone: check mode on an empty Keystone predicts every create, dependent endpoints and grants included, and creates nothing")
    func keystoneCheckOnEmpty() throws {
        try LabKeystone.reset()
        let ws = try Workspace("keystone")
        defer { ws.remove() }
        let before = try LabKeystone.counts()
        let check = try LabKeystone.apply(ws, ["--check", "--diff"])
        #expect(check.status == 4, "\(check.all)")
        let results = try #require(check.report).results.filter { $0.kind.hasPrefix("keystone_") }
        #expect(results.count == 7)
        #expect(results.allSatisfy { $0.outcome == "changed" }, "\(results.map { "\($0.step) \($0.outcome) \($0.error ?? "")" })")
        #expect(check.stdout.contains("keystone endpoint magnum internal RegionOne"), "\(check.stdout)")
        #expect(check.stdout.contains("keystone role admin of user magnum/magnum_domain_admin on domain magnum"), "\(check.stdout)")
        LabKeystone.expectNoSecret(check)
        #expect(try LabKeystone.counts() == before, "check mode created something")
        let services = try LabKeystone.openstack(["service", "list", "-f", "value", "-c", "Type"])
        #expect(services.status == 0, "\(services.stderr)")
        #expect(services.stdout == "identity\n", "the CLI shows a new service: \(services.stdout)")
    }

    @Test("Keystone: wrong admin password, then Keystone stopped — clean failures, exit 2, no secret")
    func keystoneFailures() throws {
        let ws = try Workspace("keystone")
        defer { ws.remove() }
        let wrong = try LabKeystone.apply(ws, playbook: LabKeystone.playbook(adminPassword: "wrong-Adm1n-pass"))
        #expect(wrong.status == 2, "\(wrong.all)")
        let failed = try #require(wrong.report?.results.first { $0.outcome == "failed" })
        // Found by the preflight, before any write.
        #expect(failed.host == "ctl1" && failed.step == "preflight: magnum user", "\(failed.step)")
        #expect(failed.error?.contains("refused the credentials of user admin") == true, "\(failed.error ?? "")")
        #expect(failed.error?.contains("HTTP 401") == true, "\(failed.error ?? "")")
        LabKeystone.expectNoSecret(wrong)

        // Stop the lab's Keystone (the next `lab.sh up` starts a fresh one).
        let pid = try #require(try String(contentsOfFile: LabKeystone.pidFile, encoding: .utf8).split(separator: " ").first)
        // gunicorn leads its own process group (master and workers).
        _ = try Command.run([
            "sh", "-c", "kill -- -\(pid); for i in $(seq 100); do kill -0 -- -\(pid) 2>/dev/null || exit 0; sleep 0.1; done; kill -9 -- -\(pid)"
        ])
        defer { _ = try? Command.run(["bash", PackageRoot.path + "/lab/lab.sh", "up"]) }
        let down = try LabKeystone.apply(ws)
        #expect(down.status == 2, "\(down.all)")
        let error = try #require(down.report?.results.first { $0.outcome == "failed" }?.error)
        // Through the tunnel ctl1's sshd finds nothing listening; directly, the HTTP client gets no answer.
        #expect(
            error.contains("ctl1 cannot connect to 10.21.22.2:5000") || error.contains("no answer from Keystone at http://10.21.22.2:5000/v3"),
            "\(error)")
        LabKeystone.expectNoSecret(down)
    }

    @Test("Keystone through the controller's SSH tunnel")
    func keystoneThroughTunnel() throws {
        // An earlier test stops Keystone on purpose; `lab.sh up` is idempotent and starts it again.
        _ = try Command.run(["bash", PackageRoot.path + "/lab/lab.sh", "up"])
        try LabKeystone.reset()
        let ws = try Workspace("keystone")
        defer { ws.remove() }
        let run = try LabKeystone.apply(ws, playbook: LabKeystone.playbook(via: "tunnel"))
        #expect(run.status == 0, "\(run.all)")
        #expect(try LabKeystone.endpoints(type: "container-infra").count == 3)
    }
}
