import Foundation
import Testing
@testable import QuorumVault

@Suite("Vault format")
struct VaultFormatTests {
    @Test func scryptCost() throws {
        for logN in [15, 16, 17] {
            let start = ContinuousClock.now
            _ = try VaultFormat.deriveKey(VaultPassphrase("x"), salt: [UInt8](repeating: 1, count: 16), ScryptParameters(logN: logN, r: 8, p: 1))
            print("scrypt logN=\(logN): \(ContinuousClock.now - start)")
        }
    }
}
