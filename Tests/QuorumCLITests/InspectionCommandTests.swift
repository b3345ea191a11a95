import Foundation
import QuorumTesting
import Testing

/// `quorum inventory`, `validate` and `doc`: commands that read files and contact nothing.
struct InspectionCommandTests {
    @Test("quorum inventory prints hosts, groups and variables with secrets masked")
    func inventoryCommandMasksSecrets() throws {
        let ws = try Workspace("inventory")
        defer { ws.remove() }
        let inventory = try ws.write(
            "inv.ini",
            """
            [controllers]
            ctl1 ansible_host=10.21.22.4
            ctl2 ansible_host=10.21.22.5

            [controllers:vars]
            database_admin_password=Adm1n-Secret-77
            transport_url=rabbit://openstack:Rabbit-Secret-88@10.21.22.2:5672/
            memcached_servers=10.21.22.4:11211
            """)
        let run = try QuorumCLI.run(["inventory", "-i", inventory], json: false, environment: QuorumCLI.fixedEnvironment(home: ws.path))
        #expect(run.status == 0, "\(run.all)")
        #expect(run.stdout.contains("controllers: ctl1, ctl2"))
        #expect(run.stdout.contains("memcached_servers: 10.21.22.4:11211"))
        #expect(run.stdout.contains("database_admin_password: ********"))
        #expect(run.stdout.contains("transport_url: rabbit://openstack:********@10.21.22.2:5672/"), "\(run.stdout)")
        #expect(!run.all.contains("Adm1n-Secret-77") && !run.all.contains("Rabbit-Secret-88"))

        let one = try QuorumCLI.run(["inventory", "-i", inventory, "--host", "ctl2"], json: false, environment: QuorumCLI.fixedEnvironment(home: ws.path))
        #expect(one.stdout.contains("ctl2:") && !one.stdout.contains("ctl1:"))
    }

    @Test("quorum validate checks without contacting; quorum doc describes step kinds")
    func validateAndDoc() throws {
        let ok = try QuorumCLI.run(
            ["validate", PackageRoot.path + "/playbooks/lab-demo.yml", "-i", PackageRoot.labInventory], json: false,
            environment: QuorumCLI.fixedEnvironment(home: NSTemporaryDirectory()))
        #expect(ok.status == 0, "\(ok.all)")
        #expect(ok.stdout.contains("10 step(s)"), "\(ok.stdout)")
        let doc = try QuorumCLI.run(["doc", "ini"], json: false, environment: QuorumCLI.fixedEnvironment(home: NSTemporaryDirectory()))
        #expect(doc.stdout.contains("settings") && doc.stdout.contains("absent"), "\(doc.stdout)")
        let typo = try QuorumCLI.run(["doc", "tempalte"], json: false, environment: QuorumCLI.fixedEnvironment(home: NSTemporaryDirectory()))
        #expect(typo.status != 0 && typo.stderr.contains("did you mean `template`?"), "\(typo.all)")
    }
}
