import CustodyModel
/// Kimberley Process export, validation, import and return.
extension RuleContext {
    mutating func kpExport() throws {
        let exporter = try signer(.exporter)
        let (number, exporting, importing) = try newCertificate()
        guard exporter.country == exporting else {
            throw RuleViolation("kp.exporter-country", .forbidden, "exporter \(exporter.id) is based in \(exporter.country), not \(exporting)",
                                pointer: "/body/exportingCountry", logIndex: exporter.registeredAt)
        }
        let (importerID, issued, expires) = try importerAndDates(importing: importing)
        _ = try body.commitment("valueCommitment")
        let ids = try body.ids("parcels")
        var parcels: [Parcel] = []
        for (i, id) in ids.enumerated() {
            let p = try usableParcel(id, pointer: "/body/parcels/\(i)")
            guard p.form == .rough else {
                throw RuleViolation("kp.rough", .conflict, "the KP certifies rough; \(id) is polished", pointer: "/body/parcels/\(i)")
            }
            parcels.append(p)
        }
        let carats = try body.integer("carats", in: 1...JSONValue.maxSafeInteger)
        let sum = total(parcels.lazy.map(\.carats))
        guard carats == sum else {
            throw RuleViolation("kp.carats", .conflict, "certificate states \(carats) points; its parcels weigh \(describe(total: sum))",
                                pointer: "/body/carats")
        }
        for var p in parcels {
            p.status = .inTransit
            p.pending = index
            touch(p)
        }
        changes.append(.certificate(Certificate(number: number, exportingCountry: exporting, importingCountry: importing,
                                                exporter: exporter.id, importer: importerID, parcels: ids, carats: carats,
                                                issuedOn: issued, expiresOn: expires, exportedAt: index)))
    }

    /// The certificate number, exporting and importing countries of a new certificate: the number is new to
    /// the log and starts with the exporting country, and the two countries differ.
    func newCertificate() throws -> (number: String, exporting: String, importing: String) {
        let number = try body.certificateNumber("certificate")
        let exporting = try body.country("exportingCountry")
        let importing = try body.country("importingCountry")
        guard number.hasPrefix(exporting + "-") else {
            throw RuleViolation("kp.certificate-number", .invalid, "certificate \(number) must start with the exporting country \(exporting)-",
                                pointer: "/body/certificate")
        }
        if let existing = try state.certificate(number) {
            throw RuleViolation("kp.certificate-unique", .conflict, "certificate \(number) was already used", pointer: "/body/certificate",
                                logIndex: existing.exportedAt)
        }
        guard exporting != importing else {
            throw RuleViolation("kp.countries", .invalid, "exporting and importing countries are the same", pointer: "/body/importingCountry")
        }
        return (number, exporting, importing)
    }

    func certificate() throws -> Certificate {
        let number = try body.certificateNumber("certificate")
        guard let c = try state.certificate(number) else {
            throw RuleViolation("kp.certificate-unknown", .conflict, "certificate \(number) was never exported", pointer: "/body/certificate")
        }
        return c
    }

    func authority(of country: String) throws -> Participant {
        let authority = try signer(.kpAuthority)
        guard authority.country == country else {
            throw RuleViolation("kp.authority-country", .forbidden, "\(authority.id) is the KP authority of \(authority.country), not \(country)",
                                pointer: "/body/signer", logIndex: authority.registeredAt)
        }
        return authority
    }

    mutating func kpValidate() throws {
        var c = try certificate()
        _ = try authority(of: c.exportingCountry)
        try requireNotReturned(c)
        guard c.validatedAt == nil else {
            throw RuleViolation("kp.validated", .conflict, "certificate \(c.number) is already validated", pointer: "/body/certificate", logIndex: c.validatedAt)
        }
        c.validatedAt = index
        changes.append(.certificate(c))
        for id in c.parcels { changes.append(.parcelEvent(parcel: id, index: index)) }
    }

    mutating func kpImport() throws {
        var c = try certificate()
        _ = try authority(of: c.importingCountry)
        try requireNotReturned(c)
        guard let validated = c.validatedAt else {
            throw RuleViolation("kp.not-validated", .conflict, "certificate \(c.number) was not validated by \(c.exportingCountry)'s KP authority",
                                pointer: "/body/certificate", logIndex: c.exportedAt)
        }
        guard c.importedAt == nil else {
            throw RuleViolation("kp.imported", .conflict, "certificate \(c.number) was already imported", pointer: "/body/certificate", logIndex: c.importedAt)
        }
        let received = try body.date("receivedOn")
        guard received <= c.expiresOn else {
            throw RuleViolation("kp.expired", .conflict, "certificate \(c.number) expired on \(c.expiresOn)", pointer: "/body/receivedOn", logIndex: validated)
        }
        let ids = try body.ids("parcels")
        guard Set(ids) == Set(c.parcels) else {
            throw RuleViolation("kp.parcels", .conflict, "the import lists other parcels than the export", pointer: "/body/parcels", logIndex: c.exportedAt)
        }
        let carats = try body.integer("carats", in: 1...JSONValue.maxSafeInteger)
        guard carats == c.carats else {
            throw RuleViolation("kp.carats", .conflict, "the import states \(carats) points; the export \(c.carats)", pointer: "/body/carats",
                                logIndex: c.exportedAt)
        }
        try receive(c.parcels, sentAt: c.exportedAt, by: c.importer, pointer: "/body/parcels")
        c.importedAt = index
        changes.append(.certificate(c))
    }

    /// `kp.return`: rough whose certificate expired in transit goes back to the exporter. Signed by the exporting
    /// country's KP authority; the certificate was exported (validated or not) and never imported, and the
    /// return date is after its expiry (and not after the event's own day, so a future date cannot fake an
    /// expiry). The certificate is closed: no validation or import can follow.
    mutating func kpReturn() throws {
        var c = try certificate()
        _ = try authority(of: c.exportingCountry)
        if let imported = c.importedAt {
            throw RuleViolation("kp.imported", .conflict, "certificate \(c.number) was imported: its rough crossed the border and cannot be returned",
                                pointer: "/body/certificate", logIndex: imported)
        }
        try requireNotReturned(c)
        let returned = try body.date("returnedOn")
        guard returned > c.expiresOn else {
            throw RuleViolation("kp.not-expired", .conflict,
                                "certificate \(c.number) is valid until \(c.expiresOn); rough is returned only after its certificate expired in transit",
                                pointer: "/body/returnedOn", logIndex: c.exportedAt)
        }
        let today = Self.day(ofMillis: facts.occurredAt)
        guard returned <= today else {
            throw RuleViolation("kp.return-date", .invalid, "returnedOn \(returned) is later than the event's own day \(today)",
                                pointer: "/body/returnedOn")
        }
        _ = try body.text("reason")
        try receive(c.parcels, sentAt: c.exportedAt, by: c.exporter, pointer: "/body/certificate")
        c.returnedAt = index
        changes.append(.certificate(c))
    }

    /// Fails if the certificate's rough was returned to the exporter (the certificate is closed).
    func requireNotReturned(_ c: Certificate) throws {
        if let returned = c.returnedAt {
            throw RuleViolation("kp.returned", .conflict, "certificate \(c.number) expired in transit and its rough was returned to \(c.exporter)",
                                pointer: "/body/certificate", logIndex: returned)
        }
    }

    /// The UTC day (`YYYY-MM-DD`) of a time in milliseconds since the epoch (days_from_civil inverted, after
    /// Howard Hinnant), so a date field can be compared with the event's `occurredAt` as text.
    static func day(ofMillis millis: Int64) -> String {
        let z = Int(millis / 86_400_000 - (millis % 86_400_000 < 0 ? 1 : 0)) + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func pad(_ n: Int, _ width: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    /// Rough arriving under a KP certificate whose export is not in this log (the exporting country does not
    /// use it). The importing authority records the certificate and the parcels enter the log here, in the
    /// importer's custody, with only the certificate's declared origin: projections mark them as having no
    /// extraction history.
    mutating func kpImportExternal() throws {
        _ = try authority(of: try body.country("importingCountry"))
        let (number, exporting, importing) = try newCertificate()
        _ = try body.string("exporterName", length: 1...200)
        let origin = try body.string("origin")
        guard origin == "mixed" || Identifiers.isCountry(origin) else {
            throw RuleViolation("kp.origin", .invalid, "origin must be an ISO 3166-1 alpha-2 country or \"mixed\"", pointer: "/body/origin")
        }
        let (importerID, issued, expires) = try importerAndDates(importing: importing)
        let received = try body.date("receivedOn")
        guard received <= expires else {
            throw RuleViolation("kp.expired", .conflict, "certificate \(number) expired on \(expires)", pointer: "/body/receivedOn")
        }
        _ = try body.commitment("valueCommitment")
        var ids: [String] = []
        var weights: [Int64] = []
        var listed = Set<String>()
        for (i, item) in try body.objects("parcels").enumerated() {
            try item.closed(to: ["parcel", "carats", "stones"])
            let id = try item.id("parcel")
            try requireNewParcel(id, pointer: "/body/parcels/\(i)/parcel")
            guard listed.insert(id).inserted else {
                throw RuleViolation("parcel.duplicate", .invalid, "parcel \(id) is listed twice", pointer: "/body/parcels/\(i)/parcel")
            }
            let carats = try item.integer("carats", in: 1...JSONValue.maxSafeInteger)
            let stones = try item.integer("stones", in: 1...JSONValue.maxSafeInteger)
            ids.append(id)
            weights.append(carats)
            create(id, form: .rough, carats: carats, stones: stones, custodian: importerID)
        }
        let carats = try body.integer("carats", in: 1...JSONValue.maxSafeInteger)
        let sum = total(weights)
        guard carats == sum else {
            throw RuleViolation("kp.carats", .conflict, "certificate states \(carats) points; its parcels weigh \(describe(total: sum))",
                                pointer: "/body/carats")
        }
        changes.append(.certificate(Certificate(number: number, exportingCountry: exporting, importingCountry: importing,
                                                exporter: "", importer: importerID, parcels: ids, carats: carats,
                                                issuedOn: issued, expiresOn: expires, exportedAt: index, validatedAt: index, importedAt: index)))
    }
}

extension RuleContext {
    /// A certificate's importer, who must be a registered importer in the importing country, and its dates,
    /// the expiry after the issue: what an export and an import from outside the log both state.
    func importerAndDates(importing: String) throws -> (importer: String, issued: String, expires: String) {
        let importerID = try body.participantID("importer")
        let importer = try participant(importerID, pointer: "/body/importer")
        guard importer.has(.importer), importer.country == importing else {
            throw RuleViolation("kp.importer", .conflict, "\(importerID) is not an importer in \(importing)", pointer: "/body/importer",
                                logIndex: importer.registeredAt)
        }
        let issued = try body.date("issuedOn")
        let expires = try body.date("expiresOn")
        guard expires > issued else {
            throw RuleViolation("kp.dates", .invalid, "expiresOn must be after issuedOn", pointer: "/body/expiresOn")
        }
        return (importerID, issued, expires)
    }
}
