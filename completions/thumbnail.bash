# bash completion for thumbnail(1); needs the bash-completion package.

# The sizes a server allows, when the command line gives them: `--sizes LIST`,
# or a `sizes = LIST` line in the `--config FILE` (the command line wins).
_thumbnail_sizes()
{
    local i word sizes="" config=""
    for ((i = 1; i < ${#words[@]}; i++)); do
        word=${words[i]}
        case $word in
            --sizes=*) sizes=${word#*=} ;;
            --sizes) sizes=${words[i + 1]-} ;;
            --config=*) config=${word#*=} ;;
            --config) config=${words[i + 1]-} ;;
        esac
    done
    if [[ -z $sizes && -r $config ]]; then
        sizes=$(sed -n 's/#.*//; s/^[[:space:]]*sizes[[:space:]]*=//p' -- "$config" | tail -n 1)
    fi
    local -a list
    IFS=', ' read -ra list <<<"$sizes"
    printf '%s\n' "${list[@]}"
}

# completion: written by make docs; edit Sources/Documentation or the tables it reads
_thumbnail()
{
    local cur prev words cword split
    _init_completion -s || return

    case $prev in
        --client-ip-header)
            COMPREPLY=($(compgen -W 'CloudFront-Viewer-Address X-Forwarded-For' -- "$cur"))
            return
            ;;
        --densities)
            COMPREPLY=($(compgen -W '1,2 1,2,3' -- "$cur"))
            return
            ;;
        -f | --format)
            COMPREPLY=($(compgen -W 'jpeg png webp gif avif' -- "$cur"))
            return
            ;;
        --formats)
            COMPREPLY=($(compgen -W 'avif,webp,jpeg avif,webp,png webp,jpeg' -- "$cur"))
            return
            ;;
        --gravity)
            COMPREPLY=($(compgen -W 'c n ne e se s sw w nw' -- "$cur"))
            return
            ;;
        --log-format)
            COMPREPLY=($(compgen -W 'combined json' -- "$cur"))
            return
            ;;
        -s | --size)
            COMPREPLY=($(compgen -W "$(_thumbnail_sizes)" -- "$cur"))
            return
            ;;
        --batch | --ca-file | --config | --key-file | --log | --origin-token-file | -o | --output \
            | --render-slots)
            _filedir
            return
            ;;
        --output-dir | -r | --root)
            _filedir -d
            return
            ;;
        --alt | --background | --base | --cache-control | --error-max-age | --focal | \
            --idle-timeout | -j | --jobs | --listen | --max-bytes | --max-connections | --max-frames | \
            --max-pixels | --max-renders | --max-requests | --max-side | --max-time | --metrics-listen \
            | --origin-token-header | --prefix | -q | --quality | --queue-timeout | --read-timeout | \
            --s3-endpoint | --s3-region | --shutdown-timeout | --sizes | --source-timeout | --user)
            # the user's own value
            return
            ;;
    esac
    $split && return

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W '--alt --background --base --batch --ca-file --cache-control --client-ip-header
            --check-config --config --crop --densities --error-max-age --explain --focal -f
            --format --formats --gravity -h --help --idle-timeout --inetd -j --jobs
            --key-file --listen --log --log-format --max-bytes --max-connections
            --max-frames --max-pixels --max-renders --max-requests --max-side --max-time
            --metrics-listen --no-server-timing --origin-token-file --origin-token-header -o
            --output --output-dir --pad --picture --prefix -q --quality --queue-timeout
            --read-timeout --render-slots -r --root --s3-endpoint --s3-region
            --shutdown-timeout --sign -s --size --sizes --smart --source-timeout --user
            --version' -- "$cur"))
        return
    fi
    _filedir
} &&
    complete -F _thumbnail thumbnail
# end of completion
