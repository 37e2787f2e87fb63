# bash completion for phiscan(1)                            -*- shell-script -*-
# Installed by `make install` as PREFIX/share/bash-completion/completions/phiscan.

_phiscan()
{
    local cur prev cmd i
    COMPREPLY=()
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    cmd=
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            -*) ;;
            *) cmd=${COMP_WORDS[i]}; break ;;
        esac
    done

    local common="--jobs --format --output --show-values --fail-on --min-confidence
        --rules --no-default-rules --safe-harbor --exclude --follow --max-size --color
        --no-progress --quiet --stats --config --no-config --case-depth --roster
        --no-case-sweep --help"
    local strip_opts="--op --key --case-id --verify --strip-hps --retain-long-dates
        --retain-modified-dates --retain-patient-chars --retain-device
        --retain-institution --retain-uids --retain-safe-private --clean-descriptors"

    case $prev in
        -f|--format) COMPREPLY=($(compgen -W "human json sarif junit" -- "$cur")); return ;;
        --fail-on) COMPREPLY=($(compgen -W "quasi provider patient" -- "$cur")); return ;;
        --color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
        --op) COMPREPLY=($(compgen -W "tag mask remove hash pseudonym" -- "$cur")); return ;;
        -o|--out) COMPREPLY=($(compgen -d -- "$cur")); return ;;
        -j|--jobs|--min-confidence|--max-size|--case-id|--exclude) return ;;
        --case-depth) COMPREPLY=($(compgen -W "0 1" -- "$cur")); return ;;
        --output|--rules|--key|--config|--files-from|--baseline|--baseline-out|--manifest|--roster)
            COMPREPLY=($(compgen -f -- "$cur")); return ;;
    esac

    case $cmd in
        "")
            COMPREPLY=($(compgen -W "scan strip filter digest rules explain config --version --help" -- "$cur")) ;;
        scan)
            if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$common --files-from --null --baseline --baseline-out --key" -- "$cur"))
            else
                COMPREPLY=($(compgen -f -- "$cur"))
            fi ;;
        strip)
            if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$common $strip_opts --out --in-place --force --drop-unstrippable --manifest --files-from --null" -- "$cur"))
            else
                COMPREPLY=($(compgen -f -- "$cur"))
            fi ;;
        filter)
            COMPREPLY=($(compgen -W "$common $strip_opts" -- "$cur")) ;;
        digest)
            if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "--key --jobs --show-values --exclude --follow --files-from --null --no-progress --config --no-config --rules --no-default-rules --case-depth --roster --no-case-sweep --help" -- "$cur"))
            else
                COMPREPLY=($(compgen -f -- "$cur"))
            fi ;;
        rules)
            COMPREPLY=($(compgen -W "list test export --rules --no-default-rules --help" -- "$cur")) ;;
        config)
            if [[ $prev == check ]]; then
                COMPREPLY=($(compgen -f -- "$cur"))
            else
                COMPREPLY=($(compgen -W "check --help" -- "$cur"))
            fi ;;
        explain)
            if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "--rules --no-default-rules --show-values --help" -- "$cur"))
            else
                # rule ids from the installed packs
                COMPREPLY=($(compgen -W "$(phiscan rules list 2>/dev/null | awk 'NR > 1 {print $1}')" -- "$cur"))
            fi ;;
    esac
}
complete -o filenames -F _phiscan phiscan
