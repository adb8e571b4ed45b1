/// One command-line option. The table below is the only list of options:
/// `--help` prints it, the parser reads it, `--config` files use its long
/// names, and `make docs` writes the man page's OPTIONS and the shell
/// completions from it (Sources/Documentation).
package struct OptionSpec: Sendable {
    package let long: String
    package let short: Character?
    /// The value's placeholder in `--help`; nil for a flag.
    package let value: String?
    /// One line for `--help`, without the default, which `defaultValue` gives.
    package let help: String
    /// Whether a `--config` file may set it.
    package let configurable: Bool
    /// The modes it applies to; given on the command line with any other
    /// mode, it is a usage error. A mode option applies to its own mode only,
    /// but for --picture, which --batch takes as what to do with each path.
    package let modes: Set<Mode>
    /// What applies when it is not given; nil when nothing needs saying.
    package let defaultValue: OptionDefault?
    /// What a shell offers for its value.
    package let completion: ValueCompletion
    /// Its entry under OPTIONS in the man page, in mdoc: what it does, for
    /// users. The flags, the default and the modes are added from the fields above.
    package let manual: String
    let apply: @Sendable (inout Settings, String) throws(ThumbnailError) -> Void

    init(
        _ long: String, _ short: Character? = nil, value: String? = nil, configurable: Bool = true,
        for modes: Set<Mode>, help: String, default defaultValue: OptionDefault? = nil,
        completion: ValueCompletion? = nil, manual: String = "",
        apply: @escaping @Sendable (inout Settings, String) throws(ThumbnailError) -> Void
    ) {
        self.long = long
        self.short = short
        self.value = value
        self.help = help
        self.configurable = configurable
        self.modes = modes
        self.defaultValue = defaultValue
        self.completion = completion ?? ValueCompletion(placeholder: value)
        self.manual = manual
        self.apply = apply
    }

    /// How `--help` names it: `-s, --size WxH`.
    package var synopsis: String {
        (short.map { "-\($0), " } ?? "    ") + "--" + long + (value.map { " " + $0 } ?? "")
    }
}

/// What applies when an option is not given.
package enum OptionDefault: Sendable, Equatable {
    /// A value, as the option would take it: a number, a name.
    case value(String)
    /// What happens instead, in words: `the source's format`.
    case words(String)

    /// As `--help` shows it, after the option's line.
    package var help: String {
        switch self {
        case .value(let value): "(default \(value))"
        case .words(let words): "(default: \(words))"
        }
    }
}

/// What a shell's completion offers for an option's value.
package enum ValueCompletion: Sendable, Equatable {
    /// Nothing: the value is the user's to type.
    case anything
    case files
    case directories
    /// The sizes `--sizes` allows, on the same command line or in its `--config` file.
    case allowedSizes
    /// These words, or lists of them.
    case words([String])

    /// What the placeholder says: FILE a file, DIR a directory.
    init(placeholder: String?) {
        switch placeholder {
        case "FILE": self = .files
        case "DIR": self = .directories
        default: self = .anything
        }
    }
}

/// What `thumbnail` does; each mode has its own configuration (`Invocation`).
package enum Mode: String, CaseIterable, Sendable {
    /// One thumbnail from flags and a source, or from a path.
    case render
    case explain, sign, inetd, listen, batch, picture, help, version
    case checkConfig = "check-config"
}

extension Set where Element == Mode {
    /// The flags form's request: size, mode, quality, background (--format: not with --picture).
    static let request: Set<Mode> = [.render, .explain, .picture]
    /// Where sources come from and what they may be.
    static let sources: Set<Mode> = [.render, .explain, .picture, .inetd, .listen, .checkConfig, .batch]
    /// What paths may say: the grammar, sizes and signatures.
    static let paths: Set<Mode> = [.render, .explain, .picture, .sign, .inetd, .listen, .checkConfig, .batch]
    /// `--picture`'s markup, alone or for each path of a batch.
    static let markup: Set<Mode> = [.picture, .batch]
    /// The HTTP modes' own, which --check-config checks. `--inetd` handed a
    /// listening socket is a listening server, so the listening server's
    /// options apply to it too.
    static let server: Set<Mode> = [.inetd, .listen, .checkConfig]
}

package let optionTable: [OptionSpec] = [
    OptionSpec("alt", value: "TEXT", configurable: false, for: .markup, help: "--picture: the img's alt text",
        default: .words("empty"),
        manual: #"""
            With
            .Fl -picture ,
            the
            .Ql alt
            text of the
            .Ql <img> ,
            HTML-escaped; leave it empty for an image that only decorates.
            """#
    ) {
        settings, value in settings.picture.alt = value
    },
    OptionSpec("background", value: "RRGGBB", for: .request, help: "pad and JPEG alpha background",
        default: .value(RGB.white.description),
        manual: #"""
            The background for
            .Fl -pad
            and for flattening transparency into JPEG, as six hexadecimal digits: the
            .Cm bg Ns Ar RRGGBB
            option of a thumbnail path.
            """#
    ) {
        settings, value throws(ThumbnailError) in
        guard let colour = RGB.parse(Substring(value)) else {
            throw ThumbnailError(.usage, "--background", "'\(value)' is not six hex digits")
        }
        settings.background = colour
    },
    OptionSpec("base", value: "URL", configurable: false, for: .markup, help: "the CDN: --batch GETs from it, --picture links",
        manual: #"""
            The address the thumbnail paths are served under, the CDN's, such as
            .Ql https://cdn.example.com ;
            a trailing slash is dropped.
            With
            .Fl -batch ,
            fetch each path from
            .Ar URL
            with GET instead of rendering it, to warm the cache in front of an origin;
            see
            .Sx BATCH MODE .
            With
            .Fl -picture ,
            alone or with
            .Fl -batch ,
            nothing is fetched: every URL of the markup is
            .Ar URL
            followed by the path; without
            .Fl -base
            the URLs are the paths alone.
            """#
    ) {
        settings, value throws(ThumbnailError) in
        guard value.hasPrefix("http://") || value.hasPrefix("https://") else {
            throw ThumbnailError(.usage, "--base", "'\(value)' is not an http:// or https:// URL")
        }
        settings.base = value
    },
    OptionSpec("batch", value: "FILE", configurable: false, for: [.batch], help: "render the paths listed in FILE (- for stdin)",
        manual: #"""
            Render, check or fetch the thumbnail paths listed in
            .Ar FILE ,
            one a line, or on standard input when
            .Ar FILE
            is
            .Fl ;
            see
            .Sx BATCH MODE .
            """#
    ) {
        settings, value in
        settings.modes.append(.batch)
        settings.batchList = value
    },
    OptionSpec("ca-file", value: "FILE", for: .sources, help: "URL roots: trust the CAs in FILE",
        manual: #"""
            Trust the certificate authorities in
            .Ar FILE
            (PEM) instead of the system's in
            .Pa /etc/ssl/certs ,
            for an
            .Ql https://
            root and an
            .Ql https://
            .Fl -s3-endpoint :
            for a store behind a private CA.
            """#
    ) {
        settings, value in settings.remote.caFile = value
    },
    OptionSpec("cache-control", value: "TEXT", for: .server, help: "HTTP: Cache-Control of a thumbnail",
        default: .value(ServerInvocation.defaultCacheControl),
        manual: #"""
            Under
            .Fl -inetd
            and
            .Fl -listen ,
            the
            .Ql Cache-Control
            of a thumbnail and of a 304; printable ASCII.
            The default lets a CDN keep a thumbnail for a year: the same path always
            gives the same bytes.
            """#
    ) {
        settings, value throws(ThumbnailError) in
        guard !value.isEmpty, value.utf8.allSatisfy({ (0x20...0x7e).contains($0) }) else {
            throw ThumbnailError(.usage, "--cache-control", "must be printable ASCII, not empty")
        }
        settings.cacheControl = value
    },
    OptionSpec("client-ip-header", value: "NAME", for: .server, help: "HTTP: log the client the CDN names in NAME",
        completion: .words(clientAddressHeaders),
        manual: #"""
            Under
            .Fl -inetd
            and
            .Fl -listen ,
            log as the client the address that the CDN puts in header
            .Ar NAME
            instead of the socket's other end, which is the CDN:
            .Ql CloudFront-Viewer-Address
            (address and port; CloudFront sends it when the origin request policy
            includes it) or
            .Ql X-Forwarded-For
            (its last address, the one the CDN saw).
            Only for a header the CDN always sets: a client could send it too.
            """#
    ) {
        settings, value throws(ThumbnailError) in
        guard !value.isEmpty, value.utf8.allSatisfy(isTokenByte) else {
            throw ThumbnailError(.usage, "--client-ip-header", "'\(value)' is not an HTTP header name")
        }
        settings.clientIPHeader = value
    },
    OptionSpec("check-config", configurable: false, for: [.checkConfig], help: "check the HTTP options, name every problem",
        manual: #"""
            Check the options that
            .Fl -inetd
            or
            .Fl -listen
            would be given, name every problem, and exit, as
            .Ql nginx -t
            does for nginx; run it after every change of a configuration.
            Each check is a line on standard output: the storage root is there (a
            directory exists and is readable; an
            .Ql https://
            root answers a HEAD of its URL with anything but a 5xx or a 403, which the
            line names; an
            .Ql s3://
            root's credentials are found and list its prefix, one key at most, which
            takes
            .Ql s3:ListBucket ,
            see
            .Sx STORAGE ) ;
            the
            .Fl -log
            file opens for appending, as the user who runs the check, or, when it does
            not exist yet, its directory would let the first request create it (the
            check creates nothing and writes nothing); every size of
            .Fl -sizes
            is valid and within
            .Fl -max-side ;
            the key and origin token files are there and private enough;
            ImageMagick's policy leaves the pixel cache
            .Fl -max-pixels
            and a side
            .Fl -max-side ;
            each output format's encoder writes.
            Each problem is a line on standard error, and the exit status is the first
            problem's, or 0.
            """#
    ) {
        settings, _ in settings.modes.append(.checkConfig)
    },
    OptionSpec(
        "config", value: "FILE", configurable: false, for: Set(Mode.allCases), help: "read long options from FILE, one a line",
        manual: #"""
            Read options from
            .Ar FILE
            before those of the environment and the command line, which win; see
            .Sx ENVIRONMENT
            for the variables that set the same options.
            Each line is a long option without its dashes, alone for a flag or followed
            by
            .Ql =
            and its value; blank lines are skipped and
            .Ql #
            starts a comment:
            .Bd -literal -offset indent
            # /etc/thumbnail.conf
            root = /srv/images
            quality = 75
            .Ed
            .Pp
            The options that shape a thumbnail or a server may be set this way, so
            that inetd's argument list stays short and secrets stay out of the process
            list; the mode options,
            .Fl -config
            itself and the options marked
            .Dq not in a Fl -config No file or the environment
            may not.
            An option may be set once per file.
            A line that is not
            .Ql name = value
            or
            .Ql name ,
            an unknown option, a bad value and a repeated option are errors that name
            the file and the line
            .Pq Ql /etc/thumbnail.conf:3 .
            An option that the file sets for another mode is ignored, so that one file
            can serve the HTTP mode, batches and the command line.
            The options that shape a thumbnail, such as
            .Fl -size
            and
            .Fl -quality ,
            are defaults of the flags form: a thumbnail path says its own, and
            takes none of them, whether it is given on the command line or
            requested over HTTP.
            The file is refused if its group or others may write to it, since it says
            which key files to trust; a symbolic link is followed, and the file it
            leads to checked, and reached only as a key file is
            .Pq see Sx Signatures .
            Relative paths in it are relative to the working directory.
            """#
    ) {
        // Settings.apply reads the file before every other option.
        _, _ in
    },
    OptionSpec("crop", for: .request, help: "fill the box exactly, cropping the overflow",
        manual: #"""
            Fill the box exactly, scaling up if need be, and crop the overflow around
            the centre, or where
            .Fl -gravity ,
            .Fl -focal
            or
            .Fl -smart
            put the window.
            Needs both a width and a height.
            The
            .Cm crop
            option of a thumbnail path.
            """#
    ) { settings, _ in
        settings.crop = true
    },
    OptionSpec("densities", value: "LIST", configurable: false, for: .markup, help: "--picture: pixel densities",
        default: .value(PictureOptions.defaultDensities.map(String.init).joined(separator: ",")),
        completion: .words(["1,2", "1,2,3"]),
        manual: #"""
            With
            .Fl -picture ,
            the pixel densities each
            .Ql srcset
            offers, comma-separated whole numbers from 1 to \#(PictureOptions.maxDensity) that include 1.
            A density's URL asks for the box times the density; see
            .Sx PICTURE MARKUP
            for the densities that are left out.
            """#
    ) {
        settings, value throws(ThumbnailError) in
        var densities: [Int] = []
        for item in value.split(separator: ",", omittingEmptySubsequences: false).map(\.trimmingSpaces) {
            guard let density = decimal(item), (1...PictureOptions.maxDensity).contains(density), !densities.contains(density)
            else {
                throw ThumbnailError(
                    .usage, "--densities", "'\(item)' is not a new whole number from 1 to \(PictureOptions.maxDensity)")
            }
            densities.append(density)
        }
        guard densities.contains(1) else {
            throw ThumbnailError(.usage, "--densities", "must hold 1: the img's src is the 1x thumbnail")
        }
        settings.picture.densities = densities.sorted()
    },
    OptionSpec("error-max-age", value: "SEC", for: .server, help: "HTTP: max-age of an error reply",
        default: .value("\(ServerInvocation.defaultErrorMaxAge)"),
        manual: #"""
            Under
            .Fl -inetd
            and
            .Fl -listen ,
            errors and redirects carry
            .Ql Cache-Control: public, max-age= Ns Ar SEC ,
            so a CDN absorbs repeated bad requests for that long; 0 is allowed.
            """#
    ) {
        settings, value throws(ThumbnailError) in settings.errorMaxAge = try count(value, "--error-max-age", from: 0)
    },
    OptionSpec("explain", configurable: false, for: [.explain], help: "print the canonical path, checks and plan only",
        manual: #"""
            Parse the request, read the source's header, and print the canonical path
            and the plan instead of rendering:
            each access check and its outcome
            .Po
            .Ql signature: ok (key 1 of 2) ,
            .Ql size: refused: ...
            .Pc ,
            for a URL root the storage, the object's full URL, the store's status and
            header facts and where the credentials came from
            .Pq never the credentials ,
            the source's format, size and EXIF orientation, the fit, the size it is
            scaled to, the crop window
            .Pq Ql window: 100x100+30+0 of the resized image, 400x400+120+0 of the source ,
            as width, height and offset, in the scaled image and in the upright source,
            or where
            .Cm pad
            puts the image on the canvas, and the output's format, size and, for a lossy
            format, quality.
            It reads only the source's header, except for
            .Cm smart ,
            whose window can only be found in the pixels: then the source is decoded and
            scaled as for the render, and the score that chose the window is printed too;
            see
            .Sx Smart crops .
            The canonical path is signed with the first key when keys are configured.
            A source given with flags whose first segment is spelled like a format
            .Pq Pa webp/cat.jpg
            needs
            .Fl f :
            without a format, a thumbnail path would read that segment as one.
            When a check refuses the request, the explanation stops before the source
            is opened, and
            .Nm
            exits as the request would.
            """#
    ) {
        settings, _ in settings.modes.append(.explain)
    },
    OptionSpec("focal", value: "X,Y", for: .request, help: "crop centre, X,Y in per cent",
        default: .value(FocalPoint.centre.description),
        manual: #"""
            With
            .Fl -crop ,
            centre the crop window on the point
            .Ar X
            per cent across and
            .Ar Y
            per cent down the upright source, whole numbers from 0 to 100, as far as the
            image allows: the window stops flush with an edge.
            The
            .Cm fp Ns Ar X . Ns Ar Y
            option of a thumbnail path.
            """#
    ) {
        settings, value throws(ThumbnailError) in
        guard let point = FocalPoint.parse(Substring(value), separator: ",") else {
            throw ThumbnailError(.usage, "--focal", "'\(value)' is not X,Y, each a whole number from 0 to 100")
        }
        settings.focalPoint = point
    },
    OptionSpec("format", "f", value: "FORMAT", for: [.render, .explain], help: "jpeg, png, webp, gif or avif",
        default: .words("the source's"), completion: .words(OutputFormat.allCases.map(\.rawValue)),
        manual: #"""
            The output format:
            .Cm jpeg
            .Pq or Cm jpg ,
            .Cm png ,
            .Cm webp ,
            .Cm gif
            or
            .Cm avif .
            A source in none of these formats gives JPEG by default.
            """#
    ) {
        settings, value throws(ThumbnailError) in
        guard let format = OutputFormat.named(Substring(value)) else {
            throw ThumbnailError(.usage, "--format", "'\(value)' is not one of jpeg, jpg, png, webp, gif, avif")
        }
        settings.format = format
    },
    OptionSpec("formats", value: "LIST", configurable: false, for: .markup, help: "--picture: formats",
        default: .value(PictureOptions.defaultFormats(transparent: false).list),
        completion: .words([false, true].map { PictureOptions.defaultFormats(transparent: $0).list } + ["webp,jpeg"]),
        manual: #"""
            With
            .Fl -picture ,
            the output formats offered, comma-separated, the preferred first: each but
            the last gets a
            .Ql <source> ,
            the last is that of the
            .Ql <img> .
            A source that may be transparent gets
            .Ql \#(PictureOptions.defaultFormats(transparent: true).list)
            by default instead; see
            .Sx PICTURE MARKUP .
            """#
    ) {
        settings, value throws(ThumbnailError) in
        var formats: [OutputFormat] = []
        for item in value.split(separator: ",", omittingEmptySubsequences: false).map(\.trimmingSpaces) {
            guard let format = OutputFormat.named(item), !formats.contains(format) else {
                throw ThumbnailError(.usage, "--formats", "'\(item)' is not a new one of jpeg, png, webp, gif, avif")
            }
            formats.append(format)
        }
        settings.picture.formats = formats
    },
    OptionSpec("gravity", value: "NAME", for: .request, help: "where crop or pad goes",
        default: .value(Gravity.centre.rawValue), completion: .words(Gravity.allCases.map(\.rawValue)),
        manual: #"""
            With
            .Fl -crop ,
            put the crop window flush with the edge or the corner that
            .Ar NAME
            names:
            .Cm n
            (the top),
            .Cm ne ,
            .Cm e ,
            .Cm se ,
            .Cm s ,
            .Cm sw ,
            .Cm w ,
            .Cm nw ,
            or
            .Cm c ,
            the centre; with
            .Fl -pad ,
            put the image there on the canvas.
            The option of the same name in a thumbnail path.
            """#
    ) {
        settings, value throws(ThumbnailError) in
        guard let gravity = Gravity(rawValue: value) else {
            throw ThumbnailError(.usage, "--gravity", "'\(value)' is not one of n, ne, e, se, s, sw, w, nw, c")
        }
        settings.gravity = gravity
    },
    OptionSpec("help", "h", configurable: false, for: [.help], help: "print this help and exit",
        manual: #"""
            Print the usage and the list of options, and exit.
            """#
    ) {
        settings, _ in settings.modes.append(.help)
    },
    OptionSpec("idle-timeout", value: "SEC", for: .server, help: "HTTP: seconds to await a request",
        default: .value("\(HTTPLimits.defaultIdleTimeout)"),
        manual: #"""
            Under
            .Fl -inetd
            and
            .Fl -listen ,
            close a connection, without a reply, when its next request has not begun
            after
            .Ar SEC
            seconds.
            Keep it above the CDN's own keep-alive timeout (CloudFront's default is 5
            seconds), so that the CDN never sends a request on a connection the origin
            is closing.
            """#
    ) {
        settings, value throws(ThumbnailError) in settings.idleTimeout = try count(value, "--idle-timeout")
    },
    OptionSpec("inetd", configurable: false, for: [.inetd], help: "serve HTTP on stdin/stdout (inetd, systemd)",
        manual: #"""
            Serve HTTP on standard input and output, one connection per process; see
            .Sx INETD OPERATION .
            """#
    ) {
        settings, _ in settings.modes.append(.inetd)
    },
    OptionSpec("jobs", "j", value: "N", configurable: false, for: [.batch, .render], help: "paths or sources at once",
        default: .words("one a processor it may use, as for --max-renders"),
        manual: #"""
            With
            .Fl -batch ,
            handle
            .Ar N
            paths at a time, and with several sources, render
            .Ar N
            of them at a time; from 1 to \#(Settings.maxJobs).
            """#
    ) {
        settings, value throws(ThumbnailError) in settings.jobs = try count(value, "--jobs", to: Settings.maxJobs)
    },
    OptionSpec("key-file", value: "FILE", for: .paths, help: "URL signing keys, one a line; the first signs",
        manual: #"""
            Require a signature in every thumbnail path, checked against the keys in
            .Ar FILE ,
            one a line; see
            .Sx Signatures .
            """#
    ) {
        settings, value in settings.keyFile = value
    },
    OptionSpec("listen", value: "ADDRESS", configurable: false, for: [.listen], help: "serve HTTP on [HOST:]PORT, or systemd's",
        manual: #"""
            Serve HTTP as a long-running server on
            .Ar ADDRESS :
            .Ar port
            alone, on every address of the host, IPv6 and IPv4;
            .Ar host : Ns Ar port
            with a numeric IPv4 address; or
            .Li \&[ Ns Ar host Ns Li \&]: Ns Ar port
            with a numeric IPv6 address.
            Give it once for each address to listen on.
            .Cm systemd
            takes the listening sockets that systemd passes instead
            .Pq Ev LISTEN_FDS ,
            from a socket unit with
            .Cm Accept=no .
            See
            .Sx SERVER .
            """#
    ) {
        settings, value throws(ThumbnailError) in
        settings.modes.append(.listen)
        if value == "systemd" {
            settings.listenFromSystemd = true
        } else {
            settings.listenAddresses.append(try ListenAddress(parsing: value, option: "--listen"))
        }
    },
    OptionSpec("log", value: "FILE", for: .server, help: "HTTP: request log file, - for standard output",
        default: .words("syslog"),
        manual: #"""
            Under
            .Fl -inetd
            and
            .Fl -listen ,
            append one line per request to
            .Ar FILE
            instead of sending it to
            .Xr syslog 3 .
            If
            .Ar FILE
            cannot be opened, syslog gets the lines and a line saying why.
            With
            .Fl -listen ,
            .Ql -
            is standard output, which a container's runtime or systemd's
            journal collects; each line is one write, which a pipe keeps whole
            up to 4096 bytes.
            Under
            .Fl -inetd
            standard output is the connection, and
            .Ql -
            is refused.
            """#
    ) {
        settings, value in settings.logFile = value
    },
    OptionSpec("log-format", value: "FORMAT", for: .server, help: "HTTP: log lines, combined or json",
        default: .value(LogFormat.combined.rawValue), completion: .words(LogFormat.allCases.map(\.rawValue)),
        manual: #"""
            Under
            .Fl -inetd
            and
            .Fl -listen ,
            the form of the log lines:
            .Cm combined
            or
            .Cm json .
            .Cm combined
            is the NCSA combined format that nginx and Apache write, the time in UTC,
            with four fields appended as nginx users append
            .Ql $request_time :
            the seconds the request took (milliseconds after the point), the source's
            size in bytes, the output format and a quoted note (why a request failed,
            or that the client went away), then seven figures of the render: its
            milliseconds waiting for a render slot, fetching, decoding, resizing and
            encoding, the CPU milliseconds of its process and that process's peak
            resident memory in KiB; each
            .Ql -
            when there is none:
            .Bd -literal -offset indent
            127.0.0.1 - - [01/Dec/2026:18:34:17 +0000] "GET /thumbnail/100x100/a.jpg
            HTTP/1.1" 200 2869 "-" "curl/7.88.1" 0.026 345678 jpeg "-" 0.0 0.4 9.8
            3.1 1.6 14.7 21340
            .Ed
            .Pp
            (one line).
            As nginx does, a
            .Ql \&"
            or
            .Ql \e
            in a field and every byte outside printable ASCII are written
            .Ql \exHH .
            .Cm json
            writes one object a line with the members
            .Ql time ,
            .Ql client ,
            .Ql method ,
            .Ql target ,
            .Ql protocol ,
            .Ql status ,
            .Ql bytes ,
            .Ql referer ,
            .Ql user_agent ,
            .Ql request_time ,
            .Ql source_bytes ,
            .Ql format ,
            .Ql note ,
            .Ql queue_ms ,
            .Ql fetch_ms ,
            .Ql decode_ms ,
            .Ql resize_ms ,
            .Ql encode_ms ,
            .Ql cpu_ms
            and
            .Ql peak_rss_kib ,
            absent values
            .Ql null .
            .Pp
            The peak memory is the render's own: the kernel's mark is reset before
            each render.
            A server started as root, which becomes the
            .Fl -user
            and so cannot be traced or read by that user's other processes, may not
            reset it: there a render logs the peak of its connection process so far,
            which serves connections one after another (see
            .Sx SERVER ) ,
            so a render after a larger one logs the larger one's peak.
            """#
    ) {
        settings, value throws(ThumbnailError) in
        guard let format = LogFormat(rawValue: value) else {
            throw ThumbnailError(.usage, "--log-format", "'\(value)' is not combined or json")
        }
        settings.logFormat = format
    },
    OptionSpec("max-bytes", value: "N", for: .sources, help: "largest source in bytes",
        default: .value("\(Limits.defaultMaxBytes)"),
        manual: #"""
            Refuse a source file larger than
            .Ar N
            bytes before reading it, and an image on standard input as soon as more
            than that has arrived; see
            .Sx Limits .
            """#
    ) {
        settings, value throws(ThumbnailError) in settings.limits.maxBytes = try count(value, "--max-bytes")
    },
    OptionSpec("max-connections", value: "N", for: .server, help: "listen: connections at once",
        default: .value("\(ListeningOptions.defaultMaxConnections)"),
        manual: #"""
            Under
            .Fl -listen ,
            serve at most
            .Ar N
            connections at once, each in a process of its own, from 1 to 65536.
            Past it the server answers 503 itself; see
            .Sx SERVER .
            """#
    ) {
        settings, value throws(ThumbnailError) in settings.maxConnections = try count(value, "--max-connections", to: 65536)
    },
    OptionSpec("max-frames", value: "N", for: .sources, help: "most frames of an animation",
        default: .value("\(Limits.defaultMaxFrames)"),
        manual: #"""
            Refuse an animated GIF or WebP source of more than
            .Ar N
            frames, counted without decoding any.
            """#
    ) {
        settings, value throws(ThumbnailError) in settings.limits.maxFrames = try count(value, "--max-frames")
    },
    OptionSpec("max-pixels", value: "N", for: .sources, help: "largest source in pixels",
        default: .value("\(Limits.defaultMaxPixels)"),
        manual: #"""
            Refuse a source whose header says it has more than
            .Ar N
            pixels, width times height, before decoding it.
            """#
    ) {
        settings, value throws(ThumbnailError) in settings.limits.maxPixels = try count(value, "--max-pixels")
    },
    OptionSpec("max-renders", value: "N", for: .server, help: "HTTP: renders at once",
        default: .words(
            "the processors it may use: those its CPU affinity allows, fewer when its cgroup's CPU quota "
                + "(a container's or a pod's CPU limit) allows less time, rounded up"),
        manual: #"""
            Render at most
            .Ar N
            thumbnails at once, from 1 to 4096: across the connections of
            .Fl -listen ,
            or across the
            .Fl -inetd
            processes that share a
            .Fl -render-slots
            file.
            A request waits for a render of its own up to
            .Fl -queue-timeout
            seconds.
            """#
    ) {
        settings, value throws(ThumbnailError) in settings.maxRenders = try count(value, "--max-renders", to: 4096)
    },
    OptionSpec("max-requests", value: "N", for: .server, help: "HTTP: requests per connection",
        default: .value("\(HTTPLimits.defaultMaxRequests)"),
        manual: #"""
            Under
            .Fl -inetd
            and
            .Fl -listen ,
            close a connection after its
            .Ar N Ns th
            request.
            Under
            .Fl -listen ,
            a connection process that has answered
            .Ar N
            requests, over one connection or several, takes no further connection.
            """#
    ) {
        settings, value throws(ThumbnailError) in settings.maxRequests = try count(value, "--max-requests")
    },
    OptionSpec("max-side", value: "N", for: .paths, help: "largest side a path may ask for",
        default: .value("\(PathGrammar.defaultMaxSide)"),
        manual: #"""
            The largest width or height a thumbnail path or
            .Fl s
            may ask for.
            """#
    ) {
        settings, value throws(ThumbnailError) in settings.maxSide = try count(value, "--max-side")
    },
    OptionSpec("max-time", value: "SECONDS", configurable: false, for: [.batch], help: "with --base: seconds per request",
        default: .value("\(Settings.defaultMaxTime)"),
        manual: #"""
            With
            .Fl -base ,
            give up on a request after
            .Ar SECONDS ,
            from 1 to \#(Settings.longestMaxTime).
            """#
    ) {
        settings, value throws(ThumbnailError) in settings.maxTime = try count(value, "--max-time", to: Settings.longestMaxTime)
    },
    OptionSpec("metrics-listen", value: "ADDRESS", configurable: false, for: .server, help: "listen: Prometheus /metrics on [HOST:]PORT",
        manual: #"""
            Under
            .Fl -listen ,
            serve
            .Pa /metrics ,
            in the Prometheus text format, on
            .Ar ADDRESS ,
            given as to
            .Fl -listen ;
            the thumbnails' port answers
            .Pa /metrics
            with 404.
            See
            .Sx Metrics .
            """#
    ) {
        settings, value throws(ThumbnailError) in
        settings.metricsAddress = try ListenAddress(parsing: value, option: "--metrics-listen")
    },
    OptionSpec("no-server-timing", for: .server, help: "HTTP: no Server-Timing header on thumbnails",
        manual: #"""
            Under
            .Fl -inetd
            and
            .Fl -listen ,
            send no
            .Ql Server-Timing
            header; the log still has the figures.
            """#
    ) {
        settings, _ in settings.serverTiming = false
    },
    OptionSpec("origin-token-file", value: "FILE", for: .server, help: "HTTP: require the CDN's origin token in FILE",
        manual: #"""
            In the HTTP modes, require every request to carry the token in
            .Ar FILE
            in the origin token header; see
            .Sx INETD OPERATION .
            The token is the file's one line, at least \#(Access.minimumSecretBytes) bytes.
            """#
    ) {
        settings, value in settings.originTokenFile = value
    },
    OptionSpec("origin-token-header", value: "NAME", for: .server, help: "HTTP: origin token header",
        default: .value(Access.defaultOriginTokenHeader),
        manual: #"""
            The header that carries the origin token.
            """#
    ) {
        settings, value throws(ThumbnailError) in
        guard !value.isEmpty, value.utf8.allSatisfy(isTokenByte) else {
            throw ThumbnailError(.usage, "--origin-token-header", "'\(value)' is not an HTTP header name")
        }
        settings.originTokenHeader = value
    },
    OptionSpec("output", "o", value: "FILE", configurable: false, for: [.render], help: "write to FILE atomically",
        default: .words("stdout"),
        manual: #"""
            Write the thumbnail to
            .Ar FILE ,
            atomically, instead of standard output; never over the source.
            .Fl o Fl
            is standard output, which
            .Nm
            refuses when it is a terminal.
            In the flags form its extension names the format when
            .Fl f
            is absent:
            .Pa .jpg ,
            .Pa .jpeg ,
            .Pa .png ,
            .Pa .webp ,
            .Pa .gif
            or
            .Pa .avif ,
            in any case.
            Another extension, or one that disagrees with
            .Fl f ,
            is a usage error; no extension leaves the source's own format.
            .Pp
            With several sources,
            .Ar FILE
            is a pattern:
            .Ql %s
            stands for each source's base name without its extension and
            .Ql %d
            for its directory as given
            .Pq Ql .\& for none ,
            so
            .Ql -o 'thumbs/%s.webp'
            writes one WebP file a source.
            A pattern that gives two sources the same file is refused before anything
            is written.
            Each source that fails gets one line on standard error and the others go
            on; the exit status is that of the first failure.
            .Pp
            The directory of each file must exist:
            .Fl o
            creates none, as
            .Xr cp 1
            creates none, and a missing one is refused (exit 73) before anything is
            rendered.
            .Fl -output-dir ,
            whose files are named by their canonical paths, creates the directories
            they need.
            """#
    ) {
        settings, value in settings.output = value
    },
    OptionSpec("output-dir", value: "DIR", configurable: false, for: [.batch], help: "with --batch: write DIR/<canonical path>",
        manual: #"""
            With
            .Fl -batch ,
            also write each thumbnail to
            .Ar DIR
            followed by its canonical path, each segment decoded, with the output
            format's extension added when the name lacks it; see
            .Sx BATCH MODE .
            """#
    ) {
        settings, value in settings.outputDirectory = value
    },
    OptionSpec("pad", for: .request, help: "fit inside the box, then pad to the box",
        manual: #"""
            Fit inside the box, then pad to exactly the box with the background,
            the image centred.
            Needs both a width and a height.
            The
            .Cm pad
            option of a thumbnail path.
            """#
    ) { settings, _ in
        settings.pad = true
    },
    OptionSpec("picture", configurable: false, for: .markup, help: "print the <picture> element for a box",
        manual: #"""
            Print the HTML
            .Ql <picture>
            element for the box that
            .Fl s
            and the flags, or the
            .Ar url-path ,
            describe, and exit; nothing is rendered.
            See
            .Sx PICTURE MARKUP .
            With
            .Fl -batch ,
            print one element per path of the list instead of rendering them.
            """#
    ) {
        settings, _ in settings.modes.append(.picture)
    },
    OptionSpec("placeholder", value: "KIND", configurable: false, for: .markup, help: "--picture: none, colour or blur",
        default: .value(Placeholder.none.rawValue), completion: .words(Placeholder.allCases.map(\.rawValue)),
        manual: #"""
            With
            .Fl -picture ,
            what the
            .Ql <img>
            shows in the box it reserves until the thumbnail has loaded: nothing
            .Pq Cm none ,
            the source's average colour as its background colour
            .Pq Cm colour ,
            or the source at \#(Placeholder.side) pixels on its long side, inlined as its background
            image, which the browser scales up blurred
            .Pq Cm blur .
            A source that may be transparent gets none, since it would show through.
            The source is decoded for it; see
            .Sx PICTURE MARKUP .
            """#
    ) {
        settings, value throws(ThumbnailError) in
        guard let placeholder = Placeholder(rawValue: value) else {
            throw ThumbnailError(
                .usage, "--placeholder", "'\(value)' is not one of \(Placeholder.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        settings.picture.placeholder = placeholder
    },
    OptionSpec("prefix", value: "PATH", for: .paths, help: "path prefix, \"\" for none",
        default: .value(PathGrammar.defaultPrefix),
        manual: #"""
            The path prefix of thumbnail paths.
            It starts with a slash and does not end with one, or it is empty
            .Pq Fl -prefix Ns = Ns '' ,
            in which case every operand that starts with a slash is a thumbnail path.
            """#
    ) {
        settings, value throws(ThumbnailError) in
        guard value.isEmpty || (value.hasPrefix("/") && !value.hasSuffix("/")) else {
            throw ThumbnailError(.usage, "--prefix", "'\(value)' must be empty or start, not end, with '/'")
        }
        // It names directories under --output-dir: no segment may climb out.
        let segments = value.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard !segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            throw ThumbnailError(.usage, "--prefix", "'\(value)' has an empty, '.' or '..' segment")
        }
        settings.prefix = value
    },
    OptionSpec(
        "quality", "q", value: "N", for: .request,
        help: "encoder quality, \(PathGrammar.qualities.lowerBound)-\(PathGrammar.qualities.upperBound)",
        default: .words("the format's"),
        manual: #"""
            Encoder quality, \#(PathGrammar.qualities.lowerBound) to \#(PathGrammar.qualities.upperBound), of the output
            format; each lossy format has its own default, \#(OutputFormat.defaultQualities)
            .Pq see Sx Output formats .
            The
            .Cm q Ns Ar N
            option of a thumbnail path.
            """#
    ) {
        settings, value throws(ThumbnailError) in
        settings.quality = try count(value, "--quality", to: PathGrammar.qualities.upperBound)
    },
    OptionSpec("queue-timeout", value: "SEC", for: .server, help: "HTTP: seconds a render may wait",
        default: .value("\(RenderBound.defaultQueueTimeout)"),
        manual: #"""
            Under
            .Fl -inetd
            and
            .Fl -listen ,
            how long a request may wait for one of the
            .Fl -max-renders
            renders, from 0 to 3600 seconds.
            After that it gets 503 with
            .Ql Retry-After: 1
            and
            .Ql Cache-Control: no-store ,
            and a log line says so.
            """#
    ) {
        settings, value throws(ThumbnailError) in settings.queueTimeout = try count(value, "--queue-timeout", from: 0, to: 3600)
    },
    OptionSpec("read-timeout", value: "SEC", for: .server, help: "HTTP: seconds to read a request",
        default: .value("\(HTTPLimits.defaultReadTimeout)"),
        manual: #"""
            Under
            .Fl -inetd
            and
            .Fl -listen ,
            a request whose header block has not arrived
            .Ar SEC
            seconds after its first byte gets 408 and the connection closes; a reply
            that the client has not taken in that time ends the connection too.
            """#
    ) {
        settings, value throws(ThumbnailError) in settings.readTimeout = try count(value, "--read-timeout")
    },
    OptionSpec("render-slots", value: "FILE", for: .server, help: "HTTP: lock file that counts renders at once",
        manual: #"""
            The lock file that counts the renders running at once: every process that
            renders for
            .Fl -inetd
            or
            .Fl -listen
            with the same
            .Ar FILE
            shares the
            .Fl -max-renders
            bound.
            It must be a regular file that the serving user owns; it is created if
            missing.
            Under
            .Fl -inetd
            the default is
            .Pa thumbnail-render-slots. Ns Ar uid
            in
            .Ev TMPDIR ,
            or in
            .Pa /tmp ,
            one for every process of the user; a
            .Fl -listen
            server has its own unless this is given.
            """#
    ) {
        settings, value in settings.renderSlots = value
    },
    OptionSpec("root", "r", value: "ROOT", for: .sources, help: "DIR, s3://BUCKET[/P] or https://HOST[/P]",
        default: .words("the current directory; --inetd, --listen and --check-config have none"),
        completion: .directories,
        manual: #"""
            Where sources are read from:
            .Ar ROOT
            is a directory,
            .Ql s3:// Ns Ar bucket Ns Op / Ns Ar prefix ,
            or
            .Ql https:// Ns Ar host Ns Oo : Ns Ar port Oc Ns Op / Ns Ar prefix
            .Pq or Ql http:// ;
            see
            .Sx STORAGE .
            """#
    ) {
        settings, value throws(ThumbnailError) in
        settings.root = try StorageRoot(parsing: value)
        settings.rootGiven = true
    },
    OptionSpec("s3-endpoint", value: "URL", for: .sources, help: "S3-compatible store",
        default: .words("AWS"),
        manual: #"""
            Send the requests of an
            .Ql s3://
            root to
            .Ar URL ,
            scheme, host and port only, in path style
            .Pq Ar URL Ns / Ns Ar bucket Ns / Ns Ar key ,
            for an S3-compatible store such as MinIO, R2 or Ceph.
            """#
    ) {
        settings, value throws(ThumbnailError) in settings.remote.endpoint = try RemoteOptions.endpoint(value)
    },
    OptionSpec("s3-region", value: "REGION", for: .sources, help: "the bucket's region",
        default: .words("AWS_REGION, AWS_DEFAULT_REGION, the AWS config file's, else \(RemoteOptions.defaultRegion)"),
        manual: #"""
            The bucket's region, which requests are signed for; see
            .Sx STORAGE
            for where it comes from without this option.
            """#
    ) {
        settings, value throws(ThumbnailError) in
        guard !value.isEmpty, value.utf8.allSatisfy({ isTokenByte($0) && $0 != UInt8(ascii: ":") }) else {
            throw ThumbnailError(.usage, "--s3-region", "'\(value)' is not a region name")
        }
        settings.remote.region = value
    },
    OptionSpec("shutdown-timeout", value: "SEC", for: .server, help: "listen: seconds to finish on SIGTERM",
        default: .value("\(ListeningOptions.defaultShutdownTimeout)"),
        manual: #"""
            Under
            .Fl -listen ,
            how long the server waits on
            .Dv SIGTERM
            for the requests in progress to finish, from 1 to 3600 seconds; the
            default is within the 30 seconds Kubernetes allows before it kills a
            container.
            What is left after it is killed.
            """#
    ) {
        settings, value throws(ThumbnailError) in settings.shutdownTimeout = try count(value, "--shutdown-timeout", to: 3600)
    },
    OptionSpec("sign", configurable: false, for: [.sign], help: "print URL-PATH canonical and signed; no render",
        manual: #"""
            Print the canonical form of the
            .Ar url-path
            operand, signed with the first key of
            .Fl -key-file ,
            and exit; nothing is read or rendered.
            A signature the path already has is dropped, not checked, so that paths
            signed with an old key can be signed again with the new one.
            A size that
            .Fl -sizes
            does not allow is refused, since the signed path would be.
            """#
    ) {
        settings, _ in settings.modes.append(.sign)
    },
    OptionSpec("size", "s", value: "WxH", for: .request, help: "box to fit: WxH, Wx or xH",
        completion: .allowedSizes,
        manual: #"""
            The box to fit:
            .Ar W Ns x Ns Ar H ,
            .Ar W Ns x
            (width only) or
            .No x Ns Ar H
            (height only); a single number
            .Ar N
            is the square
            .Ar N Ns x Ns Ar N .
            A thumbnail path keeps its strict grammar.
            """#
    ) { settings, value in
        settings.size = value
    },
    OptionSpec("sizes", value: "LIST", for: .paths, help: "allow only these sizes: 100x100,200x200,x64",
        manual: #"""
            Allow only the sizes in
            .Ar LIST ,
            comma-separated
            .Pq Ql 100x100,200x200,x64 ;
            see
            .Sx Allowed sizes .
            """#
    ) {
        settings, value throws(ThumbnailError) in
        // Checked against --max-side once every option is read (Access).
        var sizes: [BoxSize] = []
        for item in value.split(separator: ",", omittingEmptySubsequences: false).map(\.trimmingSpaces) {
            do throws(ThumbnailError) {
                sizes.append(try BoxSize.parse(item, maxSide: .max))
            } catch {
                throw ThumbnailError(.usage, "--sizes", "'\(item)': " + error.reason)
            }
        }
        settings.allowedSizes = sizes
    },
    OptionSpec("smart", for: .request, help: "with --crop: keep the most interesting part",
        manual: #"""
            With
            .Fl -crop ,
            put the crop window where the image holds the most visual interest; see
            .Sx Smart crops .
            The
            .Cm smart
            option of a thumbnail path.
            """#
    ) { settings, _ in
        settings.smart = true
    },
    OptionSpec("source-timeout", value: "SEC", for: .sources, help: "URL roots: seconds per source",
        default: .value("\(RemoteOptions.defaultTimeout)"),
        manual: #"""
            For a URL root, the most seconds that connecting to the store and reading
            one source together may take, from 1 to \#(RemoteOptions.maxTimeout).
            A store that takes longer is the store's failure.
            """#
    ) {
        settings, value throws(ThumbnailError) in
        settings.remote.timeout = try count(value, "--source-timeout", to: RemoteOptions.maxTimeout)
    },
    OptionSpec("user", value: "NAME", configurable: false, for: .server, help: "HTTP: serve as NAME when started as root",
        manual: #"""
            Serve as the user
            .Ar NAME ,
            with its groups, when started as root: the
            .Fl -listen
            server becomes
            .Ar NAME
            once it has bound its sockets, so a port under 1024 can be one of them,
            and before it reads its key and token files, its log file or any source;
            started as root without it, the server refuses to start, so that no render
            runs as root.
            The
            .Fl -config
            file and the environment are read before, as root, and again as
            .Ar NAME
            on
            .Dv SIGHUP ,
            so a file that only root may read starts the server but refuses every
            reload.
            Under
            .Fl -inetd ,
            where the super-server chooses the user, the process opens its
            .Fl -log
            file and then becomes
            .Ar NAME ,
            before it reads its key and token files or any source.
            Started as another user,
            .Ar NAME
            may only be that user.
            """#
    ) {
        settings, value throws(ThumbnailError) in
        guard !value.isEmpty else { throw ThumbnailError(.usage, "--user", "needs a user name") }
        settings.user = value
    },
    OptionSpec("version", configurable: false, for: [.version], help: "print versions and exit",
        manual: #"""
            Print the version of
            .Nm ,
            of ImageMagick, and the delegate libraries ImageMagick was built with, and
            exit.
            """#
    ) {
        settings, _ in settings.modes.append(.version)
    },
]

/// A whole number option value, `minimum` or more.
private func count(
    _ value: String, _ option: String, from minimum: Int = 1, to maximum: Int? = nil
) throws(ThumbnailError) -> Int {
    guard let number = decimal(Substring(value)), number >= minimum, number <= maximum ?? .max else {
        let range = maximum.map { "from \(minimum) to \($0)" } ?? "from \(minimum)"
        throw ThumbnailError(.usage, option, "'\(value)' is not a whole number \(range)")
    }
    return number
}

/// The columns `--help` fits in.
let helpWidth = 80

/// The usage line printed by `--help` and after a usage error.
package let usageLine = """
    usage: thumbnail [-s WxH] [-f FORMAT] [-o FILE] [options] SOURCE | URL-PATH | -
           thumbnail -s WxH -o PATTERN [-j N] [options] SOURCE...
           thumbnail --batch FILE|- [-j N] [--output-dir DIR | --base URL] [options]
           thumbnail --inetd | --listen [HOST:]PORT... | --check-config [options]
           thumbnail --sign | --explain | --picture [options] URL-PATH | SOURCE
    """

/// The command line split into options (in order) and operands, by a flat
/// hand-written loop: `-abc` bundles, `-sVALUE`, `-s VALUE`, `--long=VALUE`,
/// `--long VALUE`, `--` ends options, `-` is an operand (stdin). An unknown
/// option is noted and skipped, so the mode options after it are still seen:
/// the HTTP mode must know it is one before it can report anything.
struct ParsedArguments {
    var options: [(spec: OptionSpec, value: String)] = []
    var operands: [String] = []
    /// The first problem found.
    var error: ThumbnailError? = nil

    init(_ arguments: [String], table: [OptionSpec] = optionTable) {
        var index = arguments.startIndex
        func note(_ problem: ThumbnailError) { error = error ?? problem }
        func take(_ spec: OptionSpec, _ value: String?) {
            if let value {
                options.append((spec, value))
            } else if index < arguments.endIndex {
                options.append((spec, arguments[index]))
                index += 1
            } else {
                note(ThumbnailError(.usage, "--\(spec.long)", "needs a value (\(spec.value ?? ""))"))
            }
        }
        while index < arguments.endIndex {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                operands += arguments[index...]
                break
            } else if argument.hasPrefix("--") {
                let body = argument.dropFirst(2)
                let name = String(body.prefix { $0 != "=" })
                let inline: String? = body.contains("=") ? String(body.drop { $0 != "=" }.dropFirst()) : nil
                guard let spec = table.first(where: { $0.long == name }) else {
                    note(unknownOption("--" + name, table: table))
                    continue
                }
                if spec.value == nil {
                    if inline != nil { note(ThumbnailError(.usage, "--\(name)", "takes no value")) }
                    options.append((spec, ""))
                } else {
                    take(spec, inline)
                }
            } else if argument.hasPrefix("-"), argument != "-" {
                var letters = argument.dropFirst()
                while let letter = letters.first {
                    letters = letters.dropFirst()
                    guard let spec = table.first(where: { $0.short == letter }) else {
                        note(unknownOption("-" + String(letter), table: table))
                        continue
                    }
                    if spec.value == nil {
                        options.append((spec, ""))
                    } else {
                        take(spec, letters.isEmpty ? nil : String(letters))
                        break
                    }
                }
            } else {
                operands.append(argument)
            }
        }
    }
}

/// An unknown option, with the nearest known one as a suggestion.
func unknownOption(_ option: String, table: [OptionSpec]) -> ThumbnailError {
    let name = option.drop { $0 == "-" }
    let nearest = table.min { editDistance(name, $0.long) < editDistance(name, $1.long) }
    let candidates = table.filter { $0.long.hasPrefix(name) && !name.isEmpty }
    // The one candidate that all the others start with: --for is --format, not --formats.
    let shortest = candidates.min { $0.long.count < $1.long.count }
    let unique = shortest.flatMap { first in candidates.allSatisfy { $0.long.hasPrefix(first.long) } ? first : nil }
    let suggestion = unique ?? nearest.flatMap { editDistance(name, $0.long) <= 2 ? $0 : nil }
    return ThumbnailError(
        .usage, option, "unknown option" + (suggestion.map { "; did you mean --\($0.long)?" } ?? "; see --help"))
}

/// Levenshtein distance, for suggestions.
func editDistance(_ a: some StringProtocol, _ b: some StringProtocol) -> Int {
    let a = Array(a), b = Array(b)
    var previous = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...max(b.count, 1) where !b.isEmpty {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return a.isEmpty ? b.count : previous[b.count]
}

/// `--help`: the usage line and the option table, within 80 columns.
/// An option's default is shown where the line has room for it.
package func helpText(table: [OptionSpec] = optionTable) -> String {
    let width = table.map(\.synopsis.count).max() ?? 0
    let lines = table.map { spec in
        let line = "  " + spec.synopsis + String(repeating: " ", count: width - spec.synopsis.count + 2) + spec.help
        let withDefault = spec.defaultValue.map { line + " " + $0.help } ?? line
        return withDefault.count <= helpWidth ? withDefault : line
    }
    return usageLine + "\n\nOptions:\n" + lines.joined(separator: "\n") + "\n\n" + batchHelp
}
