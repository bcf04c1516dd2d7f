import Foundation
import XCTest
@testable import SiyuCore

/// The entry-product ranking of the page (issue 16): a small product cannot outrank a large one
/// on noise alone. Expected bounds from the Wilson formula computed independently in Python
/// (`(p + z²/2n − z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n)`, z = 1.959964).
final class ProductSectionTests: XCTestCase {
    func testWilsonLowerBound() {
        XCTAssertEqual(ProductSection.wilsonLower(36, 50), 0.583349, accuracy: 1e-6)
        XCTAssertEqual(ProductSection.wilsonLower(1200, 3000), 0.382608, accuracy: 1e-6)
        XCTAssertEqual(ProductSection.wilsonLower(12, 12), 0.757506, accuracy: 1e-6)
        XCTAssertEqual(ProductSection.wilsonLower(0, 0), 0)
    }

    func testRankingNeedsCustomersAndUsesTheLowerBound() {
        let columns = ["product", "title", "acquisition_platform", "first_customers", "eligible_90d", "repeat_customers_90d", "repeat_rate_90d",
                       "eligible_180d", "repeat_customers_180d", "repeat_rate_180d", "next_product", "next_product_customers"]
        let t = OutputTable(name: "product_repurchase", columns: columns, rows: [
            ["SMALL", "小样", "all", "12", "12", "12", "1.0000", "0", "0", "", "", "0"],          // 100 % of 12: below the minimum of 30
            ["BIG", "大瓶", "all", "3000", "3000", "1200", "0.4000", "0", "0", "", "SMALL", "300"],   // lower bound 0.3826
            ["MID", "中瓶", "all", "30", "30", "20", "0.6667", "0", "0", "", "", "0"],                // 66.7 % of 30: lower bound 0.4878
            ["(unknown)", "", "all", "500", "500", "400", "0.8000", "0", "0", "", "", "0"],          // no product to recommend
        ])
        let ranked = ProductSection.ranked(t.records).map { $0.row["product"] }
        XCTAssertEqual(ranked, ["MID", "BIG"])
    }
}
