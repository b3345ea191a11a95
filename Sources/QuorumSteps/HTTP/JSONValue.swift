import Foundation
import OrderedCollections
import QuorumCore

extension Value {
    /// A JSON document as a `Value` (object keys sorted, so the same answer gives the same value), or nil
    /// when `data` is not JSON.
    public init?(json data: Data) {
        guard let decoded = try? JSONDecoder().decode(DecodedJSON.self, from: data) else { return nil }
        self = decoded.value
    }
}

/// Decodes any JSON value, telling booleans from numbers (which `JSONSerialization` on Linux does not).
private struct DecodedJSON: Decodable {
    let value: Value

    init(from decoder: any Decoder) throws {
        if var array = try? decoder.unkeyedContainer() {
            var items: [Value] = []
            while !array.isAtEnd { items.append(try array.decode(DecodedJSON.self).value) }
            value = .list(items)
            return
        }
        if let object = try? decoder.container(keyedBy: AnyKey.self) {
            var map = OrderedDictionary<String, Value>()
            for key in object.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
                map[key.stringValue] = try object.decode(DecodedJSON.self, forKey: key).value
            }
            value = .map(map)
            return
        }
        let scalar = try decoder.singleValueContainer()
        if scalar.decodeNil() {
            value = .null
        } else if let bool = try? scalar.decode(Bool.self) {
            value = .bool(bool)
        } else if let int = try? scalar.decode(Int.self) {
            value = .int(int)
        } else if let double = try? scalar.decode(Double.self) {
            value = .double(double)
        } else {
            value = .string(try scalar.decode(String.self))
        }
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
