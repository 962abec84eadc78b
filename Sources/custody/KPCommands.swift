import ArgumentParser
import CustodyClient
import CustodyDomain
import Foundation

/// Kimberley Process certificates: export, validation, import, return.
extension Custody {
    struct KPCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "kp", abstract: "Kimberley Process certificates: export, validate, import, return.",
            subcommands: [Export.self, Validate.self, Import.self, ImportExternal.self, Return.self])

        struct Export: EventCommand {
            static let configuration = CommandConfiguration(
                abstract: "Export rough you hold under a KP certificate (kp.export); the parcels go in transit.",
                discussion: """
                    The value goes into the log only as a salted commitment; the disclosure is written to a file. The \
                    exporting country defaults to the certificate's prefix, the weight to the parcels' total (read from \
                    the daemon), the issue date to the event's day.
                    Example: custody kp export --key miner.key --certificate BW-2026-000123 --importing-country BE --importer antwerp-rough --parcels BW-JW-2026-0001 --value 14250000.00 --expires-on 2027-01-31
                    """)
            @Option(help: "Certificate number, prefixed with the exporting country, e.g. BW-2026-000123.") var certificate: String
            @Option(help: "ISO country of export (default: the certificate's prefix).") var exportingCountry: String?
            @Option(help: "ISO country of import, e.g. BE.") var importingCountry: String
            @Option(help: "The importer (a participant with the importer role there).") var importer: String
            @Option(help: "Parcels exported (comma-separated, or repeat the option).") var parcels: [String]
            @OptionGroup var weight: WeightOptions
            @Option(parsing: .unconditional, help: "Declared value in US dollars, at most 2 decimals (committed, not logged in clear).") var value: String?
            @Option(parsing: .unconditional, help: "Declared value in US cents, instead of --value.") var valueCents: Int64?
            @Option(help: "Issue date, YYYY-MM-DD (default: the event's day).") var issuedOn: String?
            @Option(help: "Expiry date, YYYY-MM-DD.") var expiresOn: String
            @OptionGroup var event: EventOptions

            func perform() async throws {
                let cents: Int64
                switch (value, valueCents) {
                case (let text?, nil): cents = try dollarsArgument(text, flag: "--value")
                case (nil, let n?): cents = n
                case (nil, nil): throw ValidationError("give the declared value with --value (US$) or --value-cents")
                case (.some, .some): throw ValidationError("give --value or --value-cents, not both")
                }
                let ids = idList(parcels)
                var points = try weight.optional()
                if points == nil {
                    points = try await parcelTotals(ids, server: event.server, needed: "give the weight with --carats or --points").carats
                }
                let exporting = exportingCountry ?? String(certificate.prefix(2))
                let issued = try dateArgument(issuedOn ?? event.today, flag: "--issued-on")
                let expires = try dateArgument(expiresOn, flag: "--expires-on")
                let carats = points ?? 0
                try await event.record(try build {
                    try .kpExport(certificate: certificate, exportingCountry: exporting, importingCountry: importingCountry,
                                  importer: importer, parcels: ids, carats: carats, valueCents: cents, issuedOn: issued, expiresOn: expires)
                })
            }
        }

        struct Validate: EventCommand {
            static let configuration = CommandConfiguration(
                abstract: "Validate a KP certificate as the exporting country's authority (kp.validate).",
                discussion: "Example: custody kp validate --key bw-kp.key --certificate BW-2026-000123")
            @Option(help: "Certificate number.") var certificate: String
            @OptionGroup var event: EventOptions

            func perform() async throws {
                try await event.record(try build { try .kpValidate(certificate: certificate) })
            }
        }

        struct Import: EventCommand {
            static let configuration = CommandConfiguration(
                abstract: "Confirm receipt of a KP shipment as the importing country's authority (kp.import).",
                discussion: """
                    Parcels and weight must be the export's; the weight defaults to the parcels' total (read from the \
                    daemon), the receipt date to the event's day. Custody passes to the importer.
                    Example: custody kp import --key be-kp.key --certificate BW-2026-000123 --parcels BW-JW-2026-0001
                    """)
            @Option(help: "Certificate number.") var certificate: String
            @Option(help: "Parcels received (comma-separated, or repeat the option).") var parcels: [String]
            @OptionGroup var weight: WeightOptions
            @Option(help: "Day of receipt, YYYY-MM-DD (default: the event's day).") var receivedOn: String?
            @OptionGroup var event: EventOptions

            func perform() async throws {
                let ids = idList(parcels)
                var points = try weight.optional()
                if points == nil {
                    points = try await parcelTotals(ids, server: event.server, needed: "give the weight with --carats or --points").carats
                }
                let received = try dateArgument(receivedOn ?? event.today, flag: "--received-on")
                let carats = points ?? 0
                try await event.record(try build { try .kpImport(certificate: certificate, parcels: ids, carats: carats, receivedOn: received) })
            }
        }

        struct Return: EventCommand {
            static let configuration = CommandConfiguration(
                commandName: "return",
                abstract: "Return rough whose KP certificate expired in transit to the exporter, as the exporting country's authority (kp.return).",
                discussion: """
                    The certificate must never have been imported and must have expired before the return date (default: \
                    the event's day). It is closed: no import can follow. The parcels are active again in the exporter's custody.
                    Example: custody kp return --key bw-kp.key --certificate BW-2026-000123 --reason "held at customs past expiry"
                    """)
            @Option(help: "Certificate number.") var certificate: String
            @Option(help: "Day the rough was returned, YYYY-MM-DD, after the certificate's expiry (default: the event's day).") var returnedOn: String?
            @Option(help: "Why it came back.") var reason: String
            @OptionGroup var event: EventOptions

            func perform() async throws {
                let returned = try dateArgument(returnedOn ?? event.today, flag: "--returned-on")
                try await event.record(try build { try .kpReturn(certificate: certificate, returnedOn: returned, reason: reason) })
            }
        }

        struct ImportExternal: EventCommand {
            static let configuration = CommandConfiguration(
                commandName: "import-external",
                abstract: "Record rough imported under a certificate whose export is not in this log (kp.import.external).",
                discussion: """
                    Signed by the importing country's KP authority. The parcels enter the log in the importer's custody, \
                    their origin as the certificate declares it. The weight defaults to the parcels' total, the receipt date \
                    to the event's day; the value goes into the log only as a salted commitment.
                    Example: custody kp import-external --key be-kp.key --certificate AE-2026-004411 --importing-country BE --exporter-name "Gulf Rough Trading DMCC" --importer antwerp-rough --origin mixed --parcel AE-2026-004411-1=520.00,1480 --value 2100000.00 --issued-on 2026-02-25 --expires-on 2026-04-26
                    """)
            @Option(help: "Certificate number, prefixed with the exporting country, e.g. AE-2026-004411.") var certificate: String
            @Option(help: "ISO country of export (default: the certificate's prefix).") var exportingCountry: String?
            @Option(help: "ISO country of import, e.g. BE.") var importingCountry: String
            @Option(help: "The exporter's legal name, as on the certificate.") var exporterName: String
            @Option(help: "The importer (a participant with the importer role there).") var importer: String
            @Option(help: "Declared origin: an ISO country, or mixed.") var origin: String
            @Option(help: ArgumentHelp("A parcel received, ID=CARATS,STONES (e.g. AE-1=520.00,1480); repeat for each.", valueName: "lot"))
            var parcel: [String]
            @OptionGroup var weight: WeightOptions
            @Option(parsing: .unconditional, help: "Declared value in US dollars, at most 2 decimals (committed, not logged in clear).") var value: String?
            @Option(parsing: .unconditional, help: "Declared value in US cents, instead of --value.") var valueCents: Int64?
            @Option(help: "Issue date, YYYY-MM-DD.") var issuedOn: String
            @Option(help: "Expiry date, YYYY-MM-DD.") var expiresOn: String
            @Option(help: "Day of receipt, YYYY-MM-DD (default: the event's day).") var receivedOn: String?
            @OptionGroup var event: EventOptions

            func perform() async throws {
                let cents: Int64
                switch (value, valueCents) {
                case (let text?, nil): cents = try dollarsArgument(text, flag: "--value")
                case (nil, let n?): cents = n
                case (nil, nil): throw ValidationError("give the declared value with --value (US$) or --value-cents")
                case (.some, .some): throw ValidationError("give --value or --value-cents, not both")
                }
                let lots = try parcel.map { try lotArgument($0, flag: "--parcel") }
                let carats = try weight.optional() ?? lots.reduce(0) { $0 + $1.carats }
                let exporting = exportingCountry ?? String(certificate.prefix(2))
                let issued = try dateArgument(issuedOn, flag: "--issued-on"), expires = try dateArgument(expiresOn, flag: "--expires-on")
                let received = try dateArgument(receivedOn ?? event.today, flag: "--received-on")
                try await event.record(try build {
                    try .kpImportExternal(certificate: certificate, exportingCountry: exporting, importingCountry: importingCountry,
                                          exporterName: exporterName, importer: importer, origin: origin, parcels: lots, carats: carats,
                                          valueCents: cents, issuedOn: issued, expiresOn: expires, receivedOn: received)
                })
            }
        }
    }
}
