import Testing
import Yams

@testable import QuorumCore

/// The hand-written typing of plain scalars against Yams' `Resolver.default`, which stays its specification:
/// the same type for chosen texts and for generated ones.
@Suite struct PlainScalarTypeTests {
    /// What Yams' default resolver says of an untagged plain scalar, in Quorum's terms.
    private func byYams(_ text: String) -> PlainScalarType {
        switch Resolver.default.resolveTag(of: Node.scalar(Node.Scalar(text, .implicit, .plain))) {
        case .null: .null
        case .bool: .bool
        case .int: .int
        case .float: .float
        default: .string
        }
    }

    @Test("chosen texts: each rule's alternatives and their near misses")
    func chosen() {
        let cases: [(String, PlainScalarType)] = [
            ("", .null), ("~", .null), ("null", .null), ("Null", .null), ("NULL", .null), ("nULL", .string),
            ("yes", .bool), ("No", .bool), ("TRUE", .bool), ("off", .bool), ("oN", .string), ("y", .string),
            ("0", .int), ("-0", .int), ("42", .int), ("+1_000", .int), ("0b1010", .int), ("0b", .string), ("0b2", .string),
            ("0644", .int), ("0o17", .int), ("0o", .string), ("09", .float), ("0x1F", .int), ("0xg", .string),
            ("1:30", .int), ("1:30:59", .int), ("1:60", .string), ("0:30", .string), ("1:5", .int), ("1:", .string),
            ("1.5", .float), ("-1.", .float), ("1e5", .float), ("1.5E-3", .float), ("1e", .string), (".5", .float),
            (".5e+1", .float), (".5e1", .string), ("+.5", .string), ("1:30.5", .float), ("1:30.", .float),
            (".inf", .float), ("-.Inf", .float), ("+.INF", .float), (".nan", .float), ("-.nan", .string), (".NaN", .float),
            ("1_0:3_0", .string), ("12\n", .int), ("yes\r\n", .bool), ("\n", .null), ("1\n\n", .string),
            ("magnum", .string), ("1.2.3", .string), ("10.0.0.1", .string), ("=", .string), ("<<", .string),
            ("2026-12-03", .string), ("١٢", .string)
        ]
        for (text, expected) in cases {
            #expect(PlainScalarType.of(text) == expected, "\(text.debugDescription)")
            #expect(byYams(text) == expected, "Yams on \(text.debugDescription)")
        }
    }

    @Test("generated texts: the same type as Yams gives")
    func generated() {
        let alphabet: [String] = [
            "0", "1", "5", "7", "9", "a", "b", "e", "E", "f", "x", "o", ".", "_", ":", "+", "-",
            "inf", "nan", "NaN", "~", "\n", "\r", " ", "é", "yes", "null"
        ]
        var state: UInt64 = 18
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        for _ in 0..<20_000 {
            let text = (0..<(next() % 7)).map { _ in alphabet[next() % alphabet.count] }.joined()
            #expect(PlainScalarType.of(text) == byYams(text), "\(text.debugDescription)")
        }
    }
}
