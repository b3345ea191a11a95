import OrderedCollections

/// The variables visible to a host at one point of a run: name → value.
public typealias Variables = OrderedDictionary<String, Value>
