import Foundation
import QuorumCore
import Testing

/// TextSearch against Foundation's `String.contains(_:)`, which it stands for: the same answer for chosen and
/// generated texts, ASCII (the byte search) and not (Foundation's own).
@Suite struct TextSearchTests {
    @Test("chosen texts: empty parts, CRLF, canonical equivalents, combining accents")
    func chosen() {
        let cases: [(String, String, Bool)] = [
            ("magnum_password", "password", true), ("abc", "", false), ("", "", false), ("", "a", false),
            ("a\r\n", "a\r", true), ("\r\n", "\n", true), ("K", "\u{212A}", true), ("\u{212A}", "K", true),
            ("ab\u{301}", "ab", false), ("secret", "Secret", false), ("token", "tokens", false)
        ]
        for (text, part, expected) in cases {
            #expect(TextSearch.contains(text, part) == expected, "\(text.debugDescription) ∋ \(part.debugDescription)")
            #expect(text.contains(part) == expected, "Foundation: \(text.debugDescription) ∋ \(part.debugDescription)")
        }
    }

    @Test("generated texts: the same answer as Foundation")
    func generated() {
        let alphabet: [String] = ["a", "b", "K", "\u{212A}", "\u{301}", "\r", "\n", "é", " ", "'"]
        var state: UInt64 = 3
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        for _ in 0..<5_000 {
            let text = (0..<(next() % 9)).map { _ in alphabet[next() % 4 == 0 ? next() % alphabet.count : next() % 2] }.joined()
            let part = (0..<(next() % 3)).map { _ in alphabet[next() % 4 == 0 ? next() % alphabet.count : next() % 2] }.joined()
            #expect(TextSearch.contains(text, part) == text.contains(part), "\(text.debugDescription) ∋ \(part.debugDescription)")
        }
    }
}
