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

_thumbnail()
{
    local cur prev words cword split
    _init_completion -s || return

    case $prev in
        -f | --format)
            COMPREPLY=($(compgen -W 'jpeg png webp gif avif' -- "$cur"))
            return
            ;;
        --formats)
            COMPREPLY=($(compgen -W 'avif,webp,jpeg avif,webp,png webp,jpeg' -- "$cur"))
            return
            ;;
        --densities)
            COMPREPLY=($(compgen -W '1,2 1,2,3' -- "$cur"))
            return
            ;;
        --log-format)
            COMPREPLY=($(compgen -W 'combined json' -- "$cur"))
            return
            ;;
        --gravity)
            COMPREPLY=($(compgen -W 'n ne e se s sw w nw c' -- "$cur"))
            return
            ;;
        -s | --size)
            COMPREPLY=($(compgen -W "$(_thumbnail_sizes)" -- "$cur"))
            return
            ;;
        --listen)
            COMPREPLY=($(compgen -W 'systemd' -- "$cur"))
            return
            ;;
        --user)
            COMPREPLY=($(compgen -u -- "$cur"))
            return
            ;;
        -o | --output | --config | --log | --key-file | --origin-token-file | --batch | --ca-file | --render-slots)
            _filedir
            return
            ;;
        -r | --root | --output-dir)
            _filedir -d
            return
            ;;
        -q | --quality | --background | --focal | --prefix | --max-* | --cache-control | --error-max-age | --idle-timeout | \
            --read-timeout | --origin-token-header | --sizes | -j | --jobs | --base | --client-ip-header | --s3-endpoint | \
            --s3-region | --source-timeout | --alt | --queue-timeout | --shutdown-timeout | --metrics-listen)
            return
            ;;
    esac
    $split && return

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W '--alt --background --base --batch --ca-file
            --cache-control --check-config --client-ip-header --config --crop
            --densities --error-max-age --explain --focal -f --format --formats
            --gravity -h --help --idle-timeout --inetd -j --jobs --key-file --listen
            --log --log-format --max-bytes --max-connections --max-frames
            --max-pixels --max-renders --max-requests --max-side --max-time
            --metrics-listen --no-server-timing --origin-token-file --origin-token-header -o --output --output-dir
            --pad --picture --prefix -q --quality --queue-timeout --read-timeout
            --render-slots -r --root --s3-endpoint --s3-region --shutdown-timeout
            --sign -s --size --sizes --smart --source-timeout --user --version' -- "$cur"))
        return
    fi
    _filedir
} &&
    complete -F _thumbnail thumbnail
