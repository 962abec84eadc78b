import Testing

@testable import CustodyModel

/// A batch body is split into its elements without a tree, and each element is parsed alone. That is sound
/// only if the split finds exactly the elements the whole parse finds, and if a body whose every element
/// parses is one the whole parse accepts.
@Suite("Splitting a JSON array into its elements")
struct JSONArraySplitterTests {
    func split(_ bytes: [UInt8]) -> [Range<Int>]? {
        bytes.withUnsafeBufferPointer { JSONArraySplitter.elements(of: $0) }
    }

    @Test("finds each element of noisy encodings of random arrays, as the whole parse reads it")
    func randomArrays() throws {
        var rng = SplitMix64(seed: 0x5917)
        for _ in 0..<400 {
            let items = (0..<Int.random(in: 0...6, using: &rng)).map { _ in CanonicalEncodingTests.randomValue(depth: 1, using: &rng) }
            let noisy = utf8(DifferentialTests.noisyJSON(.array(items), using: &rng))
            let ranges = try #require(split(noisy), "\(text(noisy))")
            #expect(ranges.count == items.count, "\(text(noisy))")
            for (range, item) in zip(ranges, items) {
                #expect(try JSONParser.parse(Array(noisy[range])) == item, "\(text(noisy))")
            }
        }
    }

    @Test("brackets, commas and quotes inside strings do not end an element")
    func stringsHidePunctuation() throws {
        let body = utf8(#" [ {"a":"]}","b":["\"[",","]} , "x\\" ,-1.5e3,true ] "#)
        let ranges = try #require(split(body))
        #expect(ranges.map { text(Array(body[$0])) } == [#"{"a":"]}","b":["\"[",","]}"#, #""x\\""#, "-1.5e3", "true"])
        #expect(split(utf8("[]")) == [])
        #expect(split(utf8(" [\n] ")) == [])
    }

    @Test("refuses what is not one array: other values, missing or extra punctuation, trailing bytes")
    func refusesOtherShapes() {
        for body in ["", "{}", "1", "[", "[1", "[1,", "[,1]", "[1,]", "[1 2]", "[1]x", "x[1]", "[1]]", "[{]", #"["a]"#, "[{\"a\":1}"] {
            #expect(split(utf8(body)) == nil, "\(body)")
        }
    }

    @Test("whenever every element it finds parses, the whole body parses to those elements")
    func soundUnderMutations() throws {
        var rng = SplitMix64(seed: 0xBA7C)
        let interesting = Array(#"[]{}",:\ 0-ex"#.utf8) + [0x0A, 0x00, 0xC3]
        var agreed = 0
        for _ in 0..<4000 {
            let items = (0..<Int.random(in: 1...4, using: &rng)).map { _ in CanonicalEncodingTests.randomValue(depth: 2, using: &rng) }
            var body = utf8(DifferentialTests.noisyJSON(.array(items), using: &rng))
            for _ in 0..<Int.random(in: 1...2, using: &rng) where !body.isEmpty {
                let i = Int.random(in: 0..<body.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: body[i] = interesting.randomElement(using: &rng)!
                case 1: body.remove(at: i)
                default: body.insert(interesting.randomElement(using: &rng)!, at: i)
                }
            }
            guard let ranges = split(body),
                  let parsed = try? ranges.map({ try JSONParser.parse(Array(body[$0]), maxDepth: JSONParser.defaultMaxDepth - 1) })
            else { continue }
            agreed += 1
            #expect(try JSONParser.parse(body) == .array(parsed), "\(text(body))")
        }
        #expect(agreed > 100)
    }
}
