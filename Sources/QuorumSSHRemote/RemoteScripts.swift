import Foundation
import QuorumCore

/// The shell scripts behind `stat`, `readFile` and `writeFile`, and the parsing of what they print.
enum RemoteScripts {
    static func parseStat(_ text: String) -> FileInfo? {
        let fields = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|", omittingEmptySubsequences: false)
        guard fields.count == 4, let mode = Int(fields[1], radix: 8) else { return nil }
        let kind: FileInfo.Kind =
            switch fields[0] {
            case "regular file", "regular empty file": .file
            case "directory": .directory
            case "symbolic link": .link
            default: .other
            }
        return FileInfo(kind: kind, mode: mode, owner: String(fields[2]), group: String(fields[3]))
    }

    /// Prints `stat` on the first line, then the content; exit 4 when absent, 3 when not a regular file.
    static func readFile(_ path: String) -> String {
        """
        p=\(Shell.quote(path))
        if [ -f "$p" ]; then stat -L -c '%F|%a|%U|%G' -- "$p" && exec cat -- "$p"
        elif [ -e "$p" ]; then echo "$p is not a regular file" >&2; exit 3
        else exit 4; fi
        """
    }

    static func parseReadFile(_ bytes: [UInt8], path: String) throws -> RemoteFile {
        guard let newline = bytes.firstIndex(of: UInt8(ascii: "\n")),
            let info = parseStat(String(decoding: bytes[..<newline], as: UTF8.self))
        else {
            throw StepFailure("cannot read \(path): unexpected answer from the host")
        }
        return RemoteFile(content: Array(bytes[(newline + 1)...]), info: info)
    }

    /// Every read in one script: each answer is followed by a line `\n<boundary> <status>` (status as
    /// `readFile`'s script exits; 0 for a `stat`), the boundary being random for each batch, so that no file
    /// can hold it.
    static func readBatch(_ reads: [RemoteRead], boundary: String) -> String {
        var lines = ["b=\(Shell.quote(boundary))"]
        for read in reads {
            switch read {
            case .file(let path):
                lines.append("p=\(Shell.quote(path))")
                lines.append(
                    "if [ -f \"$p\" ]; then stat -L -c '%F|%a|%U|%G' -- \"$p\" && cat -- \"$p\"; s=$?; "
                        + "elif [ -e \"$p\" ]; then s=3; else s=4; fi")
            case .stat(let path):
                lines.append("stat -c '%F|%a|%U|%G' -- \(Shell.quote(path)) 2>/dev/null; s=0")
            }
            lines.append("printf '\\n%s %s\\n' \"$b\" \"$s\"")
        }
        return lines.joined(separator: "\n")
    }

    /// The answers `readBatch` printed, in order; a read whose answer is missing or malformed is unanswered.
    static func parseReadBatch(_ bytes: [UInt8], reads: [RemoteRead], boundary: String) -> [RemoteReadResult] {
        let marker = Array(("\n" + boundary + " ").utf8)
        var results: [RemoteReadResult] = []
        var start = bytes.startIndex
        for read in reads {
            guard let end = bytes[start...].firstRange(of: marker)?.lowerBound,
                let newline = bytes[(end + marker.count)...].firstIndex(of: UInt8(ascii: "\n")),
                let status = Int32(String(decoding: bytes[(end + marker.count)..<newline], as: UTF8.self))
            else {
                return results + Array(repeating: .unanswered, count: reads.count - results.count)
            }
            let answer = Array(bytes[start..<end])
            start = newline + 1
            switch (read, status) {
            case (.stat, _): results.append(.stat(parseStat(String(decoding: answer, as: UTF8.self))))
            case (.file, 4): results.append(.file(nil))
            case (.file(let path), 0):
                // The single call's answer ends with the file; here the boundary's newline follows it.
                results.append((try? parseReadFile(answer, path: path)).map { .file($0) } ?? .unanswered)
            case (.file, _): results.append(.unanswered)
            }
        }
        return results
    }

    /// Content on stdin into a 0600 temporary file beside `path`; owner and mode set; `validate` run on it;
    /// then renamed over `path`. The trap removes the temporary file on any failure.
    static func writeFile(_ path: String, attributes: FileAttributes, validate: String?) -> String {
        var lines = [
            "set -e",
            "p=\(Shell.quote(path))",
            "d=$(dirname -- \"$p\")",
            "[ -d \"$d\" ] || { echo \"directory $d does not exist\" >&2; exit 3; }",
            "t=$(mktemp \"$d/.quorum.XXXXXX\")",
            "trap 'rm -f -- \"$t\"' EXIT HUP INT TERM",
            "cat > \"$t\"",
            // Owner first, then exactly one chmod to the final mode: the file (possibly holding secrets) is
            // never readable by more users than the finished file is, not even for a moment.
            "if [ -e \"$p\" ]; then chown --reference=\"$p\" -- \"$t\"; fi"
        ]
        if attributes.owner != nil || attributes.group != nil {
            let spec = (attributes.owner ?? "") + (attributes.group.map { ":" + $0 } ?? "")
            lines.append("chown -- \(Shell.quote(spec)) \"$t\"")
        }
        if let mode = attributes.mode {
            lines.append("chmod \(String(mode, radix: 8)) \"$t\"")
        } else {
            lines.append("if [ -e \"$p\" ]; then chmod --reference=\"$p\" -- \"$t\"; else chmod 0644 \"$t\"; fi")
        }
        if let validate {
            let command = validate.replacingOccurrences(of: "%s", with: "\"$t\"")
            lines.append("if ! out=$( { \(command) ; } 2>&1 ); then printf '%s\\n' \"$out\" >&2; exit 5; fi")
        }
        lines.append("mv -f -- \"$t\" \"$p\"")
        lines.append("trap - EXIT HUP INT TERM")
        return lines.joined(separator: "\n")
    }

    static func checkWrite(_ result: CommandResult, path: String) throws {
        let detail = result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
        switch result.status {
        case 0: return
        case 3: throw StepFailure("cannot write \(path)", detail: detail)
        case 5: throw StepFailure("validation failed, \(path) left unchanged", detail: detail)
        default: throw StepFailure("writing \(path) failed (exit \(result.status))", detail: detail)
        }
    }
}
