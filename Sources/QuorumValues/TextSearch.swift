import Foundation

/// Foundation's `String.contains(_:)`, faster where it can be. Foundation searches through NSString by
/// canonical equivalence (the Kelvin sign is a `K`, a letter and its combining accent are one character),
/// which is 2–3% of a small run's CPU in the redactor alone; between two ASCII texts that search is plain
/// byte equality, so for them a byte search gives the same answer.
public enum TextSearch {
    public static func contains(_ text: String, _ part: String) -> Bool {
        var text = text
        var part = part
        let byBytes = text.withUTF8 { textBytes -> Bool? in
            part.withUTF8 { partBytes -> Bool? in
                guard isASCII(textBytes), isASCII(partBytes) else { return nil }
                // Foundation finds no empty text.
                guard partBytes.count > 0 else { return false }
                return textBytes.firstRange(of: partBytes) != nil
            }
        }
        return byBytes ?? text.contains(part)
    }

    private static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.allSatisfy { $0 < 0x80 }
    }
}
