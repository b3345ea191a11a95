import Foundation
import QuorumTesting
import Testing

/// Finds secrets in captured text in every form they could take: raw, base64 (whole, unpadded, and the
/// aligned pieces that show when a secret is encoded inside a longer text, such as `user:password` in a
/// basic-auth header), URL-encoded (RFC 3986, Jinja's keep-`/` flavour, lower-case hex, form encoding),
/// and JSON-escaped. Written independently of Quorum's own redactor, so it can catch what that misses.
struct SecretProbe {
    /// Secret label → the forms searched for.
    let forms: [(label: String, form: String, how: String)]

    init(_ secrets: [String: String], users: [String] = ["magnum", "admin", "quorum_admin", "openstack", "magnum_domain_admin"]) {
        var forms: [(String, String, String)] = []
        for (label, secret) in secrets.sorted(by: { $0.key < $1.key }) {
            for (how, form) in Self.encodings(of: secret, users: users) { forms.append((label, form, how)) }
        }
        self.forms = forms
    }

    static func encodings(of secret: String, users: [String]) -> [(String, String)] {
        var out: [(String, String)] = [("raw", secret)]
        let bytes = Array(secret.utf8)
        let base64 = Data(bytes).base64EncodedString()
        out.append(("base64", base64))
        out.append(("base64 unpadded", base64.replacingOccurrences(of: "=", with: "")))
        for shift in 0..<3 where bytes.count - shift >= 6 {
            let whole = (bytes.count - shift) / 3 * 3
            out.append(("base64 inside a longer text (offset \(shift))", Data(bytes[shift..<(shift + whole)]).base64EncodedString()))
        }
        for user in users {
            out.append(("basic auth as \(user)", Data("\(user):\(secret)".utf8).base64EncodedString()))
        }
        func percent(_ keep: (UInt8) -> Bool, lower: Bool = false, plusForSpace: Bool = false) -> String {
            var text = ""
            for byte in bytes {
                if keep(byte) {
                    text.unicodeScalars.append(Unicode.Scalar(byte))
                } else if plusForSpace && byte == 0x20 {
                    text += "+"
                } else {
                    text += String(format: lower ? "%%%02x" : "%%%02X", byte)
                }
            }
            return text
        }
        let unreserved: (UInt8) -> Bool = { b in
            (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) || "-._~".utf8.contains(b)
        }
        out.append(("URL-encoded", percent(unreserved)))
        out.append(("URL-encoded, lower-case hex", percent(unreserved, lower: true)))
        out.append(("URL-encoded keeping /", percent { unreserved($0) || $0 == UInt8(ascii: "/") }))
        out.append(("form-encoded", percent(unreserved, plusForSpace: true)))
        let json = secret.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        out.append(("JSON-escaped", json.replacingOccurrences(of: "/", with: "\\/")))
        var seen = Set<String>()
        return out.filter { seen.insert($0.1).inserted }
    }

    /// Every (secret, form) found in `text`.
    func findings(in text: String) -> [String] {
        forms.filter { text.contains($0.form) }.map { "\($0.label) (\($0.how))" }
    }

    /// Records a test issue for every secret form found in `text`, naming where it was captured.
    func expectNone(in text: String, _ capture: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let found = findings(in: text)
        #expect(found.isEmpty, "\(capture) shows \(found.joined(separator: ", "))", sourceLocation: sourceLocation)
    }
}

/// Samples process command lines (`ps -eww -o args`, `/proc/*/cmdline`) and environments
/// (`/proc/*/environ`) every ~20 ms, on the host or inside a controller, until stopped. It keeps no
/// process text: it only counts which of the given needles (secret forms) and witnesses (non-secret
/// texts Quorum's commands must show) it saw, and keeps the lines holding a witness.
final class ProcessSampler {
    static let script = #"""
        import json, os, subprocess, sys, time
        spec = json.loads(sys.stdin.read())
        needles, witnesses, stop = spec["needles"], spec["witnesses"], spec["stop"]
        hits, seen, samples = {}, {}, 0
        def look(where, text):
            for n in needles:
                if n in text: hits[n] = hits.get(n, 0) + 1
            for w in witnesses:
                if w in text:
                    lines = seen.setdefault(w, [])
                    line = where + " " + text[:300]
                    if len(lines) < 200 and line not in lines: lines.append(line)
        while not os.path.exists(stop):
            samples += 1
            try:
                for line in subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True).stdout.decode(errors="replace").splitlines():
                    look("ps", line)
            except OSError:
                pass
            for pid in os.listdir("/proc"):
                if not pid.isdigit() or int(pid) == os.getpid(): continue
                for name in ("cmdline", "environ"):
                    try:
                        with open("/proc/%s/%s" % (pid, name), "rb") as f: data = f.read()
                    except OSError:
                        continue
                    look(name, data.replace(b"\0", b" ").decode(errors="replace"))
            time.sleep(0.02)
        print(json.dumps({"samples": samples, "hits": hits, "witnessed": seen}))
        """#

    struct Result {
        var samples: Int
        /// Needle → number of times seen.
        var hits: [String: Int]
        /// Witness → some lines that held it.
        var witnessed: [String: [String]]
    }

    let place: String
    let process = Process()
    let output = Pipe()
    let stopPath: String

    /// Starts sampling on `place` ("host" or a controller's name).
    init(on place: String, needles: [String], witnesses: [String]) throws {
        self.place = place
        stopPath = "/tmp/quorum-sampler-stop-\(UUID().uuidString.prefix(8))"
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            place == "host"
            ? ["python3", "-c", Self.script]
            : ["bash", PackageRoot.path + "/lab/lab.sh", "exec", place, "--", "python3", "-c", Self.script]
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let spec = try JSONSerialization.data(withJSONObject: ["needles": needles, "witnesses": witnesses, "stop": stopPath])
        input.fileHandleForWriting.write(spec)
        try input.fileHandleForWriting.close()
    }

    /// Stops the sampler and returns what it counted.
    func stop() throws -> Result {
        if place == "host" {
            _ = FileManager.default.createFile(atPath: stopPath, contents: nil)
        } else {
            try Lab.exec(place, "touch \(stopPath)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if place == "host" { try? FileManager.default.removeItem(atPath: stopPath) } else { _ = try? Lab.exec(place, "rm -f \(stopPath)") }
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TestError("the sampler on \(place) printed no result (exit \(process.terminationStatus))")
        }
        return Result(
            samples: object["samples"] as? Int ?? 0, hits: object["hits"] as? [String: Int] ?? [:],
            witnessed: object["witnessed"] as? [String: [String]] ?? [:])
    }
}
