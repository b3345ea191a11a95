import CSharedLibrary
import Glibc
import Testing

/// The loader behind libcurl and MariaDB Connector/C (opened when first needed): a missing library or symbol
/// is a readable error and sets nothing; a found one sets every slot.
@Suite struct SharedLibraryTests {
    /// Calls the loader with `names`: the error text, or nil, and the addresses it set.
    private func open(_ soname: String, _ names: [String]) -> (problem: String?, slots: [UnsafeMutableRawPointer?]) {
        let slots = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: names.count)
        slots.initialize(repeating: nil, count: names.count)
        defer { slots.deallocate() }
        let cNames = names.map { UnsafePointer(strdup($0)) }
        defer { for name in cNames { free(UnsafeMutablePointer(mutating: name)) } }
        var error = [CChar](repeating: 0, count: 256)
        let status = quorum_shared_library_open(
            soname, cNames, (0..<names.count).map { slots + $0 }, names.count,
            &error, error.count)
        let text = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return (status == 0 ? nil : text, Array(UnsafeBufferPointer(start: slots, count: names.count)))
    }

    @Test("a library that is not installed: its name and the loader's reason, no slot set")
    func missingLibrary() {
        let (problem, slots) = open("libquorum-absent.so.1", ["strlen"])
        #expect(problem?.hasPrefix("libquorum-absent.so.1 cannot be loaded: ") == true)
        #expect(problem?.contains("No such file") == true)
        #expect(slots == [nil])
    }

    @Test("a symbol the library lacks: named in the error, and no slot set, not even the ones found")
    func missingSymbol() {
        let (problem, slots) = open("libc.so.6", ["strlen", "quorum_no_such_function"])
        #expect(problem == "libc.so.6 has no quorum_no_such_function (a version this build does not know)")
        #expect(slots == [nil, nil])
    }

    @Test("every symbol found: each slot holds its function's address")
    func found() throws {
        let (problem, slots) = open("libc.so.6", ["strlen", "getpid"])
        #expect(problem == nil)
        let strlenAddress = try #require(slots[0])
        let strlen = unsafeBitCast(strlenAddress, to: (@convention(c) (UnsafePointer<CChar>) -> Int).self)
        #expect(strlen("quorum") == 6)
        let getpidAddress = try #require(slots[1])
        let getpid = unsafeBitCast(getpidAddress, to: (@convention(c) () -> Int32).self)
        #expect(getpid() == Glibc.getpid())
    }
}
