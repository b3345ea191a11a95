import Foundation
import QuorumCore
import Testing

@testable import QuorumSteps

/// A magnum.conf as operators have them: generated comments, commented defaults, odd spacing, a multi-line
/// value, a duplicate section block, a file without a trailing newline.
let magnumConf = """
    [DEFAULT]

    #
    # From magnum
    #

    # Directory where the magnum python module is installed. (string value)
    #pybasedir = /usr/lib/python3/dist-packages/magnum
    state_path=/var/lib/magnum
    transport_url = rabbit://openstack:RABBIT_PASS@controller1:5672,openstack:RABBIT_PASS@controller2:5672/
    log_dir = /var/log/magnum   \n\
    debug: false

    [api]
    # The port for the Magnum API server. (port number value)
    #port = 9511
    host = 10.0.0.11

    [certificates]

    #
    # From magnum
    #
    #cert_manager_type = barbican

    [database]
    connection = mysql+pymysql://magnum:MAGNUM_DBPASS@controller/magnum
    max_retries = -1

    [keystone_authtoken]
    memcached_servers = controller1:11211
    www_authenticate_uri = http://controller:5000/v3
    auth_url = http://controller:5000
    auth_type = password
    password = "MAGNUM_PASS"
    policy_file_note = first line
        continued line

    # trailing comment of keystone_authtoken

    [oslo_concurrency]
    lock_path = /var/lib/magnum/tmp

    [DEFAULT]
    host = controller1
    """

@Suite struct IniDocumentTests {
    @Test func roundTripIsByteIdentical() {
        for text in [magnumConf, magnumConf + "\n", "", "\n\n", "a = b", "[s]\r\nk = v\r\n", "junk\n  stray indent\n[x]\n"] {
            #expect(IniDocument(text).text == text)
        }
        let latin1: [UInt8] = Array("[s]\nk = caf".utf8) + [0xE9] + Array("\n".utf8)
        #expect(IniDocument(latin1).bytes == latin1)
    }

    @Test func readsValuesAsOsloDoes() {
        let doc = IniDocument(magnumConf)
        #expect(doc.value("DEFAULT", "state_path") == "/var/lib/magnum")
        #expect(doc.value("DEFAULT", "log_dir") == "/var/log/magnum")
        #expect(doc.value("DEFAULT", "debug") == "false")
        #expect(doc.value("DEFAULT", "pybasedir") == nil)
        #expect(doc.value("DEFAULT", "host") == "controller1")  // second [DEFAULT] block merges
        #expect(doc.value("keystone_authtoken", "password") == "MAGNUM_PASS")
        #expect(doc.value("keystone_authtoken", "policy_file_note") == "first line\ncontinued line")
        #expect(doc.value("default", "state_path") == nil)  // section names are case-sensitive
        #expect(doc.sectionNames == ["DEFAULT", "api", "certificates", "database", "keystone_authtoken", "oslo_concurrency"])
    }

    @Test func whitespaceAndQuotingDifferencesAreNotChanges() throws {
        var doc = IniDocument(magnumConf)
        #expect(try doc.set("DEFAULT", "state_path", "/var/lib/magnum") == false)
        #expect(try doc.set("DEFAULT", "log_dir", "/var/log/magnum") == false)
        #expect(try doc.set("DEFAULT", "debug", "false") == false)
        #expect(try doc.set("keystone_authtoken", "password", "MAGNUM_PASS") == false)
        #expect(try doc.set("keystone_authtoken", "policy_file_note", "first line\ncontinued line") == false)
        #expect(doc.text == magnumConf)
    }

    @Test func changingAValueKeepsTheLineStyleAndEverythingElse() throws {
        var doc = IniDocument(magnumConf)
        #expect(try doc.set("DEFAULT", "state_path", "/srv/magnum"))
        #expect(try doc.set("DEFAULT", "debug", "true"))
        #expect(try doc.set("keystone_authtoken", "policy_file_note", "one"))
        let expected =
            magnumConf
            .replacingOccurrences(of: "state_path=/var/lib/magnum", with: "state_path=/srv/magnum")
            .replacingOccurrences(of: "debug: false", with: "debug: true")
            .replacingOccurrences(of: "policy_file_note = first line\n    continued line", with: "policy_file_note = one")
        #expect(doc.text == expected)
    }

    @Test func newOptionGoesAfterTheSectionsLastOption() throws {
        var doc = IniDocument(magnumConf)
        #expect(try doc.set("keystone_authtoken", "auth_version", "v3"))
        #expect(try doc.set("api", "port", "9511"))
        #expect(try doc.set("DEFAULT", "use_stderr", "false"))  // first [DEFAULT] block
        let expected =
            magnumConf
            .replacingOccurrences(of: "    continued line\n", with: "    continued line\nauth_version = v3\n")
            .replacingOccurrences(of: "host = 10.0.0.11\n", with: "host = 10.0.0.11\nport = 9511\n")
            .replacingOccurrences(of: "debug: false\n", with: "debug: false\nuse_stderr = false\n")
        #expect(doc.text == expected)
    }

    @Test func newOptionInASectionWithoutOptionsGoesAfterItsComments() throws {
        var doc = IniDocument(magnumConf)
        #expect(try doc.set("certificates", "cert_manager_type", "x509keypair"))
        #expect(
            doc.text
                == magnumConf.replacingOccurrences(
                    of: "#cert_manager_type = barbican\n", with: "#cert_manager_type = barbican\ncert_manager_type = x509keypair\n"))
    }

    @Test func newSectionsAreAppendedInOrder() throws {
        var doc = IniDocument(magnumConf)
        #expect(try doc.set("cinder_client", "region_name", "RegionOne"))
        #expect(try doc.set("trust", "trustee_domain_name", "magnum"))
        #expect(try doc.set("cinder_client", "endpoint_type", "internalURL"))
        // The original has no trailing newline: one is added before the separating blank line.
        #expect(
            doc.text == magnumConf + """


                [cinder_client]
                region_name = RegionOne
                endpoint_type = internalURL

                [trust]
                trustee_domain_name = magnum

                """)
    }

    @Test func emptyDocumentGetsNoLeadingBlankLine() throws {
        var doc = IniDocument("")
        try doc.set("DEFAULT", "debug", "true")
        try doc.set("api", "port", "9511")
        #expect(doc.text == "[DEFAULT]\ndebug = true\n\n[api]\nport = 9511\n")
    }

    @Test func removeDeletesEveryOccurrenceAndItsContinuationLines() {
        var doc = IniDocument(magnumConf)
        #expect(doc.remove("keystone_authtoken", "policy_file_note") == ["first line\ncontinued line"])
        #expect(doc.remove("keystone_authtoken", "nonexistent") == [])
        #expect(doc.text == magnumConf.replacingOccurrences(of: "policy_file_note = first line\n    continued line\n", with: ""))
    }

    @Test func duplicatesFirstIsManagedLaterRemoved() throws {
        let text = "[oslo_messaging_rabbit]\nrabbit_hosts = a:5672\n# note\nrabbit_hosts = b:5672\n\n[x]\ny = 1\n"
        var doc = IniDocument(text)
        #expect(doc.values("oslo_messaging_rabbit", "rabbit_hosts") == ["a:5672", "b:5672"])
        #expect(doc.value("oslo_messaging_rabbit", "rabbit_hosts") == "b:5672")  // oslo: the last one wins
        #expect(try doc.set("oslo_messaging_rabbit", "rabbit_hosts", "b:5672"))  // two lines → one: a change
        #expect(doc.text == "[oslo_messaging_rabbit]\nrabbit_hosts = b:5672\n# note\n\n[x]\ny = 1\n")
        #expect(try doc.set("oslo_messaging_rabbit", "rabbit_hosts", "b:5672") == false)
    }

    @Test func crlfFilesKeepTheirLineEndings() throws {
        var doc = IniDocument("[s]\r\nk = v\r\n")
        #expect(try doc.set("s", "k", "v") == false)
        try doc.set("s", "n", "1")
        #expect(doc.text == "[s]\r\nk = v\r\nn = 1\r\n")
    }

    @Test func emptyValueLineGetsASpaceBeforeTheNewValue() throws {
        var doc = IniDocument("[s]\na =\nb=\n")
        try doc.set("s", "a", "1")
        try doc.set("s", "b", "2")
        #expect(doc.text == "[s]\na = 1\nb=2\n")
    }

    @Test func hostileValuesAreWrittenLiterallyAndReadBackIdentically() throws {
        let values = [
            "$(touch pwned)", "`id`", "it's \"quoted\"", "back\\slash", " padded ", "\"q\"", "'", "",
            "a\nb\nc", "x = y", "[fake]", "#not a comment"
        ]
        for value in values {
            var doc = IniDocument("[s]\nother = 1\n")
            try doc.set("s", "k", value)
            let reread = IniDocument(doc.text)
            #expect(reread.value("s", "k") == value, "value \(value.debugDescription) written as \(doc.text.debugDescription)")
            #expect(reread.value("s", "other") == "1")
            #expect(reread.sectionNames == ["s"])
            #expect(try doc.set("s", "k", value) == false)
        }
        #expect(IniDocument("[s]\nk = \"$(touch pwned)\"\n").text.contains("$(touch pwned)"))
    }

    @Test func unrepresentableValuesAndNamesAreRejected() {
        var doc = IniDocument("")
        #expect(throws: StepFailure.self) { try doc.set("s", "k", "a\n\nb") }
        #expect(throws: StepFailure.self) { try doc.set("s", "k", "a\n  b") }
        #expect(throws: StepFailure.self) { try doc.set("s", "k", "a\rb") }
        #expect(throws: StepFailure.self) { try doc.set("s]\n[x", "k", "v") }
        #expect(throws: StepFailure.self) { try doc.set("s", "k = v\nevil", "v") }
        #expect(throws: StepFailure.self) { try doc.set("s", "#k", "v") }
        #expect(doc.text == "")
    }
}
