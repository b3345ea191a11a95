import Foundation
import Testing

extension LabTests {
    @Test("quorum inventory prints hosts, groups and variables with secrets masked")
    func inventoryCommandMasksSecrets() throws {
        let ws = try Workspace("inventory")
        defer { ws.remove() }
        let inventory = try ws.write("inv.ini", """
        [controllers]
        ctl1 ansible_host=10.21.22.4
        ctl2 ansible_host=10.21.22.5

        [controllers:vars]
        database_admin_password=Adm1n-Secret-77
        transport_url=rabbit://openstack:Rabbit-Secret-88@10.21.22.2:5672/
        memcached_servers=10.21.22.4:11211
        """)
        let run = try QuorumCLI.run(["inventory", "-i", inventory], json: false)
        #expect(run.status == 0, "\(run.all)")
        #expect(run.stdout.contains("controllers: ctl1, ctl2"))
        #expect(run.stdout.contains("memcached_servers: 10.21.22.4:11211"))
        #expect(run.stdout.contains("database_admin_password: ********"))
        #expect(run.stdout.contains("transport_url: rabbit://openstack:********@10.21.22.2:5672/"), "\(run.stdout)")
        #expect(!run.all.contains("Adm1n-Secret-77") && !run.all.contains("Rabbit-Secret-88"))

        let one = try QuorumCLI.run(["inventory", "-i", inventory, "--host", "ctl2"], json: false)
        #expect(one.stdout.contains("ctl2:") && !one.stdout.contains("ctl1:"))
    }

    @Test("quorum validate checks without contacting; quorum doc describes step kinds")
    func validateAndDoc() throws {
        let ok = try QuorumCLI.run(["validate", Self.demoPlaybook, "-i", Lab.inventory], json: false)
        #expect(ok.status == 0, "\(ok.all)")
        #expect(ok.stdout.contains("9 step(s)"), "\(ok.stdout)")
        let doc = try QuorumCLI.run(["doc", "ini"], json: false)
        #expect(doc.stdout.contains("settings") && doc.stdout.contains("absent"), "\(doc.stdout)")
        let typo = try QuorumCLI.run(["doc", "tempalte"], json: false)
        #expect(typo.status != 0 && typo.stderr.contains("did you mean `template`?"), "\(typo.all)")
    }
}
