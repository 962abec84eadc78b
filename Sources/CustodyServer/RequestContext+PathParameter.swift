import CustodyLedger
import Foundation
import Hummingbird

extension RequestContext {
    /// The path parameter `name`, percent-decoded. The router matches raw path segments, so an id holding `/`
    /// or `:` arrives as `BW%2FJW%3A1`; every handler reads its path parameters through here.
    func pathParameter(_ name: String) throws(LedgerError) -> String {
        guard let raw = parameters.get(name) else {
            throw LedgerError(.invalidParameter, "path parameter \(name) is required", parameter: name)
        }
        guard let decoded = raw.removingPercentEncoding else {
            throw LedgerError(.invalidParameter, "path parameter \(name) \"\(raw)\" is not validly percent-encoded", parameter: name)
        }
        return decoded
    }
}
