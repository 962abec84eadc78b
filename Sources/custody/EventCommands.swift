import ArgumentParser
import CustodyClient
import CustodyDomain
import CustodyModel
import Foundation

/// Sites, extraction, custody and transformations: one command per event type, built from flags.
extension Custody {
    struct SiteCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "site", abstract: "Register a mine or alluvial site.", subcommands: [Register.self])

        struct Register: EventCommand {
            static let configuration = CommandConfiguration(
                abstract: "Register a site you operate (site.register).",
                discussion: "Example: custody site register --key miner.key --site BW-JW-01 --name Jwaneng --country BW --region \"Southern District\" --lat -24.601 --lon 24.728 --kind industrial")
            @Option(help: "Site id, e.g. BW-JW-01.") var site: String
            @Option(help: "Name of the site.") var name: String
            @Option(help: "ISO 3166-1 alpha-2 country, e.g. BW.") var country: String
            @Option(help: "Region within the country.") var region: String
            @Option(parsing: .unconditional, help: "Latitude in decimal degrees, at most 6 decimals, e.g. -24.601.") var lat: String
            @Option(parsing: .unconditional, help: "Longitude in decimal degrees, at most 6 decimals, e.g. 24.728.") var lon: String
            @Option(help: "Kind of site: \(SiteKind.allCases.map(\.rawValue).joined(separator: ", ")).") var kind: String
            @Option(help: "The operating miner (default: the signer).") var `operator`: String?
            @OptionGroup var event: EventOptions

            func perform() async throws {
                let latE6 = try degreesArgument(lat, flag: "--lat"), lonE6 = try degreesArgument(lon, flag: "--lon")
                let kind = try enumArgument(kind, SiteKind.self, flag: "--kind")
                let operatorID = try `operator` ?? event.signerID()
                try await event.record(try build {
                    try .siteRegister(site: site, name: name, country: country, region: region, latE6: latE6, lonE6: lonE6,
                                      kind: kind, operator: operatorID)
                })
            }
        }
    }

    struct Extract: EventCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a new rough parcel extracted at your site (parcel.extract).",
            discussion: "Example: custody extract --key miner.key --site BW-JW-01 --parcel BW-JW-2026-0001 --carats 1520.50 --stones 3200 --extracted-on 2026-10-01")
        @Option(help: "The site it was extracted at.") var site: String
        @Option(help: "The new parcel's id.") var parcel: String
        @OptionGroup var weight: WeightOptions
        @Option(parsing: .unconditional, help: "Number of stones.") var stones: Int64
        @Option(help: "Day of extraction, YYYY-MM-DD (default: the event's day).") var extractedOn: String?
        @OptionGroup var event: EventOptions

        func perform() async throws {
            let points = try weight.required()
            let day = try dateArgument(extractedOn ?? event.today, flag: "--extracted-on")
            try await event.record(try build {
                try .parcelExtract(parcel: parcel, site: site, carats: points, stones: stones, extractedOn: day)
            })
        }
    }

    struct Transfer: EventCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send parcels to another participant (custody.transfer); they are in transit until accepted.",
            discussion: """
                Commercial terms go into the log only as a salted commitment; the disclosure is written to a file. Rough \
                crosses a border only under a KP certificate (custody kp export).
                Example: custody transfer --key surat.key --parcels LOT-A-S1 --to retail-ny --terms "FOB Mumbai, net 30"
                """)
        @Option(help: "Parcels to send (comma-separated, or repeat the option).") var parcels: [String]
        @Option(help: "The receiving participant.") var to: String
        @Option(help: "Commercial terms as text (committed, not logged in clear).") var terms: String?
        @Option(help: ArgumentHelp("Commercial terms as a JSON value, e.g. '{\"priceCents\":690000,\"paymentDays\":30}'.", valueName: "json"))
        var termsJson: String?
        @OptionGroup var event: EventOptions

        func perform() async throws {
            var clear: JSONValue?
            switch (terms, termsJson) {
            case (let text?, nil): clear = .string(text)
            case (nil, let text?):
                do { clear = try JSONParser.parse(Array(text.utf8)) } catch { throw ValidationError("--terms-json: \(error)") }
            case (.some, .some): throw ValidationError("give --terms or --terms-json, not both")
            case (nil, nil): clear = nil
            }
            try await event.record(try build { try .custodyTransfer(parcels: idList(parcels), to: to, terms: clear) })
        }
    }

    struct Accept: EventCommand {
        static let configuration = CommandConfiguration(
            abstract: "Accept a transfer addressed to you (custody.accept); custody passes to you.",
            discussion: "Example: custody accept --key retail.key --transfer 24")
        @Option(parsing: .unconditional, help: "Log index of the transfer.") var transfer: UInt64
        @OptionGroup var event: EventOptions

        func perform() async throws {
            try await event.record(try build { try .custodyAccept(transfer: transfer) })
        }
    }

    struct Cancel: EventCommand {
        static let configuration = CommandConfiguration(
            abstract: "Withdraw a transfer you sent that is still pending (custody.cancel); its parcels are yours again.",
            discussion: "Example: custody cancel --key surat.key --transfer 24 --reason \"wrong consignee\"")
        @Option(parsing: .unconditional, help: "Log index of the transfer.") var transfer: UInt64
        @Option(help: "Why it is withdrawn.") var reason: String
        @OptionGroup var event: EventOptions

        func perform() async throws {
            try await event.record(try build { try .custodyCancel(transfer: transfer, reason: reason) })
        }
    }

    struct Reject: EventCommand {
        static let configuration = CommandConfiguration(
            abstract: "Refuse a pending transfer addressed to you (custody.reject); its parcels go back to the sender.",
            discussion: "Example: custody reject --key retail.key --transfer 24 --reason \"seal broken on arrival\"")
        @Option(parsing: .unconditional, help: "Log index of the transfer.") var transfer: UInt64
        @Option(help: "Why it is refused.") var reason: String
        @OptionGroup var event: EventOptions

        func perform() async throws {
            try await event.record(try build { try .custodyReject(transfer: transfer, reason: reason) })
        }
    }

    struct Split: EventCommand {
        static let configuration = CommandConfiguration(
            abstract: "Split a parcel you hold into new lots (parcel.split); weights and stones must add up.",
            discussion: "Example: custody split --key trader.key --parcel BW-JW-2026-0001 --output LOT-A=750.00,2500 --output LOT-B=500.00,1700")
        @Option(help: "The parcel to split.") var parcel: String
        @Option(help: ArgumentHelp("A new lot, ID=CARATS,STONES (carats like 750.00, or points like 75000pt); repeat, at least 2.",
                                   valueName: "lot"))
        var output: [String]
        @OptionGroup var event: EventOptions

        func perform() async throws {
            let lots = try output.map { try lotArgument($0, flag: "--output") }
            try await event.record(try build { try .parcelSplit(parcel: parcel, outputs: lots) })
        }
    }

    struct Mix: EventCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mix parcels you hold into one new lot (parcel.mix).",
            discussion: """
                The output's weight and stones default to the inputs' totals, read from the daemon.
                Example: custody mix --key trader.key --inputs LOT-B1,LOT-B2 --output LOT-B3
                """)
        @Option(help: "Parcels to mix (comma-separated, or repeat the option), at least 2.") var inputs: [String]
        @Option(help: ArgumentHelp("The new lot: ID, or ID=CARATS,STONES.", valueName: "lot")) var output: String
        @OptionGroup var event: EventOptions

        func perform() async throws {
            let ids = idList(inputs)
            let lot: EventDraft.Lot
            if output.contains("=") {
                lot = try lotArgument(output, flag: "--output")
            } else {
                let totals = try await parcelTotals(ids, server: event.server, needed: "give --output ID=CARATS,STONES")
                lot = EventDraft.Lot(parcel: output, carats: totals.carats, stones: totals.stones)
            }
            try await event.record(try build { try .parcelMix(inputs: ids, output: lot) })
        }
    }

    struct Assort: EventCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sort a parcel you hold into its individual stones (parcel.assort).",
            discussion: "Example: custody assort --key trader.key --parcel LOT-A-1 --stone LOT-A-1-S1=1.60 --stone LOT-A-1-S2=1.40")
        @Option(help: "The parcel to sort.") var parcel: String
        @Option(help: ArgumentHelp("A stone, ID=CARATS (e.g. S1=1.60, or S1=160pt); one per stone of the parcel.", valueName: "stone"))
        var stone: [String]
        @OptionGroup var event: EventOptions

        func perform() async throws {
            let stones = try stone.map { try stoneArgument($0, flag: "--stone") }
            try await event.record(try build { try .parcelAssort(parcel: parcel, stones: stones) })
        }
    }

    struct Manufacture: EventCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cut rough you hold into polished stones (parcel.manufacture).",
            discussion: "Example: custody manufacture --key surat.key --parcel LOT-A-1 --polished LOT-A-1-S1=0.90 --polished LOT-A-1-S2=0.62")
        @Option(help: "The rough parcel.") var parcel: String
        @Option(help: ArgumentHelp("A polished stone, ID=CARATS (e.g. S1=0.90, or S1=90pt); repeat for each.", valueName: "stone"))
        var polished: [String]
        @OptionGroup var event: EventOptions

        func perform() async throws {
            let stones = try polished.map { try stoneArgument($0, flag: "--polished") }
            try await event.record(try build { try .parcelManufacture(parcel: parcel, polished: stones) })
        }
    }

    struct Grade: EventCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a laboratory's grading report on a polished stone (stone.grade).",
            discussion: """
                The weight defaults to the stone's weight in the log, read from the daemon.
                Example: custody grade --key lab.key --stone LOT-A-1-S1 --report MGL-000451 --color F --clarity VS1 --cut Excellent
                """)
        @Option(help: "The polished stone.") var stone: String
        @Option(help: "The report number.") var report: String
        @OptionGroup var weight: WeightOptions
        @Option(help: "Colour grade, e.g. F.") var color: String
        @Option(help: "Clarity grade, e.g. VS1.") var clarity: String
        @Option(help: "Cut grade, e.g. Excellent.") var cut: String
        @OptionGroup var event: EventOptions

        func perform() async throws {
            var points = try weight.optional()
            if points == nil {
                points = try await parcelTotals([stone], server: event.server, needed: "give the weight with --carats or --points").carats
            }
            let carats = points ?? 0
            try await event.record(try build {
                try .stoneGrade(stone: stone, reportNumber: report, carats: carats, color: color, clarity: clarity, cut: cut)
            })
        }
    }

    struct Sell: EventCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sell a parcel or stone you hold (parcel.sale); its chain ends.",
            discussion: """
                The price goes into the log only as a salted commitment; the disclosure is written to a file.
                Example: custody sell --key retail.key --parcel LOT-A-1-S1 --buyer consumer --price 6900.00
                """)
        @Option(help: "The parcel or stone sold.") var parcel: String
        @Option(help: "The buyer: a participant id, or consumer.") var buyer: String = "consumer"
        @Option(parsing: .unconditional, help: "The price in US dollars, at most 2 decimals (committed, not logged in clear).") var price: String?
        @Option(parsing: .unconditional, help: "The price in US cents, instead of --price.") var priceCents: Int64?
        @OptionGroup var event: EventOptions

        func perform() async throws {
            let cents: Int64?
            switch (price, priceCents) {
            case (let text?, nil): cents = try dollarsArgument(text, flag: "--price")
            case (nil, let n): cents = n
            case (.some, .some): throw ValidationError("give --price or --price-cents, not both")
            }
            try await event.record(try build { try .parcelSale(parcel: parcel, buyer: buyer, priceCents: cents) })
        }
    }
}
