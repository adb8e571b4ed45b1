import ThumbnailCore

#if canImport(Glibc)
    import Glibc
#endif

exit(run(Array(CommandLine.arguments.dropFirst()), io: .standard))
