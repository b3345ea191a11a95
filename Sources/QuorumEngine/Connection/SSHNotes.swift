import Foundation
import QuorumCore
import QuorumSSH

/// Where a host's SSH session notes go: a recorded host key to stderr in every run (the operator must hear of
/// it), the rest to the command trace (`-vv`), or nowhere.
struct SSHNotes: Sendable {
    let host: String
    let commandObserver: (any CommandObserver)?

    func receive(_ note: SSHNote) {
        switch note.kind {
        case .hostKeyRecorded: FileHandle.standardError.write(Data("\(host): \(note.message)\n".utf8))
        case .detail: commandObserver?.connectionNote(host: host, note.message)
        }
    }
}
