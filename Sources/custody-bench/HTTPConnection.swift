import CustodyStore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal blocking HTTP/1.1 client over one keep-alive TCP connection, used as a load generator.
///
/// URLSession costs more CPU per request than the server under test, which on two cores would measure the
/// client. This client writes each request in one `send` and frames responses by `Content-Length` only
/// (the daemon always sends it); anything else is an error rather than a guess. One instance belongs to
/// one thread.
final class HTTPConnection {
    /// A response: status code and body bytes.
    struct Response {
        var status: Int
        var body: [UInt8]
    }

    private let fd: Int32
    private let hostHeader: String
    /// Bytes received but not yet consumed (the start of the next response, if any).
    private var buffer: [UInt8] = []
    private var scratch = [UInt8](repeating: 0, count: 256 * 1024)

    /// Connects to `127.0.0.1:port` with Nagle's algorithm off, so small requests are not delayed.
    init(port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw BenchError("connect to 127.0.0.1:\(port): \(reason)")
        }
        self.fd = fd
        hostHeader = "127.0.0.1:\(port)"
    }

    deinit { close(fd) }

    /// Sends one request and waits for its whole response.
    func request(_ method: String, _ target: String, body: [UInt8]? = nil) throws -> Response {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(hostHeader)\r\n"
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        head += "\r\n"
        var message = Array(head.utf8)
        if let body { message += body }
        try sendAll(message)
        return try readResponse()
    }

    private func sendAll(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw BenchError("send: \(String(cString: strerror(errno)))") }
            sent += n
        }
    }

    /// Reads more bytes into `buffer`; throws if the server closed the connection.
    private func fill() throws {
        while true {
            let n = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw BenchError(n == 0 ? "the server closed the connection" : "recv: \(String(cString: strerror(errno)))")
            }
            buffer.append(contentsOf: scratch[0..<n])
            return
        }
    }

    private func readResponse() throws -> Response {
        // Parsed as bytes: String and Foundation header handling would make the load generator, which
        // shares the cores with the server, cost more than the server's own HTTP handling.
        var headerEnd: Int?
        var searchFrom = 0
        while headerEnd == nil {
            headerEnd = Self.endOfHead(buffer, from: searchFrom)
            if headerEnd == nil {
                searchFrom = max(0, buffer.count - 3)
                try fill()
            }
        }
        let head = buffer[0..<headerEnd!]
        guard head.starts(with: Self.statusPrefix), head.count >= 12,
              let status = Self.decimal(head[head.startIndex + 9..<head.startIndex + 12])
        else { throw BenchError("malformed status line: \(String(decoding: head.prefix(40), as: UTF8.self))") }
        var length: Int?
        var closeAfter = false
        for line in head.split(separator: 10).dropFirst() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = line[..<colon].map { $0 | 0x20 }  // ASCII lowercase
            let value = line[(colon + 1)...].filter { $0 != 32 && $0 != 9 && $0 != 13 }
            if name.elementsEqual("content-length".utf8) {
                length = Self.decimal(value[...])
            } else if name.elementsEqual("transfer-encoding".utf8) {
                throw BenchError("unsupported transfer-encoding: the load client frames by Content-Length")
            } else if name.elementsEqual("connection".utf8) {
                closeAfter = value.map { $0 | 0x20 }.elementsEqual("close".utf8)
            }
        }
        guard let length else { throw BenchError("response without Content-Length") }
        while buffer.count < headerEnd! + length { try fill() }
        let body = Array(buffer[headerEnd!..<headerEnd! + length])
        buffer.removeFirst(headerEnd! + length)
        if closeAfter { throw BenchError("the server asked to close the connection (status \(status))") }
        return Response(status: status, body: body)
    }

    private static let statusPrefix = Array("HTTP/1.1 ".utf8)

    /// Index just past the first CRLFCRLF at or after `from`, if any.
    private static func endOfHead(_ bytes: [UInt8], from: Int) -> Int? {
        var i = from
        while i + 3 < bytes.count {
            if bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 { return i + 4 }
            i += 1
        }
        return nil
    }

    /// A non-empty run of ASCII digits as an integer.
    private static func decimal(_ digits: ArraySlice<UInt8>) -> Int? {
        guard !digits.isEmpty, digits.count <= 18 else { return nil }
        var value = 0
        for d in digits {
            guard (48...57).contains(d) else { return nil }
            value = value * 10 + Int(d - 48)
        }
        return value
    }
}

extension Array where Element == UInt8 {
    /// Occurrences of `needle` (non-overlapping), found with `memchr` and `memcmp`: responses of a
    /// 1,000-event batch are ~1.5 MB and are checked on the load generator's share of the cores.
    func occurrences(of needle: String) -> Int {
        let pattern = Array(needle.utf8)
        guard let first = pattern.first else { return 0 }
        return withUnsafeBytes { haystack in
            pattern.withUnsafeBytes { p in
                guard let base = haystack.baseAddress else { return 0 }
                var count = 0
                var offset = 0
                while offset + p.count <= haystack.count,
                      let hit = memchr(base + offset, Int32(first), haystack.count - offset - p.count + 1) {
                    let at = base.distance(to: UnsafeRawPointer(hit))
                    if memcmp(hit, p.baseAddress!, p.count) == 0 {
                        count += 1
                        offset = at + p.count
                    } else {
                        offset = at + 1
                    }
                }
                return count
            }
        }
    }
}

/// Runs `body(i)` for `i` in `0..<count`, each on its own OS thread, and resumes once all have returned.
///
/// The load generators block in `send`/`recv`; running them on dedicated threads keeps them off Swift's
/// cooperative pool (two threads here), which the server itself needs.
func onThreads<R: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) -> R) async -> [R] {
    await withCheckedContinuation { continuation in
        let collector = ThreadResults<R>(count: count, continuation: continuation)
        for i in 0..<count {
            let thread = Thread {
                // Named apart from the server's threads, so that per-thread CPU figures separate the load.
                Thread.nameForKernel("bench-client")
                collector.finish(i, body(i))
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }
}

/// Results of `onThreads`, filled from many threads under a lock; the last one resumes the waiter.
private final class ThreadResults<R: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [R?]
    private var remaining: Int
    private let continuation: CheckedContinuation<[R], Never>

    init(count: Int, continuation: CheckedContinuation<[R], Never>) {
        results = Array(repeating: nil, count: count)
        remaining = count
        self.continuation = continuation
    }

    func finish(_ i: Int, _ value: R) {
        lock.lock()
        results[i] = value
        remaining -= 1
        let done = remaining == 0
        lock.unlock()
        if done { continuation.resume(returning: results.map { $0! }) }
    }
}
