import Foundation
import Testing

@testable import CustodyModel

@Suite("JSONValue and JSONObject")
struct JSONValueTests {
    @Test("typed accessors")
    func accessors() {
        let v: JSONValue = ["s": "text", "n": 42, "f": 2.5, "b": true, "a": [1, 2], "o": ["k": nil], "z": nil]
        #expect(v["s"]?.stringValue == "text")
        #expect(v["n"]?.int64Value == 42)
        #expect(v["n"]?.doubleValue == 42)
        #expect(v["f"]?.int64Value == nil)
        #expect(v["f"]?.doubleValue == 2.5)
        #expect(v["b"]?.boolValue == true)
        #expect(v["a"]?.arrayValue == [1, 2])
        #expect(v["o"]?.objectValue?["k"] == .null)
        #expect(v["z"]?.isNull == true)
        #expect(v["missing"] == nil)
        #expect(v["s"]?.int64Value == nil)
        #expect(v["n"]?.stringValue == nil)
        #expect(v["a"]?["k"] == nil)  // subscript on a non-object
        #expect(JSONValue.string("x").objectValue == nil)
        #expect(JSONValue.null.boolValue == nil)
    }

    @Test("int64Value only for exact integers within ±(2^53−1)")
    func int64Value() {
        #expect(JSONValue.number(9_007_199_254_740_991).int64Value == 9_007_199_254_740_991)
        #expect(JSONValue.number(-9_007_199_254_740_991).int64Value == -9_007_199_254_740_991)
        #expect(JSONValue.number(9_007_199_254_740_992).int64Value == nil)
        #expect(JSONValue.number(1e20).int64Value == nil)
        #expect(JSONValue.number(-0.0).int64Value == 0)
        #expect(JSONValue.number(0.5).int64Value == nil)
        #expect(JSONValue.number(-1e-300).int64Value == nil)
        #expect(JSONValue.number(.infinity).int64Value == nil)
        #expect(JSONValue.number(.nan).int64Value == nil)
        #expect(JSONValue.integer(-7) == .number(-7))
    }

    @Test("object mutation keeps order")
    func objectMutation() {
        var o: JSONObject = ["type": "a", "signer": "s", "nonce": "n"]
        #expect(o.keys == ["type", "signer", "nonce"])
        #expect(o.count == 3)
        o.set("signer", "t")
        #expect(o.keys == ["type", "signer", "nonce"])
        #expect(o["signer"] == "t")
        o.set("extra", 1)
        #expect(o.keys == ["type", "signer", "nonce", "extra"])
        let without = o.removing("signer")
        #expect(without.keys == ["type", "nonce", "extra"])
        #expect(o.count == 4)  // removing returns a copy
        #expect(o.removing("absent") == o)
        #expect(o.remove("type") == "a")
        #expect(o.remove("type") == nil)
        #expect(o.contains("nonce"))
        #expect(!o.contains("type"))
        #expect(Array(o.map(\.key)) == ["signer", "nonce", "extra"])
        #expect(JSONObject().isEmpty)
    }

    @Test("iteration yields members in stored order")
    func iteration() throws {
        let o = try #require(try JSONParser.parse(utf8(#"{"c":1,"a":2,"b":3}"#)).objectValue)
        var seen: [String] = []
        for (key, value) in o {
            seen.append(key)
            #expect(value.int64Value != nil)
        }
        #expect(seen == ["c", "a", "b"])
    }

    @Test("uniqueness is checked exactly")
    func validatingInit() {
        #expect(JSONObject(validating: [("a", 1), ("a", 2)]) == nil)
        #expect(JSONObject(validating: [("K", 1), ("\u{212A}", 2)])?.count == 2)
        #expect(JSONObject(validating: [("\u{C5}", 1), ("A\u{30A}", 2)])?.count == 2)
        let many = (0..<100).map { ("k\($0)", JSONValue.null) }
        #expect(JSONObject(validating: many)?.count == 100)
        #expect(JSONObject(validating: many + [("k50", .null)]) == nil)
    }

    @Test("set and lookup use exact key comparison")
    func exactLookup() {
        var o: JSONObject = ["K": 1]
        #expect(o["\u{212A}"] == nil)
        o.set("\u{212A}", 2)
        #expect(o.count == 2)
        #expect(o["K"] == 1)
        #expect(o["\u{212A}"] == 2)
    }

    @Test("equality is exact for strings and ignores member order")
    func equality() {
        #expect(JSONValue.string("K") != .string("\u{212A}"))
        #expect(JSONValue.string("\u{C5}") != .string("A\u{30A}"))
        #expect(JSONValue.number(0) == .number(-0.0))
        #expect(JSONValue.number(1) != .string("1"))
        #expect(JSONValue.null != .bool(false))
        let a: JSONValue = ["x": 1, "y": [1, 2], "z": ["p": nil]]
        let b: JSONValue = ["z": ["p": nil], "x": 1, "y": [1, 2]]
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a != ["x": 1, "y": [2, 1], "z": ["p": nil]])
        #expect(a != ["x": 1, "y": [1, 2]])
        #expect(a != ["x": 1, "y": [1, 2], "q": ["p": nil]])
        // Large objects (hash-indexed comparison).
        let members = (0..<40).map { ("k\($0)", JSONValue.number(Double($0))) }
        let forward = JSONValue.object(JSONObject(members))
        let backward = JSONValue.object(JSONObject(members.reversed()))
        #expect(forward == backward)
        #expect(forward.hashValue == backward.hashValue)
        var changed = members.reversed() as [(String, JSONValue)]
        changed[3].1 = "different"
        #expect(forward != .object(JSONObject(changed)))
        // Sets and dictionaries see exact values.
        let set: Set<JSONValue> = [.string("K"), .string("\u{212A}"), .string("K"), a, b]
        #expect(set.count == 3)
    }

    @Test("literals build the expected values")
    func literals() {
        let v: JSONValue = [nil, true, 1, 1.5, "s", [2], ["k": "v"]]
        #expect(v == .array([.null, .bool(true), .number(1), .number(1.5), .string("s"), .array([.number(2)]),
                             .object(JSONObject([("k", .string("v"))]))]))
    }
}
