import Foundation

/// Charts drawn by siyu: inline SVG for lines and period bars, HTML for horizontal bars (their
/// labels wrap on a phone). Sizes are viewBox units: an SVG scales with its box.
enum Chart {
    static func num(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    /// A number with at most two decimals and no trailing zeros ("0.25", "1", "1.5"): a tick label.
    static func plain(_ v: Double) -> String {
        var s = String(format: "%.2f", v)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s == "-0" ? "0" : s
    }

    /// Tick values for 0…max: 4–6 round steps.
    static func ticks(_ maxValue: Double) -> [Double] {
        guard maxValue > 0 else { return [0, 1] }
        let raw = maxValue / 4
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw
        return stride(from: 0.0, through: maxValue + step * 0.999, by: step).map { $0 }
    }

    /// Which x labels fit: every `n`-th so that labels are at least `gap` units apart.
    static func labelStride(count: Int, plotWidth: Double, gap: Double) -> Int {
        guard count > 1 else { return 1 }
        let per = plotWidth / Double(count)
        return max(1, Int(ceil(gap / max(per, 1))))
    }

    /// Horizontal grid lines with their labels at the left.
    static func grid(_ ticks: [Double], left: Double, width: Double, y: (Double) -> Double, label: (Double) -> String) -> String {
        var s = ""
        for t in ticks {
            s += "<line class=\"grid\" x1=\"\(num(left))\" x2=\"\(num(left + width))\" y1=\"\(num(y(t)))\" y2=\"\(num(y(t)))\"/>"
            s += "<text class=\"ax\" x=\"\(num(left - 6))\" y=\"\(num(y(t) + 4))\" text-anchor=\"end\">\(esc(label(t)))</text>"
        }
        return s
    }

    /// The category labels under the plot, as many as fit (the year only where it changes).
    static func xLabels(_ labels: [String], plotWidth: Double, baseline: Double, x: (Int) -> Double) -> String {
        let stride = labelStride(count: max(labels.count, 1), plotWidth: plotWidth, gap: 66)
        var s = "", previous: String? = nil
        for (i, l) in labels.enumerated() where i % stride == 0 {
            s += "<text class=\"ax\" x=\"\(num(x(i)))\" y=\"\(num(baseline))\" text-anchor=\"middle\">\(esc(Show.axis(l, first: i == 0, previous: previous)))</text>"
            previous = l
        }
        return s
    }

    /// A series' line: solid up to `cut`, dashed from there (the periods in progress).
    static func line(_ pts: [(Int, Double)], cut: Int?, x: (Int) -> Double, y: (Double) -> Double) -> String {
        let cut = cut ?? Int.max
        func path(_ p: [(Int, Double)]) -> String { p.map { "\(num(x($0.0))),\(num(y($0.1)))" }.joined(separator: " ") }
        let solid = pts.filter { $0.0 <= cut }, dashed = pts.filter { $0.0 >= cut }
        var s = ""
        if solid.count > 1 { s += "<polyline points=\"\(path(solid))\"/>" }
        if dashed.count > 1 { s += "<polyline class=\"dash\" points=\"\(path(dashed))\"/>" }
        return s
    }

}

/// Lines over categories (periods, offsets) with a percentage axis.
struct LineChart {
    struct Series {
        var name: String
        var values: [Double?]
        var cls: String
        /// Hover text of the line.
        var tip: String
        /// Points from this index on are in progress: drawn dashed.
        var dashedFrom: Int? = nil
        /// Hover text per point (nil: no point marks).
        var pointTips: [String?]? = nil
        /// A label at the line's end.
        var endLabel: String? = nil
    }
    var xLabels: [String]
    var series: [Series]
    var aria: String
    var yMax: Double = 1
    var width = 520.0, height = 250.0

    func render() -> String {
        let left = 44.0, right = 70.0, top = 12.0, bottom = 30.0
        let pw = width - left - right, ph = height - top - bottom
        let n = max(xLabels.count, 1)
        func x(_ i: Int) -> Double { n == 1 ? left + pw / 2 : left + pw * Double(i) / Double(n - 1) }
        let maxV = max(yMax, series.flatMap { $0.values.compactMap { $0 } }.max() ?? 0, 0.0001)
        let ticks = Chart.ticks(maxV)
        let top100 = ticks.last ?? 1
        func y(_ v: Double) -> Double { top + ph * (1 - v / top100) }
        var s = "<svg class=\"chart line\" role=\"img\" aria-label=\"\(esc(aria))\" viewBox=\"0 0 \(Chart.num(width)) \(Chart.num(height))\" xmlns=\"http://www.w3.org/2000/svg\">"
        s += Chart.grid(ticks, left: left, width: pw, y: y) { "\(Chart.num($0 * 100))%" }
        s += Chart.xLabels(xLabels, plotWidth: pw, baseline: height - 10, x: x)
        var ends: [(x: Double, y: Double, text: String, cls: String)] = []
        for se in series {
            let pts = se.values.enumerated().compactMap { i, v in v.map { (i, $0) } }
            guard !pts.isEmpty else { continue }
            let cut = se.dashedFrom ?? Int.max
            s += "<g class=\"\(esc(se.cls))\" data-tip=\"\(esc(se.tip))\">" + Chart.line(pts, cut: se.dashedFrom, x: x, y: y)
            if let tips = se.pointTips {
                for (i, v) in pts where i < tips.count {
                    guard let t = tips[i] else { continue }
                    s += "<circle\(i >= cut ? " class=\"open\"" : "") cx=\"\(Chart.num(x(i)))\" cy=\"\(Chart.num(y(v)))\" r=\"3.5\" data-tip=\"\(esc(t))\"/>"
                }
            }
            if let label = se.endLabel, let last = pts.last { ends.append((x(last.0) + 6, y(last.1) + 4, label, se.cls)) }
            s += "</g>"
        }
        // End labels pushed apart so that none covers another.
        ends.sort { $0.y < $1.y }
        for i in ends.indices.dropFirst() where ends[i].y - ends[i - 1].y < 13 { ends[i].y = ends[i - 1].y + 13 }
        for e in ends { s += "<text class=\"end \(esc(e.cls))\" x=\"\(Chart.num(e.x))\" y=\"\(Chart.num(e.y))\">\(esc(e.text))</text>" }
        return s + "</svg>"
    }
}

/// Buyers per period as stacked bars (new below, returning above) and, below them, rates as lines.
struct PeriodChart {
    var labels: [String]
    var new: [Int]
    var returning: [Int]
    var partial: [Bool]
    var tips: [String]
    var rates: [LineChart.Series]
    var aria: String

    func render() -> String {
        let width = 520.0, left = 44.0, right = 12.0, barTop = 12.0, barH = 150.0, gap = 26.0, rateH = 90.0, bottom = 28.0
        let height = barTop + barH + gap + rateH + bottom
        let pw = width - left - right
        let n = max(labels.count, 1)
        let slot = pw / Double(n), bw = max(2, slot * 0.72)
        let maxB = max(1, zip(new, returning).map { $0 + $1 }.max() ?? 1)
        let bticks = Chart.ticks(Double(maxB)).map { $0.rounded() }
        let btop = bticks.last ?? Double(maxB)
        func by(_ v: Double) -> Double { barTop + barH * (1 - v / btop) }
        var s = "<svg class=\"chart period\" role=\"img\" aria-label=\"\(esc(aria))\" viewBox=\"0 0 \(Chart.num(width)) \(Chart.num(height))\" xmlns=\"http://www.w3.org/2000/svg\">"
        s += Chart.grid(Set(bticks).sorted(), left: left, width: pw, y: by) { Show.count(Int($0)) }
        for i in 0..<labels.count {
            let x = left + slot * Double(i) + (slot - bw) / 2
            let a = Double(new[i]), b = Double(returning[i])
            let cls = partial[i] ? " inc" : ""
            s += "<g class=\"pbar\(cls)\" data-tip=\"\(esc(tips[i]))\">"
            s += "<rect class=\"new\" x=\"\(Chart.num(x))\" y=\"\(Chart.num(by(a)))\" width=\"\(Chart.num(bw))\" height=\"\(Chart.num(max(0, barTop + barH - by(a))))\"/>"
            s += "<rect class=\"ret\" x=\"\(Chart.num(x))\" y=\"\(Chart.num(by(a + b)))\" width=\"\(Chart.num(bw))\" height=\"\(Chart.num(max(0, by(a) - by(a + b))))\"/>"
            s += "<rect class=\"hit\" x=\"\(Chart.num(left + slot * Double(i)))\" y=\"\(Chart.num(barTop))\" width=\"\(Chart.num(slot))\" height=\"\(Chart.num(barH + gap + rateH))\"/>"
            s += "</g>"
        }
        // Rates below, on their own percentage axis.
        let rtop = barTop + barH + gap
        let maxR = max(0.1, rates.flatMap { $0.values.compactMap { $0 } }.max() ?? 0.1)
        let rticks = Chart.ticks(maxR)
        let rmax = rticks.last ?? 1
        func ry(_ v: Double) -> Double { rtop + rateH * (1 - v / rmax) }
        s += Chart.grid(rticks, left: left, width: pw, y: ry) { "\(Chart.num($0 * 100))%" }
        func cx(_ i: Int) -> Double { left + slot * (Double(i) + 0.5) }
        for se in rates {
            let pts = se.values.enumerated().compactMap { i, v in v.map { (i, $0) } }
            let cut = se.dashedFrom ?? Int.max
            s += "<g class=\"\(esc(se.cls))\">" + Chart.line(pts, cut: se.dashedFrom, x: cx, y: ry)
            if pts.count <= 40 { for (i, v) in pts { s += "<circle\(i >= cut ? " class=\"open\"" : "") cx=\"\(Chart.num(cx(i)))\" cy=\"\(Chart.num(ry(v)))\" r=\"2.5\"/>" } }
            s += "</g>"
        }
        s += Chart.xLabels(labels, plotWidth: pw, baseline: height - 10, x: cx)
        return s + "</svg>"
    }
}

/// Vertical bars per category, one or a few series side by side, on a number axis that starts at
/// 0: prediction_check's predicted against actual per calibration frequency, the cohorts' predicted
/// value. Each category is one hover target naming all its values; the values are also printed
/// above the bars when they fit (not on a phone: the table under the chart has them).
struct ColumnChart {
    struct Series {
        var name: String
        var cls: String
        var values: [Double?]
        /// The values as printed above the bars (nil: none printed).
        var texts: [String]? = nil
    }
    var labels: [String]
    var series: [Series]
    /// Hover text per category.
    var tips: [String]
    var aria: String
    /// Tick labels of the value axis.
    var axis: (Double) -> String
    /// The labels are periods: shortened like the other charts' ("03" where the year repeats).
    var periods = false
    /// Categories drawn pale (too few customers to read much into).
    var faint: Set<Int> = []
    /// What the categories are, under their labels.
    var xTitle: String? = nil
    var width = 520.0, height = 230.0

    func render() -> String {
        let left = 50.0, right = 10.0, top = 16.0
        let bottom = xTitle == nil ? 26.0 : 42.0
        let pw = width - left - right, ph = height - top - bottom
        let n = max(labels.count, 1), k = max(series.count, 1)
        let slot = pw / Double(n), group = min(slot * (k == 1 ? 0.72 : 0.8), 56 * Double(k)), bw = max(1.5, group / Double(k))
        let maxV = max(series.flatMap { $0.values.compactMap { $0 } }.max() ?? 0, 1e-9)
        let ticks = Chart.ticks(maxV)
        let topV = ticks.last ?? maxV
        func y(_ v: Double) -> Double { top + ph * (1 - v / topV) }
        let baseline = top + ph
        var s = "<svg class=\"chart cols\" role=\"img\" aria-label=\"\(esc(aria))\" viewBox=\"0 0 \(Chart.num(width)) \(Chart.num(height))\" xmlns=\"http://www.w3.org/2000/svg\">"
        s += Chart.grid(ticks, left: left, width: pw, y: y, label: axis)
        // Values above the bars only where every one fits its bar (about 6 units a character).
        let printable = series.allSatisfy { se in (se.texts ?? []).allSatisfy { Double($0.count) * 6 <= max(bw, slot / Double(k)) } }
        for i in 0..<labels.count {
            let x0 = left + slot * Double(i)
            s += "<g class=\"cgrp\(faint.contains(i) ? " small" : "")\" data-tip=\"\(esc(i < tips.count ? tips[i] : labels[i]))\">"
            s += "<rect class=\"hit\" x=\"\(Chart.num(x0))\" y=\"\(Chart.num(top))\" width=\"\(Chart.num(slot))\" height=\"\(Chart.num(ph))\"/>"
            for (j, se) in series.enumerated() {
                guard i < se.values.count, let v = se.values[i] else { continue }
                let x = x0 + (slot - group) / 2 + bw * Double(j)
                let h = max(0, baseline - y(v))
                s += "<rect class=\"\(esc(se.cls))\" x=\"\(Chart.num(x))\" y=\"\(Chart.num(baseline - h))\" width=\"\(Chart.num(bw))\" height=\"\(Chart.num(h))\"/>"
                if printable, let texts = se.texts, i < texts.count, !texts[i].isEmpty {
                    s += "<text class=\"val\" x=\"\(Chart.num(x + bw / 2))\" y=\"\(Chart.num(baseline - h - 3))\" text-anchor=\"middle\">\(esc(texts[i]))</text>"
                }
            }
            s += "</g>"
        }
        s += "<line class=\"base\" x1=\"\(Chart.num(left))\" x2=\"\(Chart.num(left + pw))\" y1=\"\(Chart.num(baseline))\" y2=\"\(Chart.num(baseline))\"/>"
        func cx(_ i: Int) -> Double { left + slot * (Double(i) + 0.5) }
        if periods {
            s += Chart.xLabels(labels, plotWidth: pw, baseline: baseline + 16, x: cx)
        } else {
            let stride = Chart.labelStride(count: n, plotWidth: pw, gap: Double(labels.map(\.count).max() ?? 1) * 7 + 6)
            for (i, l) in labels.enumerated() where i % stride == 0 {
                s += "<text class=\"ax\" x=\"\(Chart.num(cx(i)))\" y=\"\(Chart.num(baseline + 16))\" text-anchor=\"middle\">\(esc(l))</text>"
            }
        }
        if let xTitle { s += "<text class=\"ax\" x=\"\(Chart.num(left + pw / 2))\" y=\"\(Chart.num(height - 6))\" text-anchor=\"middle\">\(esc(xTitle))</text>" }
        return s + "</svg>"
    }
}

/// Horizontal bars in HTML: label, bar, value and a note; on a phone the label takes its own line.
struct Bars {
    struct Bar {
        var label: String
        var value: Double?
        var text: String
        var note: String = ""
        var cls: String = ""
        var tip: String = ""
    }
    var bars: [Bar]
    var aria: String
    var maxValue: Double? = nil

    func render() -> String {
        let top = maxValue ?? max(bars.compactMap(\.value).max() ?? 1, 1e-9)
        var h = "<div class=\"bars\" role=\"img\" aria-label=\"\(esc(aria))\">"
        for b in bars {
            let pct = b.value.map { max(0.5, min(100, $0 / top * 100)) }
            h += "<div class=\"bar-row \(esc(b.cls))\"\(b.tip.isEmpty ? "" : " data-tip=\"\(esc(b.tip))\"")>"
            h += "<span class=\"bar-label\">\(esc(b.label))</span><span class=\"bar-track\">"
            if let pct { h += "<span class=\"bar\" style=\"width:\(Chart.num(pct))%\"></span>" }
            h += "</span><span class=\"bar-val\">\(esc(b.text))</span>"
            if !b.note.isEmpty { h += "<span class=\"bar-note\">\(esc(b.note))</span>" }
            h += "</div>"
        }
        return h + "</div>"
    }
}

/// A legend line: coloured keys and their meaning.
func legend(_ items: [(cls: String, label: String)]) -> String {
    "<div class=\"legend\">" + items.map { "<span><i class=\"key \(esc($0.cls))\"></i>\(esc($0.label))</span>" }.joined() + "</div>"
}
