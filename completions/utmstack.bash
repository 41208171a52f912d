# bash completion for utmstack (installed by `make install` as
# share/bash-completion/completions/utmstack)
_utmstack() {
    local cur prev cmd i
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    local global="--url --ca --servername --pin --cert --key --insecure --user --password-file --api-key-file
        --bearer-file --token-file --allow-insecure-token --remember-me --retry --timeout --max-time -m
        --silent -s --verbose -v --version -V --help -h"
    local operators="IS IS_NOT CONTAIN DOES_NOT_CONTAIN CONTAIN_ONE_OF DOES_NOT_CONTAIN_ONE_OF IS_ONE_OF
        IS_NOT_ONE_OF IS_ONE_OF_TERMS EXIST DOES_NOT_EXIST IS_BETWEEN IS_NOT_BETWEEN IS_IN_FIELDS
        IS_NOT_IN_FIELDS ENDS_WITH NOT_ENDS_WITH START_WITH NOT_START_WITH IS_GREATER_THAN IS_LESS_THAN_OR_EQUALS"
    case $prev in
        --ca|--cert|--key|--password-file|--api-key-file|--bearer-file|--token-file)
            COMPREPLY=($(compgen -f -- "$cur")); return ;;
        -d|--data)
            [[ $cur == @* ]] && COMPREPLY=($(compgen -f -P @ -- "${cur#@}")); return ;;
        --url|--servername|--pin|--user|--retry|--timeout|--max-time|-m|--index|--page|--size|--top|-H|--header)
            return ;;
        --sort)
            return ;;
        --filter)
            if [[ $cur == *:* ]]; then
                local field=${cur%%:*}
                COMPREPLY=($(compgen -P "$field:" -W "$operators" -- "${cur#*:}"))
            fi
            return ;;
    esac
    cmd=
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            login|search|get|delete|post|put|version|help) cmd=${COMP_WORDS[i]}; break ;;
        esac
    done
    case $cmd in
        "") COMPREPLY=($(compgen -W "login search get delete post put version help $global" -- "$cur")) ;;
        search) COMPREPLY=($(compgen -W "--index --filter --page --size --top --sort --all $global" -- "$cur")) ;;
        post|put) COMPREPLY=($(compgen -W "--data -d -H --header $global" -- "$cur")) ;;
        get|delete) COMPREPLY=($(compgen -W "-H --header $global" -- "$cur")) ;;
        login) COMPREPLY=($(compgen -W "$global" -- "$cur")) ;;
        help) COMPREPLY=($(compgen -W "login search get delete post put version filter" -- "$cur")) ;;
    esac
}
complete -F _utmstack utmstack
