/// A growable buffer of plain values without bounds checks or copy-on-write, reused from row to
/// row by the workbook reader's hot loops. Not thread-safe.
final class GrowableBuffer<Element: BitwiseCopyable> {
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var capacity: Int
    /// Elements in use; may be set back to a smaller value to drop the tail.
    var count = 0

    init(capacity: Int = 4096) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    var buffer: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: base, count: count) }

    /// Makes room for `extra` more elements.
    @inline(__always) func reserve(_ extra: Int) {
        if count + extra > capacity { grow(count + extra) }
    }

    private func grow(_ needed: Int) {
        var c = capacity * 2
        while c < needed { c *= 2 }
        let b = UnsafeMutablePointer<Element>.allocate(capacity: c)
        b.update(from: base, count: count)
        base.deallocate()
        base = b
        capacity = c
    }

    @inline(__always) func append(_ element: Element) {
        if count == capacity { grow(count + 1) }
        base[count] = element
        count += 1
    }

    @inline(__always) func append(_ elements: UnsafeBufferPointer<Element>) {
        guard let src = elements.baseAddress, elements.count > 0 else { return }
        reserve(elements.count)
        (base + count).update(from: src, count: elements.count)
        count += elements.count
    }
}

/// UTF-8 text being built: a cell, a row, the shared strings.
typealias ByteBuffer = GrowableBuffer<UInt8>

extension GrowableBuffer where Element == UInt8 {
    var bytes: UnsafeBufferPointer<UInt8> { buffer }

    func append(_ s: StaticString) {
        append(UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// Appends `v` (0 ... 9999) as `width` digits, zero-padded.
    @inline(__always) func appendDigits(_ v: Int, width: Int) {
        reserve(width)
        var x = v
        var i = width - 1
        while i >= 0 {
            base[count + i] = UInt8(truncatingIfNeeded: 0x30 + x % 10)
            x /= 10
            i -= 1
        }
        count += width
    }
}
