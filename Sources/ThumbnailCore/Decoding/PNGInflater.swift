internal import CZlib

#if canImport(Glibc)
    import Glibc
#endif

// The only file that imports zlib. A large PNG's decode is half zlib's
// inflating and half libpng's unfiltering, one after the other on one
// core. Here a thread of its own inflates the image data and writes the PNG
// out again with that data stored (deflate's uncompressed blocks, by zlib at
// level 0), through a socket pair; libpng reads that stream on the caller's
// thread, where inflating stored blocks is a copy and its time goes to
// unfiltering. The two overlap: a 5640x3172 photograph renders in 0.6 of the
// time, for up to a fifth more CPU. The chunks before the image data pass as
// they are (IHDR, PLTE, tRNS, iCCP...); those after it are left out, as
// libpng needs none of them. Neither checksum is computed on either side:
// libpng checks no CRC nor Adler-32 (PNGDecoder), so the source's are not
// checked here either, and the stream's are written as zeros.

/// A PNG with its image data inflated by another thread, to read as a
/// stream; `finish` stops that thread.
final class PNGInflater {
    private let socket: Int32
    private var thread: pthread_t?
    private let producer: Producer

    /// Starts inflating `reader`'s PNG; nil when no thread or socket can be had.
    init?(_ reader: SourceReader) {
        var ends: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else { return nil }
        // A few rows in flight at most: the writer waits for the reader.
        var size: Int32 = 1 << 20
        _ = setsockopt(ends[1], SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        socket = ends[0]
        producer = Producer(reader, socket: ends[1])
        let producer = producer
        thread = startThread { producer.run() }
        if thread == nil {
            close(ends[0])
            close(ends[1])
            return nil
        }
    }

    /// Fills `buffer` from the stream; 0 at its end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ThumbnailError) -> Int {
        while true {
            let count = recv(socket, buffer.baseAddress, buffer.count, 0)
            if count >= 0 { return count }
            if errno != EINTR { throw ThumbnailError(.ioFailure, "source", "inflated PNG: \(errnoText())") }
        }
    }

    /// Ends the stream, whether or not libpng read it all, and waits for
    /// the thread: what reading the source failed with, if it failed.
    func finish() -> ThumbnailError? {
        close(socket)
        if let thread { pthread_join(thread, nil) }
        thread = nil
        return producer.failure
    }

    deinit { if thread != nil { _ = finish() } }

    /// The inflating thread's side.
    private final class Producer: @unchecked Sendable {
        private var reader: SourceReader
        private let socket: Int32
        private var inflated = [UInt8](repeating: 0, count: 1 << 18)
        private var stored = [UInt8](repeating: 0, count: 1 << 18)
        private var inflater = z_stream(), storer = z_stream()
        /// Why the source could not be read; set before the thread ends.
        private(set) var failure: ThumbnailError? = nil
        /// The reader went away: nothing more is written.
        private var gone = false

        init(_ reader: SourceReader, socket: Int32) {
            self.reader = reader
            self.socket = socket
        }

        func run() {
            defer { close(socket) }
            let size = Int32(MemoryLayout<z_stream>.size)
            guard inflateInit_(&inflater, zlibVersion(), size) == Z_OK else { return }
            defer { inflateEnd(&inflater) }
            _ = inflateValidate(&inflater, 0)
            // Raw deflate (no zlib header nor Adler-32 of its own): `copy` writes them.
            let raw = deflateInit2_(&storer, Z_NO_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(), size)
            guard raw == Z_OK else { return }
            defer { deflateEnd(&storer) }
            do throws(ThumbnailError) {
                try copy()
            } catch {
                failure = error
            }
        }

        /// The signature and the chunks before the image data as they are,
        /// then the data stored, then IEND. Wherever the data stops (the
        /// source ends, a chunk is malformed, the data does not inflate), the
        /// stored stream ends with what came before: libpng then decodes
        /// what it would have decoded reading the source itself, or finds
        /// the image short.
        private func copy() throws(ThumbnailError) {
            guard let signature = try take(8) else { return }
            send(signature)
            var inData = false
            while !gone, let header = try take(8) {
                let length = header[0..<4].reduce(0) { $0 << 8 | Int($1) }
                guard length < 1 << 31 else { break }
                if header[4..<8].elementsEqual("IDAT".utf8) {
                    // The zlib header: deflate, a 32 KiB window, no dictionary.
                    if !inData { chunk("IDAT", [0x78, 0x01]) }
                    inData = true
                    guard try inflate(length), try take(4) != nil else { break }
                } else if inData {
                    break
                } else {
                    send(header)
                    var left = length + 4
                    while left > 0 {
                        guard let piece = try take(min(left, 1 << 17)) else { return }
                        send(piece)
                        left -= piece.count
                    }
                }
            }
            guard inData else { return }
            store(0, finish: true)
            chunk("IDAT", [0, 0, 0, 0])  // the Adler-32, unchecked
            chunk("IEND", [])
        }

        /// Inflates the next `length` bytes of image data and stores what
        /// comes out; false when they do not inflate or the source ends.
        private func inflate(_ length: Int) throws(ThumbnailError) -> Bool {
            var left = length
            while left > 0 && !gone {
                guard var piece = try take(min(left, 1 << 17)) else { return false }
                var status = Z_OK
                piece.withUnsafeMutableBufferPointer { piece in
                    inflater.next_in = piece.baseAddress
                    inflater.avail_in = UInt32(piece.count)
                    repeat {
                        let produced = inflated.withUnsafeMutableBufferPointer { output in
                            inflater.next_out = output.baseAddress
                            inflater.avail_out = UInt32(output.count)
                            status = CZlib.inflate(&inflater, Z_NO_FLUSH)
                            return output.count - Int(inflater.avail_out)
                        }
                        if produced > 0 { store(produced, finish: false) }
                    } while (status == Z_OK || status == Z_BUF_ERROR) && inflater.avail_out == 0 && !gone
                }
                // Data past the end of the zlib stream is left alone, as libpng leaves it.
                guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else { return false }
                left -= piece.count
            }
            return true
        }

        /// Deflates the first `count` inflated bytes at level 0 (stored
        /// blocks) into IDAT chunks; with `finish`, the end of the stream.
        private func store(_ count: Int, finish: Bool) {
            inflated.withUnsafeMutableBufferPointer { pending in
                storer.next_in = pending.baseAddress
                storer.avail_in = UInt32(count)
                var status = Z_OK
                repeat {
                    let produced = stored.withUnsafeMutableBufferPointer { output in
                        storer.next_out = output.baseAddress
                        storer.avail_out = UInt32(output.count)
                        status = deflate(&storer, finish ? Z_FINISH : Z_NO_FLUSH)
                        return output.count - Int(storer.avail_out)
                    }
                    if produced > 0 { chunk("IDAT", stored[..<produced]) }
                } while status == Z_OK && (storer.avail_out == 0 || (finish && status != Z_STREAM_END)) && !gone
            }
        }

        /// A chunk: length, type, data, and its CRC, unchecked.
        private func chunk(_ type: String, _ data: ArraySlice<UInt8>) {
            send(bigEndian(data.count) + Array(type.utf8))
            send(data)
            send([0, 0, 0, 0])
        }

        private func bigEndian(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }

        /// Writes to the reader; once it has gone (libpng stopped early), nothing.
        private func send<Bytes: Collection<UInt8>>(_ bytes: Bytes) {
            guard !gone else { return }
            let sent = bytes.withContiguousStorageIfAvailable { buffer in
                var offset = 0
                while offset < buffer.count {
                    let count = Glibc.send(socket, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                    if count < 0 {
                        if errno == EINTR { continue }
                        return false
                    }
                    offset += count
                }
                return true
            }
            if sent == false { gone = true }
            if sent == nil { send(Array(bytes)) }
        }

        /// The next `count` bytes of the source; nil when it ends first.
        private func take(_ count: Int) throws(ThumbnailError) -> [UInt8]? {
            let bytes = try reader.read(upTo: count)
            return bytes.count == count ? bytes : nil
        }
    }
}
