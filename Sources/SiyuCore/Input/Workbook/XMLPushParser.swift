import CLibXML2
import Foundation

/// An element's local name (no prefix) as libxml2 hands it over: NUL-terminated UTF-8, valid only
/// during the callback.
struct XMLName {
    let bytes: UnsafePointer<UInt8>

    /// True when the name is exactly `s` (an ASCII literal).
    @inline(__always) func `is`(_ s: StaticString) -> Bool {
        let q = s.utf8Start
        let n = s.utf8CodeUnitCount
        var i = 0
        while i < n {
            if bytes[i] != q[i] { return false }
            i += 1
        }
        return bytes[n] == 0
    }
}

/// The attributes of a start tag, as libxml2's SAX2 hands them over (values already unescaped),
/// valid only during the callback.
struct XMLAttributes {
    /// libxml2's array: five pointers an attribute (localname, prefix, URI, value, value end).
    fileprivate let base: UnsafeMutablePointer<UnsafePointer<UInt8>?>?
    let count: Int

    @inline(__always) func name(_ i: Int) -> XMLName { XMLName(bytes: base![5 * i]!) }
    /// True when the attribute is in a namespace (`r:id`), false for a plain one (`sheetId`).
    @inline(__always) func isNamespaced(_ i: Int) -> Bool { base![5 * i + 2] != nil }
    @inline(__always) func value(_ i: Int) -> UnsafeBufferPointer<UInt8> {
        let start = base![5 * i + 3]!, end = base![5 * i + 4]!
        return UnsafeBufferPointer(start: start, count: end - start)
    }

    /// The value of the first attribute whose local name is `name`.
    func value(of name: StaticString) -> UnsafeBufferPointer<UInt8>? {
        for i in 0..<count where self.name(i).is(name) { return value(i) }
        return nil
    }

    /// An attribute value as a String. Without entity substitution (XML_PARSE_NOENT, which would
    /// also open the door to external entities) libxml2 hands an `&amp;` in an attribute back as
    /// `&#38;`: turned into `&` here. The raw `value` accessors are for values without `&`.
    func string(_ i: Int) -> String {
        let s = String(decoding: value(i), as: UTF8.self)
        return s.contains("&#38;") ? s.replacingOccurrences(of: "&#38;", with: "&") : s
    }

    func string(of name: StaticString) -> String? {
        for i in 0..<count where self.name(i).is(name) { return string(i) }
        return nil
    }
}

/// The failure of an XML part: libxml2's message and line, or an error a callback threw.
enum XMLPushFailure: Error {
    case malformed(message: String, line: Int)
    case callback(Error)
}

/// libxml2's SAX2 push parser: bytes go in as they inflate, callbacks come out; nothing of the
/// document is kept. The only file that imports libxml2. Not thread-safe; one document per parser.
///
/// A part's reader subclasses it and overrides the three callbacks: libxml2's context points at
/// the parser itself, so an event costs a virtual call and no reference counting (a handler
/// object behind a protocol cost a retain and a release per event). A callback that throws stops
/// the parse; the error is thrown by the `feed` or `finish` that was running.
///
/// Safe settings: no network, no external entities or DTD loading (libxml2's defaults, and no
/// entity-declaration callback, so internal entities are never expanded), libxml2's default size
/// limits on one token, and errors collected here instead of printed.
class XMLPushParser {
    private var ctxt: xmlParserCtxtPtr?
    private var failure: XMLPushFailure?
    /// Set when the parse was stopped: the rest of the document is not parsed and `feed` returns false.
    private(set) var stopped = false

    // MARK: Callbacks for subclasses

    func startElement(_ name: XMLName, _ attributes: XMLAttributes) throws {}
    /// Returns false to stop the parse there (no callback follows; `feed` returns false).
    func endElement(_ name: XMLName) throws -> Bool { true }
    /// Text content (entities and character references resolved, CDATA included), in pieces.
    func characters(_ text: UnsafeBufferPointer<UInt8>) {}

    // MARK: Parsing

    deinit {
        if let c = ctxt { xmlFreeParserCtxt(c) }
    }

    /// The line the parser is at (1-based), for messages.
    var line: Int { ctxt.map { Int(xmlSAX2GetLineNumber(UnsafeMutableRawPointer($0))) } ?? 0 }

    private func stop() {
        stopped = true
        if let c = ctxt { xmlStopParser(c) }
    }

    /// Parses the next bytes of the document. Returns false when a callback stopped the parse.
    @discardableResult
    func feed(_ bytes: UnsafeRawBufferPointer) throws -> Bool {
        if stopped { return false }
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count > 0 else { return true }
        var offset = 0
        if ctxt == nil {
            // The first bytes go to the constructor: libxml2 detects the encoding (UTF-8, UTF-16) from them.
            let first = min(4, bytes.count)
            try create(base, first)
            offset = first
        }
        while offset < bytes.count && !stopped {
            // xmlParseChunk takes an Int32 size.
            let n = min(bytes.count - offset, 1 << 30)
            let rc = xmlParseChunk(ctxt, base + offset, Int32(n), 0)
            offset += n
            try check(rc)
        }
        return !stopped
    }

    /// Ends the document: an unclosed element is an error here.
    func finish() throws {
        if stopped { return }
        if ctxt == nil {
            throw XMLPushFailure.malformed(message: "the part is empty", line: 0)
        }
        let rc = xmlParseChunk(ctxt, nil, 0, 1)
        try check(rc)
    }

    private func create(_ base: UnsafePointer<CChar>, _ n: Int) throws {
        var sax = xmlSAXHandler()
        sax.initialized = XML_SAX2_MAGIC
        // The callbacks borrow the parser (it outlives its context): no reference counting per event.
        sax.startElementNs = { ctx, localname, _, _, _, _, nbAttributes, _, attributes in
            Unmanaged<XMLPushParser>.fromOpaque(ctx!)._withUnsafeGuaranteedRef { p in
                guard !p.stopped else { return }
                let attrs = XMLAttributes(base: UnsafeMutableRawPointer(attributes)?.assumingMemoryBound(to: UnsafePointer<UInt8>?.self),
                                          count: Int(nbAttributes))
                do { try p.startElement(XMLName(bytes: localname!), attrs) } catch { p.fail(error) }
            }
        }
        sax.endElementNs = { ctx, localname, _, _ in
            Unmanaged<XMLPushParser>.fromOpaque(ctx!)._withUnsafeGuaranteedRef { p in
                guard !p.stopped else { return }
                do {
                    if try !p.endElement(XMLName(bytes: localname!)) { p.stop() }
                } catch { p.fail(error) }
            }
        }
        let text: charactersSAXFunc = { ctx, chars, len in
            Unmanaged<XMLPushParser>.fromOpaque(ctx!)._withUnsafeGuaranteedRef { p in
                guard !p.stopped, let chars else { return }
                p.characters(UnsafeBufferPointer(start: chars, count: Int(len)))
            }
        }
        sax.characters = text
        sax.ignorableWhitespace = text
        sax.cdataBlock = text
        sax.serror = { ctx, error in
            guard let ctx, let error, error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
            let p = Unmanaged<XMLPushParser>.fromOpaque(ctx).takeUnretainedValue()
            if p.failure == nil {
                let message = error.pointee.message.map { String(cString: $0) } ?? "malformed XML"
                p.failure = .malformed(message: message.trimmingCharacters(in: .whitespacesAndNewlines),
                                       line: Int(error.pointee.line))
            }
        }
        let me = Unmanaged.passUnretained(self).toOpaque()
        guard let c = xmlCreatePushParserCtxt(&sax, me, base, Int32(n), nil) else {
            throw XMLPushFailure.malformed(message: "libxml2 could not start a parser", line: 0)
        }
        ctxt = c
        // NODICT: names are not kept in a dictionary across documents (measured faster here).
        xmlCtxtUseOptions(c, Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NODICT.rawValue))
        try check(0)
    }

    private func fail(_ error: Error) {
        if failure == nil { failure = .callback(error) }
        stopped = true
        if let c = ctxt { xmlStopParser(c) }
    }

    private func check(_ rc: Int32) throws {
        if let f = failure { stopped = true; throw f }
        if rc != 0 && !stopped {
            throw XMLPushFailure.malformed(message: "malformed XML (libxml2 error \(rc))", line: line)
        }
    }
}
