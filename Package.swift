// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "siyu",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "siyu", targets: ["siyu"]),
        .library(name: "SiyuCore", targets: ["SiyuCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        .systemLibrary(name: "CCSV", path: "Sources/CCSV", providers: [.apt(["libcsv-dev"])]),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CIconv", path: "Sources/CIconv"),
        // libxml2's SAX2 push parser: .xlsx sheets are parsed as they inflate (only XMLPushParser.swift imports it).
        .systemLibrary(name: "CLibXML2", path: "Sources/CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        // libxlsxwriter: report.xlsx, a sheet per output (only Output/Report/ReportWorkbook.swift imports it).
        .systemLibrary(name: "CXLSXWriter", path: "Sources/CXLSXWriter", pkgConfig: "xlsxwriter", providers: [.apt(["libxlsxwriter-dev"])]),
        // SHA-256 with the x86 SHA instructions when the CPU has them (file hashing at ingest).
        .target(name: "CSHA256", path: "Sources/CSHA256"),
        .target(
            name: "SiyuCore",
            dependencies: [
                "CCSV", "CSQLite", "CIconv", "CSHA256", "CLibXML2", "CXLSXWriter",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            // The CSV callbacks touch parser state millions of times: dynamic exclusivity checks
            // cost ~10% of ingest (measured with perf); the code keeps that state single-threaded.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])]
        ),
        .executableTarget(
            name: "siyu",
            dependencies: [
                "SiyuCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "SiyuCoreTests", dependencies: ["SiyuCore", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
    ]
)
