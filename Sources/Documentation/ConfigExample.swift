import ThumbnailCore

/// The example `--config` file's list of the HTTP mode's defaults, commented out.
func configDefaults() -> String {
    optionTable.compactMap { spec in
        guard spec.configurable, spec.modes.contains(.inetd), case .value(let value) = spec.defaultValue else { return nil }
        return "# \(spec.long) = \(value)\n"
    }.joined()
}
