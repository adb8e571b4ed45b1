# fish completion for thumbnail(1)

# The sizes a server allows, when the command line gives them: `--sizes LIST`,
# or a `sizes = LIST` line in the `--config FILE` (the command line wins).
function __thumbnail_sizes
    set -l tokens (commandline -opc)
    set -l sizes
    set -l config
    for i in (seq (count $tokens))
        switch $tokens[$i]
            case '--sizes=*'
                set sizes (string replace -- '--sizes=' '' $tokens[$i])
            case --sizes
                set sizes $tokens[(math $i + 1)]
            case '--config=*'
                set config (string replace -- '--config=' '' $tokens[$i])
            case --config
                set config $tokens[(math $i + 1)]
        end
    end
    if test -z "$sizes"; and test -r "$config"
        set sizes (string replace -r '#.*' '' <$config | string replace -rf '^\s*sizes\s*=' '')[-1]
    end
    string split -n ',' -- $sizes | string trim
end

# completion: written by make docs; edit Sources/Documentation or the tables it reads
complete -c thumbnail -l alt -x -d '--picture: the img\'s alt text (default: empty)'
complete -c thumbnail -l background -x -d 'pad and JPEG alpha background (default ffffff)'
complete -c thumbnail -l base -x -d 'the CDN: --batch GETs from it, --picture links'
complete -c thumbnail -l batch -r -F -d 'render the paths listed in FILE (- for stdin)'
complete -c thumbnail -l ca-file -r -F -d 'URL roots: trust the CAs in FILE'
complete -c thumbnail -l cache-control -x -d 'inetd: Cache-Control of a thumbnail (default public, max-age=31536000, immutable)'
complete -c thumbnail -l client-ip-header -x -a 'CloudFront-Viewer-Address X-Forwarded-For' -d 'inetd: log the client the CDN names in NAME'
complete -c thumbnail -l check-config -d 'check the inetd options, name every problem'
complete -c thumbnail -l config -r -F -d 'read long options from FILE, one a line'
complete -c thumbnail -l crop -d 'fill the box exactly, cropping the overflow'
complete -c thumbnail -l densities -x -a '1,2 1,2,3' -d '--picture: pixel densities (default 1,2)'
complete -c thumbnail -l error-max-age -x -d 'inetd: max-age of an error reply (default 60)'
complete -c thumbnail -l explain -d 'print the canonical path, checks and plan only'
complete -c thumbnail -l focal -x -d 'crop centre, X,Y in per cent (default 50,50)'
complete -c thumbnail -s f -l format -x -a 'jpeg png webp gif avif' -d 'jpeg, png, webp, gif or avif (default: the source\'s)'
complete -c thumbnail -l formats -x -a 'avif,webp,jpeg avif,webp,png webp,jpeg' -d '--picture: formats (default avif,webp,jpeg)'
complete -c thumbnail -l gravity -x -a 'c n ne e se s sw w nw' -d 'where crop or pad goes (default c)'
complete -c thumbnail -s h -l help -d 'print this help and exit'
complete -c thumbnail -l idle-timeout -x -d 'inetd: seconds to await a request (default 15)'
complete -c thumbnail -l inetd -d 'serve HTTP on stdin/stdout (inetd, systemd)'
complete -c thumbnail -s j -l jobs -x -d 'paths or sources at once (default: one a core)'
complete -c thumbnail -l key-file -r -F -d 'URL signing keys, one a line; the first signs'
complete -c thumbnail -l listen -x -d 'serve HTTP on [HOST:]PORT, or systemd\'s'
complete -c thumbnail -l log -r -F -d 'inetd: request log file (default: syslog)'
complete -c thumbnail -l log-format -x -a 'combined json' -d 'inetd: combined or json lines (default combined)'
complete -c thumbnail -l max-bytes -x -d 'largest source in bytes (default 52428800)'
complete -c thumbnail -l max-connections -x -d 'listen: connections at once (default 512)'
complete -c thumbnail -l max-frames -x -d 'most frames of an animation (default 1000)'
complete -c thumbnail -l max-pixels -x -d 'largest source in pixels (default 50000000)'
complete -c thumbnail -l max-renders -x -d 'HTTP: renders at once (default: the number of processor cores online)'
complete -c thumbnail -l max-requests -x -d 'inetd: requests per connection (default 100)'
complete -c thumbnail -l max-side -x -d 'largest side a path may ask for (default 4096)'
complete -c thumbnail -l max-time -x -d 'with --base: seconds per request (default 30)'
complete -c thumbnail -l metrics-listen -x -d 'listen: Prometheus /metrics on [HOST:]PORT'
complete -c thumbnail -l no-server-timing -d 'HTTP: no Server-Timing header on thumbnails'
complete -c thumbnail -l origin-token-file -r -F -d 'HTTP: require the CDN\'s origin token in FILE'
complete -c thumbnail -l origin-token-header -x -d 'origin token header (default X-Origin-Token)'
complete -c thumbnail -s o -l output -r -F -d 'write to FILE atomically (default: stdout)'
complete -c thumbnail -l output-dir -x -a '(__fish_complete_directories)' -d 'with --batch: write DIR/<canonical path>'
complete -c thumbnail -l pad -d 'fit inside the box, then pad to the box'
complete -c thumbnail -l picture -d 'print the <picture> element for a box'
complete -c thumbnail -l prefix -x -d 'path prefix, "" for none (default /thumbnail)'
complete -c thumbnail -s q -l quality -x -d 'encoder quality, 1-100 (default: the format\'s)'
complete -c thumbnail -l queue-timeout -x -d 'HTTP: seconds a render may wait (default 5)'
complete -c thumbnail -l read-timeout -x -d 'inetd: seconds to read a request (default 10)'
complete -c thumbnail -l render-slots -r -F -d 'HTTP: lock file that counts renders at once'
complete -c thumbnail -s r -l root -x -a '(__fish_complete_directories)' -d 'DIR, s3://BUCKET[/P] or https://HOST[/P] (default: the current directory)'
complete -c thumbnail -l s3-endpoint -x -d 'S3-compatible store (default: AWS)'
complete -c thumbnail -l s3-region -x -d 'the bucket\'s region (default: AWS_REGION, AWS_DEFAULT_REGION, the AWS config file\'s, else us-east-1)'
complete -c thumbnail -l shutdown-timeout -x -d 'listen: seconds to finish on SIGTERM (default 20)'
complete -c thumbnail -l sign -d 'print URL-PATH canonical and signed; no render'
complete -c thumbnail -s s -l size -x -a '(__thumbnail_sizes)' -d 'box to fit: WxH, Wx or xH'
complete -c thumbnail -l sizes -x -d 'allow only these sizes: 100x100,200x200,x64'
complete -c thumbnail -l smart -d 'with --crop: keep the most interesting part'
complete -c thumbnail -l source-timeout -x -d 'URL roots: seconds per source (default 30)'
complete -c thumbnail -l user -x -d 'HTTP: serve as NAME when started as root'
complete -c thumbnail -l version -d 'print versions and exit'
# end of completion
