import CustodyModel
/// Sites, extraction, custody moves and transformations.
extension RuleContext {
    mutating func registerSite() throws {
        let signer = try signer(.miner, .registrar)
        let id = try body.id("site")
        if let existing = try state.site(id) {
            throw RuleViolation("site.exists", .conflict, "site \(id) is already registered", pointer: "/body/site", logIndex: existing.registeredAt)
        }
        let operatorID = try body.participantID("operator")
        let op = try participant(operatorID, pointer: "/body/operator")
        guard op.has(.miner) else {
            throw RuleViolation("role", .conflict, "operator \(operatorID) does not hold the miner role", pointer: "/body/operator", logIndex: op.registeredAt)
        }
        guard signer.has(.registrar) || operatorID == signer.id else {
            throw RuleViolation("site.operator", .forbidden, "a miner may register only sites it operates", pointer: "/body/operator")
        }
        changes.append(.site(Site(
            id: id, name: try body.text("name"), country: try body.country("country"), region: try body.text("region"),
            latE6: try body.integer("latE6", in: Site.latE6Range), lonE6: try body.integer("lonE6", in: Site.lonE6Range),
            kind: try body.oneOf("kind", SiteKind.self), operatorID: operatorID, registeredAt: index)))
    }

    mutating func extract() throws {
        _ = try signer(.miner)
        let siteID = try body.id("site")
        guard let site = try state.site(siteID) else {
            throw RuleViolation("site.unknown", .conflict, "site \(siteID) is not registered", pointer: "/body/site")
        }
        guard site.operatorID == facts.signer else {
            throw RuleViolation("site.operator", .forbidden, "site \(siteID) is operated by \(site.operatorID)", pointer: "/body/site", logIndex: site.registeredAt)
        }
        let id = try body.id("parcel")
        try requireNewParcel(id, pointer: "/body/parcel")
        let carats = try body.integer("carats", in: 1...JSONValue.maxSafeInteger)
        let stones = try body.integer("stones", in: 1...JSONValue.maxSafeInteger)
        _ = try body.date("extractedOn")
        create(id, form: .rough, carats: carats, stones: stones, custodian: facts.signer)
    }

    mutating func transfer() throws {
        let ids = try body.ids("parcels")
        let to = try body.participantID("to")
        let receiver = try participant(to, pointer: "/body/to")
        let sender = try signer()
        guard to != facts.signer else {
            throw RuleViolation("custody.self", .invalid, "a transfer must go to another participant", pointer: "/body/to")
        }
        _ = try body.optionalCommitment("termsCommitment")
        for (i, id) in ids.enumerated() {
            var p = try usableParcel(id, pointer: "/body/parcels/\(i)")
            // Rough crosses borders only under a KP certificate.
            guard p.form == .polished || receiver.country == sender.country else {
                throw RuleViolation("kp.border", .conflict,
                                    "rough parcel \(id) would cross from \(sender.country) to \(receiver.country) without a KP certificate; use kp.export",
                                    pointer: "/body/parcels/\(i)", logIndex: p.lastIndex)
            }
            p.status = .inTransit
            p.pending = index
            touch(p)
        }
        changes.append(.transfer(Transfer(index: index, sender: facts.signer, receiver: to, parcels: ids)))
    }

    mutating func accept() throws {
        _ = try signer()
        var t = try namedTransfer()
        try requireReceiver(t)
        try requirePending(t)
        try receive(t.parcels, sentAt: t.index, by: facts.signer, pointer: "/body/transfer")
        t.acceptedAt = index
        changes.append(.transfer(t))
    }

    /// `custody.cancel`: the sender withdraws a pending transfer; its parcels are active again in the sender's custody.
    mutating func cancel() throws {
        _ = try signer()
        var t = try namedTransfer()
        guard t.sender == facts.signer else {
            throw RuleViolation("custody.sender", .forbidden, "only the sender \(t.sender) may cancel the transfer at \(t.index)",
                                pointer: "/body/transfer", logIndex: t.index)
        }
        try requirePending(t)
        _ = try body.text("reason")
        try receive(t.parcels, sentAt: t.index, by: t.sender, pointer: "/body/transfer")
        t.cancelledAt = index
        changes.append(.transfer(t))
    }

    /// `custody.reject`: the receiver refuses a pending transfer; its parcels are active again in the sender's custody.
    mutating func reject() throws {
        _ = try signer()
        var t = try namedTransfer()
        try requireReceiver(t)
        try requirePending(t)
        _ = try body.text("reason")
        try receive(t.parcels, sentAt: t.index, by: t.sender, pointer: "/body/transfer")
        t.rejectedAt = index
        changes.append(.transfer(t))
    }

    /// Only a transfer's receiver accepts or rejects it.
    func requireReceiver(_ t: Transfer) throws {
        guard t.receiver == facts.signer else {
            throw RuleViolation("custody.receiver", .forbidden, "the transfer at \(t.index) is addressed to \(t.receiver)", pointer: "/body/transfer",
                                logIndex: t.index)
        }
    }

    /// The custody transfer the body's `transfer` names.
    func namedTransfer() throws -> Transfer {
        let at = try body.logIndex("transfer")
        guard let t = try state.transfer(at: at) else {
            throw RuleViolation("custody.no-transfer", .conflict, "there is no custody transfer at index \(at)", pointer: "/body/transfer")
        }
        return t
    }

    /// Fails unless the transfer still awaits its receiver: not accepted, cancelled or rejected.
    func requirePending(_ t: Transfer) throws {
        if let at = t.acceptedAt {
            throw RuleViolation("custody.accepted", .conflict, "the transfer at \(t.index) was already accepted", pointer: "/body/transfer", logIndex: at)
        }
        if let at = t.cancelledAt {
            throw RuleViolation("custody.cancelled", .conflict, "the transfer at \(t.index) was cancelled by its sender", pointer: "/body/transfer",
                                logIndex: at)
        }
        if let at = t.rejectedAt {
            throw RuleViolation("custody.rejected", .conflict, "the transfer at \(t.index) was rejected by its receiver", pointer: "/body/transfer",
                                logIndex: at)
        }
    }

    /// Hands parcels held in transit by the transfer or export at `sentAt` to `custodian`: the receiver on an
    /// acceptance or import, the sender or exporter again when the shipment is cancelled, rejected or returned.
    mutating func receive(_ ids: [String], sentAt: UInt64, by custodian: String, pointer: String) throws {
        for id in ids {
            guard var p = try state.parcel(id), p.pending == sentAt, p.status == .inTransit else { continue }
            try checkOrder(p, pointer: pointer)
            p.status = .active
            p.pending = nil
            p.custodian = custodian
            touch(p)
        }
    }

    mutating func split() throws {
        _ = try signer(.trader, .exporter, .importer, .manufacturer, .miner)
        var input = try usableParcel(try body.id("parcel"), pointer: "/body/parcel")
        let outs = try outputs(try body.objects("outputs", minimum: 2), idKey: "parcel", stonesKey: "stones")
        let carats = total(outs.lazy.map(\.carats))
        let stones = total(outs.lazy.map(\.stones))
        guard carats == input.carats else {
            throw RuleViolation("mass-balance.split", .conflict,
                                "outputs weigh \(describe(total: carats)) points; parcel \(input.id) weighs \(input.carats)",
                                pointer: "/body/outputs", logIndex: input.lastIndex)
        }
        guard stones == input.stones else {
            throw RuleViolation("mass-balance.split-stones", .conflict, "outputs hold \(describe(total: stones)) stones; parcel \(input.id) holds \(input.stones)",
                                pointer: "/body/outputs", logIndex: input.lastIndex)
        }
        input.status = .consumed
        touch(input)
        for o in outs { create(o.id, form: input.form, carats: o.carats, stones: o.stones, custodian: facts.signer) }
    }

    mutating func mix() throws {
        _ = try signer(.trader, .exporter, .importer, .manufacturer, .miner)
        let ids = try body.ids("inputs", minimum: 2)
        var inputs: [Parcel] = []
        for (i, id) in ids.enumerated() { inputs.append(try usableParcel(id, pointer: "/body/inputs/\(i)")) }
        guard Set(inputs.map(\.form)).count == 1 else {
            throw RuleViolation("mix.form", .conflict, "rough and polished cannot be mixed", pointer: "/body/inputs")
        }
        let output = try body.object("output")
        let out = try outputs([output], idKey: "parcel", stonesKey: "stones")[0]
        let carats = total(inputs.lazy.map(\.carats))
        let stones = total(inputs.lazy.map(\.stones))
        guard out.carats == carats else {
            throw RuleViolation("mass-balance.mix", .conflict, "output weighs \(out.carats) points; inputs weigh \(describe(total: carats))",
                                pointer: "/body/output/carats")
        }
        guard out.stones == stones else {
            throw RuleViolation("mass-balance.mix-stones", .conflict, "output holds \(out.stones) stones; inputs hold \(describe(total: stones))",
                                pointer: "/body/output/stones")
        }
        for var p in inputs {
            p.status = .consumed
            touch(p)
        }
        create(out.id, form: inputs[0].form, carats: out.carats, stones: out.stones, custodian: facts.signer)
    }

    mutating func assort() throws {
        _ = try signer(.trader, .exporter, .importer, .manufacturer, .miner)
        var input = try usableParcel(try body.id("parcel"), pointer: "/body/parcel")
        let outs = try outputs(try body.objects("stones"), idKey: "stone", stonesKey: nil)
        guard Int64(outs.count) == input.stones else {
            throw RuleViolation("mass-balance.assort-stones", .conflict, "\(outs.count) stones listed; parcel \(input.id) holds \(input.stones)",
                                pointer: "/body/stones", logIndex: input.lastIndex)
        }
        let carats = total(outs.lazy.map(\.carats))
        guard carats == input.carats else {
            throw RuleViolation("mass-balance.assort", .conflict, "stones weigh \(describe(total: carats)) points; parcel \(input.id) weighs \(input.carats)",
                                pointer: "/body/stones", logIndex: input.lastIndex)
        }
        input.status = .consumed
        touch(input)
        for o in outs { create(o.id, form: input.form, carats: o.carats, stones: 1, custodian: facts.signer) }
    }

    mutating func manufacture() throws {
        _ = try signer(.manufacturer)
        var input = try usableParcel(try body.id("parcel"), pointer: "/body/parcel")
        guard input.form == .rough else {
            throw RuleViolation("manufacture.rough", .conflict, "parcel \(input.id) is already polished", pointer: "/body/parcel", logIndex: input.createdAt)
        }
        let outs = try outputs(try body.objects("polished"), idKey: "stone", stonesKey: nil)
        let carats = total(outs.lazy.map(\.carats))
        guard let carats, carats <= input.carats else {
            throw RuleViolation("mass-balance.polish", .conflict,
                                "polished weight \(describe(total: carats)) points exceeds the rough's \(input.carats)",
                                pointer: "/body/polished", logIndex: input.lastIndex)
        }
        let floor = try setting(RuleSettings.polishFloorKey, default: settings.polishFloorPercent)
        guard carats * 100 >= input.carats * floor else {
            throw RuleViolation("mass-balance.polish-floor", .conflict,
                                "polished weight \(carats) points is below \(floor)% of the rough's \(input.carats): implausible",
                                pointer: "/body/polished", logIndex: input.lastIndex)
        }
        input.status = .consumed
        touch(input)
        for o in outs { create(o.id, form: .polished, carats: o.carats, stones: 1, custodian: facts.signer) }
    }

    mutating func grade() throws {
        _ = try signer(.laboratory)
        let stoneID = try body.id("stone")
        guard var stone = try state.parcel(stoneID), stone.form == .polished, stone.stones == 1 else {
            throw RuleViolation("grade.stone", .conflict, "\(stoneID) is not a polished stone in the log", pointer: "/body/stone")
        }
        guard stone.status != .consumed else {
            throw RuleViolation("parcel.consumed", .conflict, "stone \(stoneID) was consumed", pointer: "/body/stone", logIndex: stone.lastIndex)
        }
        let report = try body.id("reportNumber")
        if let existing = try state.gradingReport(report) {
            throw RuleViolation("grade.report-exists", .conflict, "report \(report) was already logged", pointer: "/body/reportNumber", logIndex: existing)
        }
        let carats = try body.integer("carats", in: 1...JSONValue.maxSafeInteger)
        guard carats == stone.carats else {
            throw RuleViolation("grade.weight", .conflict, "graded weight \(carats) differs from the stone's \(stone.carats) points",
                                pointer: "/body/carats", logIndex: stone.lastIndex)
        }
        for field in ["color", "clarity", "cut"] { _ = try body.text(field) }
        try checkOrder(stone, pointer: "/body/stone")
        changes.append(.gradingReport(number: report, stone: stoneID, index: index))
        stone.lastIndex = index
        touch(stone)
    }

    mutating func sale() throws {
        _ = try signer(.retailer, .manufacturer, .trader)
        var p = try usableParcel(try body.id("parcel"), pointer: "/body/parcel")
        let buyer = try body.participantID("buyer")
        if buyer != "consumer" { _ = try participant(buyer, pointer: "/body/buyer") }
        _ = try body.optionalCommitment("priceCommitment")
        p.status = .sold
        touch(p)
    }
}
