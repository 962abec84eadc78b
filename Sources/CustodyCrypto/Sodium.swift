import CSodium

/// libsodium must be initialised once before use; `sodium_init` is idempotent and thread-safe.
enum Sodium {
    static let ready: Bool = {
        sodium_init() >= 0
    }()

    @inline(__always)
    static func ensureReady() {
        precondition(ready, "libsodium failed to initialise")
    }
}
