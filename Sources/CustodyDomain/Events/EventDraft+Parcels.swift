import CustodyModel

/// Sites, extraction, Kimberley Process certificates, custody and transformations.
extension EventDraft {
    /// An output of a split or a mix: a new parcel with its weight and stone count.
    public struct Lot: Sendable, Equatable {
        /// The new parcel's id.
        public var parcel: String
        /// Its weight in points (1 ct = 100 points).
        public var carats: Int64
        /// Its number of stones.
        public var stones: Int64

        /// A lot of `stones` stones weighing `carats` points.
        public init(parcel: String, carats: Int64, stones: Int64) {
            self.parcel = parcel
            self.carats = carats
            self.stones = stones
        }

        func json(_ field: String) throws(EventBuilderError) -> JSONValue {
            .object(JSONObject([
                ("parcel", try Check.id(parcel, "\(field)/parcel")),
                ("carats", try Check.points(carats, "\(field)/carats")),
                ("stones", try Check.count(stones, "\(field)/stones")),
            ]))
        }
    }

    /// One stone of an assortment or a manufacture: its new id and its weight.
    public struct Stone: Sendable, Equatable {
        /// The stone's id (it becomes a parcel of one stone).
        public var stone: String
        /// Its weight in points (1 ct = 100 points).
        public var carats: Int64

        /// A stone weighing `carats` points.
        public init(stone: String, carats: Int64) {
            self.stone = stone
            self.carats = carats
        }

        func json(_ field: String) throws(EventBuilderError) -> JSONValue {
            .object(JSONObject([
                ("stone", try Check.id(stone, "\(field)/stone")),
                ("carats", try Check.points(carats, "\(field)/carats")),
            ]))
        }
    }

    // MARK: Sites and extraction

    /// `site.register`: a mine or alluvial area, registered by its operating miner (or the registrar).
    ///
    /// - Parameters:
    ///   - latE6: latitude in micro-degrees (−90,000,000 to 90,000,000); ``ExactDecimal/microDegrees(_:)`` converts degrees.
    ///   - lonE6: longitude in micro-degrees (−180,000,000 to 180,000,000).
    ///   - operatorID: the registered miner that operates it.
    public static func siteRegister(site: String, name: String, country: String, region: String, latE6: Int64, lonE6: Int64,
                                    kind: SiteKind, operator operatorID: String) throws(EventBuilderError) -> EventDraft {
        EventDraft(type: "site.register", fields: JSONObject([
            ("site", try Check.id(site, "site")),
            ("name", try Check.text(name, "name")),
            ("country", try Check.country(country, "country")),
            ("region", try Check.text(region, "region")),
            ("latE6", try Check.integer(latE6, "latE6", in: -90_000_000...90_000_000, unit: "micro-degrees")),
            ("lonE6", try Check.integer(lonE6, "lonE6", in: -180_000_000...180_000_000, unit: "micro-degrees")),
            ("kind", .string(kind.rawValue)),
            ("operator", try Check.participantID(operatorID, "operator")),
        ]))
    }

    /// `parcel.extract`: a new rough parcel of `stones` stones weighing `carats` points, extracted at `site` on
    /// `extractedOn` (`YYYY-MM-DD`). The signer, a miner operating the site, becomes its custodian.
    public static func parcelExtract(parcel: String, site: String, carats: Int64, stones: Int64,
                                     extractedOn: String) throws(EventBuilderError) -> EventDraft {
        EventDraft(type: "parcel.extract", fields: JSONObject([
            ("parcel", try Check.id(parcel, "parcel")),
            ("site", try Check.id(site, "site")),
            ("carats", try Check.points(carats, "carats")),
            ("stones", try Check.count(stones, "stones")),
            ("extractedOn", try Check.date(extractedOn, "extractedOn")),
        ]))
    }

    // MARK: Kimberley Process

    /// `kp.export`: the exporter ships `parcels` (rough, `carats` points in all) to `importer` under a KP
    /// certificate. The value goes into the body only as `valueCommitment`; its opening is the draft's disclosure.
    ///
    /// - Parameters:
    ///   - certificate: the certificate number, prefixed with `exportingCountry-` (e.g. `BW-2026-000123`).
    ///   - carats: the certificate's weight in points; it must equal the parcels' total.
    ///   - valueCents: the declared value in US cents (the committed clear value).
    ///   - issuedOn: issue date, `YYYY-MM-DD`.
    ///   - expiresOn: expiry date, after `issuedOn`.
    public static func kpExport(certificate: String, exportingCountry: String, importingCountry: String, importer: String,
                                parcels: [String], carats: Int64, valueCents: Int64, issuedOn: String,
                                expiresOn: String) throws(EventBuilderError) -> EventDraft {
        let certificateValue = try Check.certificate(certificate, "certificate")
        let exporting = try Check.country(exportingCountry, "exportingCountry")
        let issued = try Check.date(issuedOn, "issuedOn"), expires = try Check.date(expiresOn, "expiresOn")
        let value = Disclosure(field: "valueCommitment", commitment: Commitment(value: try Check.cents(valueCents, "valueCommitment", "value")))
        return EventDraft(type: "kp.export", fields: JSONObject([
            ("certificate", certificateValue),
            ("exportingCountry", exporting),
            ("importingCountry", try Check.country(importingCountry, "importingCountry")),
            ("importer", try Check.participantID(importer, "importer")),
            ("parcels", try Check.ids(parcels, "parcels")),
            ("carats", try Check.points(carats, "carats")),
            ("valueCommitment", .string(value.hex)),
            ("issuedOn", issued),
            ("expiresOn", expires),
        ]), disclosures: [value])
    }

    /// `kp.validate`: the exporting country's KP authority validates `certificate`.
    public static func kpValidate(certificate: String) throws(EventBuilderError) -> EventDraft {
        EventDraft(type: "kp.validate", fields: JSONObject([("certificate", try Check.certificate(certificate, "certificate"))]))
    }

    /// `kp.import`: the importing country's KP authority confirms receipt of `parcels` (`carats` points in all,
    /// both as the export states them) on `receivedOn`; custody passes to the importer.
    public static func kpImport(certificate: String, parcels: [String], carats: Int64,
                                receivedOn: String) throws(EventBuilderError) -> EventDraft {
        EventDraft(type: "kp.import", fields: JSONObject([
            ("certificate", try Check.certificate(certificate, "certificate")),
            ("carats", try Check.points(carats, "carats")),
            ("parcels", try Check.ids(parcels, "parcels")),
            ("receivedOn", try Check.date(receivedOn, "receivedOn")),
        ]))
    }

    /// `kp.import.external`: the importing country's KP authority records rough arriving under a certificate
    /// whose export is not in this log; the parcels enter the log in `importer`'s custody with no extraction
    /// history, their origin as the certificate declares it.
    ///
    /// - Parameters:
    ///   - exporterName: the exporter's legal name as on the certificate (1 to 200 characters).
    ///   - origin: the declared country of origin (ISO 3166-1 alpha-2), or `mixed`.
    ///   - parcels: the parcels received, each with a new id.
    ///   - carats: the certificate's total weight in points; it must equal the parcels' sum.
    ///   - valueCents: the declared value in US cents (the committed clear value).
    public static func kpImportExternal(certificate: String, exportingCountry: String, importingCountry: String, exporterName: String,
                                        importer: String, origin: String, parcels: [Lot], carats: Int64, valueCents: Int64,
                                        issuedOn: String, expiresOn: String, receivedOn: String) throws(EventBuilderError) -> EventDraft {
        guard origin == "mixed" || Identifiers.isCountry(origin) else {
            throw Check.fail("origin", "origin \"\(origin)\" is not an ISO 3166-1 alpha-2 country code or mixed")
        }
        guard (1...200).contains(exporterName.unicodeScalars.count) else {
            throw Check.fail("exporterName", "exporterName must be 1 to 200 characters, got \(exporterName.unicodeScalars.count)")
        }
        guard !parcels.isEmpty else { throw Check.fail("parcels", "parcels needs at least 1 parcel") }
        var lots: [JSONValue] = []
        for (i, lot) in parcels.enumerated() { lots.append(try lot.json("parcels/\(i)")) }
        let value = Disclosure(field: "valueCommitment", commitment: Commitment(value: try Check.cents(valueCents, "valueCommitment", "value")))
        return EventDraft(type: "kp.import.external", fields: JSONObject([
            ("certificate", try Check.certificate(certificate, "certificate")),
            ("exportingCountry", try Check.country(exportingCountry, "exportingCountry")),
            ("importingCountry", try Check.country(importingCountry, "importingCountry")),
            ("exporterName", .string(exporterName)),
            ("importer", try Check.participantID(importer, "importer")),
            ("origin", .string(origin)),
            ("parcels", .array(lots)),
            ("carats", try Check.points(carats, "carats")),
            ("valueCommitment", .string(value.hex)),
            ("issuedOn", try Check.date(issuedOn, "issuedOn")),
            ("expiresOn", try Check.date(expiresOn, "expiresOn")),
            ("receivedOn", try Check.date(receivedOn, "receivedOn")),
        ]), disclosures: [value])
    }

    /// `kp.return`: the exporting country's KP authority records that rough exported under `certificate`, never
    /// imported, came back to the exporter after the certificate expired in transit; the certificate is closed
    /// and the parcels are active again in the exporter's custody.
    ///
    /// - Parameters:
    ///   - returnedOn: the day the rough was returned, `YYYY-MM-DD`; after the certificate's `expiresOn`, and not
    ///     after the event's own day.
    ///   - reason: why, e.g. `held at customs in Antwerp past the certificate's expiry`.
    public static func kpReturn(certificate: String, returnedOn: String, reason: String) throws(EventBuilderError) -> EventDraft {
        EventDraft(type: "kp.return", fields: JSONObject([
            ("certificate", try Check.certificate(certificate, "certificate")),
            ("returnedOn", try Check.date(returnedOn, "returnedOn")),
            ("reason", try Check.text(reason, "reason")),
        ]))
    }

    // MARK: Custody

    /// `custody.transfer`: the custodian sends `parcels` to participant `to`; they are in transit until `to`
    /// accepts. Commercial `terms`, when given, go into the body only as `termsCommitment`.
    ///
    /// - Parameter terms: any JSON value the parties agree on (text, or an object such as
    ///   `{"priceCents": …, "paymentDays": 30}`); committed with a fresh salt.
    public static func custodyTransfer(parcels: [String], to: String, terms: JSONValue? = nil) throws(EventBuilderError) -> EventDraft {
        var fields = JSONObject([
            ("parcels", try Check.ids(parcels, "parcels")),
            ("to", try Check.participantID(to, "to")),
        ])
        var disclosures: [Disclosure] = []
        if let terms {
            let opening = Disclosure(field: "termsCommitment", commitment: Commitment(value: terms))
            fields.set("termsCommitment", .string(opening.hex))
            disclosures.append(opening)
        }
        return EventDraft(type: "custody.transfer", fields: fields, disclosures: disclosures)
    }

    /// `custody.accept`: the receiver accepts the transfer logged at index `transfer`; custody changes.
    public static func custodyAccept(transfer: UInt64) throws(EventBuilderError) -> EventDraft {
        EventDraft(type: "custody.accept", fields: JSONObject([("transfer", try Check.logIndex(transfer, "transfer"))]))
    }

    /// `custody.cancel`: the sender withdraws the transfer logged at index `transfer` while it is pending (not
    /// accepted, cancelled or rejected); its parcels are active again in the sender's custody.
    public static func custodyCancel(transfer: UInt64, reason: String) throws(EventBuilderError) -> EventDraft {
        EventDraft(type: "custody.cancel", fields: JSONObject([
            ("transfer", try Check.logIndex(transfer, "transfer")),
            ("reason", try Check.text(reason, "reason")),
        ]))
    }

    /// `custody.reject`: the receiver refuses the transfer logged at index `transfer` while it is pending; its
    /// parcels are active again in the sender's custody.
    public static func custodyReject(transfer: UInt64, reason: String) throws(EventBuilderError) -> EventDraft {
        EventDraft(type: "custody.reject", fields: JSONObject([
            ("transfer", try Check.logIndex(transfer, "transfer")),
            ("reason", try Check.text(reason, "reason")),
        ]))
    }

    // MARK: Transformations

    /// `parcel.split`: the custodian splits `parcel` into at least two new lots; their weights and stone counts
    /// must add up to the parcel's.
    public static func parcelSplit(parcel: String, outputs: [Lot]) throws(EventBuilderError) -> EventDraft {
        guard outputs.count >= 2 else { throw Check.fail("outputs", "a split needs at least 2 outputs, got \(outputs.count)") }
        var lots: [JSONValue] = []
        for (i, lot) in outputs.enumerated() { lots.append(try lot.json("outputs/\(i)")) }
        return EventDraft(type: "parcel.split", fields: JSONObject([
            ("parcel", try Check.id(parcel, "parcel")),
            ("outputs", .array(lots)),
        ]))
    }

    /// `parcel.mix`: the custodian mixes at least two parcels into one new lot weighing their total.
    public static func parcelMix(inputs: [String], output: Lot) throws(EventBuilderError) -> EventDraft {
        EventDraft(type: "parcel.mix", fields: JSONObject([
            ("inputs", try Check.ids(inputs, "inputs", minimum: 2)),
            ("output", try output.json("output")),
        ]))
    }

    /// `parcel.assort`: the custodian sorts `parcel` into its individual stones (one entry per stone, weights
    /// adding up to the parcel's); each becomes a parcel of one stone.
    public static func parcelAssort(parcel: String, stones: [Stone]) throws(EventBuilderError) -> EventDraft {
        guard !stones.isEmpty else { throw Check.fail("stones", "an assortment needs at least 1 stone") }
        var list: [JSONValue] = []
        for (i, stone) in stones.enumerated() { list.append(try stone.json("stones/\(i)")) }
        return EventDraft(type: "parcel.assort", fields: JSONObject([
            ("parcel", try Check.id(parcel, "parcel")),
            ("stones", .array(list)),
        ]))
    }

    /// `parcel.manufacture`: a manufacturer cuts rough `parcel` into polished stones (together no heavier than
    /// the rough, and above the plausible floor of it).
    public static func parcelManufacture(parcel: String, polished: [Stone]) throws(EventBuilderError) -> EventDraft {
        guard !polished.isEmpty else { throw Check.fail("polished", "a manufacture needs at least 1 polished stone") }
        var list: [JSONValue] = []
        for (i, stone) in polished.enumerated() { list.append(try stone.json("polished/\(i)")) }
        return EventDraft(type: "parcel.manufacture", fields: JSONObject([
            ("parcel", try Check.id(parcel, "parcel")),
            ("polished", .array(list)),
        ]))
    }

    /// `stone.grade`: a laboratory's report on a polished `stone` weighing `carats` points.
    public static func stoneGrade(stone: String, reportNumber: String, carats: Int64, color: String, clarity: String,
                                  cut: String) throws(EventBuilderError) -> EventDraft {
        EventDraft(type: "stone.grade", fields: JSONObject([
            ("stone", try Check.id(stone, "stone")),
            ("reportNumber", try Check.id(reportNumber, "reportNumber")),
            ("carats", try Check.points(carats, "carats")),
            ("color", try Check.text(color, "color")),
            ("clarity", try Check.text(clarity, "clarity")),
            ("cut", try Check.text(cut, "cut")),
        ]))
    }

    /// `parcel.sale`: the custodian sells `parcel` to `buyer` (a participant id, or `consumer`); the parcel's
    /// chain ends. The price, when given, goes into the body only as `priceCommitment`.
    ///
    /// - Parameter priceCents: the price in US cents (the committed clear value).
    public static func parcelSale(parcel: String, buyer: String, priceCents: Int64? = nil) throws(EventBuilderError) -> EventDraft {
        var fields = JSONObject([
            ("parcel", try Check.id(parcel, "parcel")),
            ("buyer", try Check.participantID(buyer, "buyer")),
        ])
        var disclosures: [Disclosure] = []
        if let priceCents {
            let opening = Disclosure(field: "priceCommitment",
                                     commitment: Commitment(value: try Check.cents(priceCents, "priceCommitment", "price")))
            fields.set("priceCommitment", .string(opening.hex))
            disclosures.append(opening)
        }
        return EventDraft(type: "parcel.sale", fields: fields, disclosures: disclosures)
    }
}
