#!/usr/bin/env bash
# tests/bench/run.sh - phiscan against ripgrep on one generated corpus, in one run.
#
# Shapes: one large file (BENCH_MB MB) and BENCH_FILES small files of about the same
# total size.  Thread counts: 1 and `nproc`.  Peers: ripgrep's default engine (Rust
# regex) and ripgrep -P (PCRE2, phiscan's dialect), both fed the patterns printed by
# `phiscan rules export`.  Prints median wall times, throughput, ratios, peak RSS and
# match counts; see tests/bench/README.md for how to read them.
#
# Settings (environment, or the options below; options win):
#   PHISCAN      phiscan binary                   (default ./phiscan)      --phiscan P
#   GENCASE      corpus generator                 (default build/gencase)  --gencase G
#   BENCH_MB     size of the large file, MB       (default 150)            --mb N
#   BENCH_FILES  number of small files            (default 20000)          --files N
#   BENCH_SEED   generator seed                   (default 1)              --seed N
#   BENCH_DIR    corpus directory: reused if it holds large/notes.txt and
#                small/, else generated there and kept (default: a
#                temporary directory, removed on exit)                     --dir D
#   RUNS         timed runs per measurement       (default 3)              --runs N
#   RG_OUTPUT    o (default: rg -o, one line a match) or json (rg --json)
#   BENCH_SLOW   seconds: a tool whose check run takes longer is timed
#                once instead of RUNS times       (default 120)
#   BENCH_TIMEOUT  seconds a check run may take before it counts as a
#                failure (default 1800; 0: no limit)
#
# Exit status: 0 when every tool ran (whatever the ratios: a missed target is
# printed as a "TARGET MISSED" line), 1 when a tool failed or is missing, 2 usage.
# A tool that fails in a shape is marked FAIL there (and not run again in that
# shape); the other measurements still run.
# Installs nothing: the Makefile/CI installs ripgrep, hyperfine and GNU time.
set -euo pipefail

PHISCAN=${PHISCAN:-./phiscan}
GENCASE=${GENCASE:-build/gencase}
BENCH_MB=${BENCH_MB:-150}
BENCH_FILES=${BENCH_FILES:-20000}
BENCH_SEED=${BENCH_SEED:-1}
BENCH_DIR=${BENCH_DIR:-}
RUNS=${RUNS:-3}
RG_OUTPUT=${RG_OUTPUT:-o}
BENCH_SLOW=${BENCH_SLOW:-120}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-1800}
RSS_LIMIT_MB=64

usage() {
	sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"
	exit "${1:-0}"
}

while (($#)); do
	case $1 in
	--phiscan) PHISCAN=$2; shift 2 ;;
	--gencase) GENCASE=$2; shift 2 ;;
	--mb) BENCH_MB=$2; shift 2 ;;
	--files) BENCH_FILES=$2; shift 2 ;;
	--seed) BENCH_SEED=$2; shift 2 ;;
	--dir) BENCH_DIR=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	-h | --help) usage 0 ;;
	*) echo "run.sh: unknown argument '$1'" >&2; usage 2 >&2 ;;
	esac
done
for v in BENCH_MB BENCH_FILES BENCH_SEED RUNS BENCH_SLOW; do
	[[ ${!v} =~ ^[0-9]+$ && ${!v} -gt 0 ]] || { echo "run.sh: $v must be a positive integer, not '${!v}'" >&2; exit 2; }
done
[[ $BENCH_TIMEOUT =~ ^[0-9]+$ ]] || { echo "run.sh: BENCH_TIMEOUT must be a number of seconds, not '$BENCH_TIMEOUT'" >&2; exit 2; }
[[ $RG_OUTPUT == o || $RG_OUTPUT == json ]] || { echo "run.sh: RG_OUTPUT is o or json, not '$RG_OUTPUT'" >&2; exit 2; }

S=$(mktemp -d "${TMPDIR:-/tmp}/phiscan-bench.XXXXXX")
trap 'rm -rf -- "$S"' EXIT
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
# calc EXPR [-v VAR=VALUE...]: awk arithmetic, 3 decimals (DEC=N for N)
calc() { local e=$1; shift; awk "$@" "BEGIN { printf \"%.${DEC:-3}f\", $e }"; }

# ---- prerequisites ------------------------------------------------------------------

missing=()
command -v rg >/dev/null 2>&1 || missing+=("rg (ripgrep: apt-get install ripgrep)")
[[ -x $PHISCAN ]] || missing+=("phiscan at '$PHISCAN' (make phiscan)")
HAVE_HYPERFINE=0
if command -v hyperfine >/dev/null 2>&1; then HAVE_HYPERFINE=1; fi
HAVE_GNUTIME=0
if [[ -x /usr/bin/time ]] && /usr/bin/time -f '%M' -o "$S/probe" true 2>/dev/null &&
	[[ $(<"$S/probe") =~ ^[0-9]+$ ]]; then HAVE_GNUTIME=1; fi
if ((${#missing[@]})); then
	for m in "${missing[@]}"; do say "MISSING (required): $m" >&2; done
	exit 1
fi
((HAVE_HYPERFINE)) || say "MISSING (optional): hyperfine (apt-get install hyperfine): timing with a bash loop instead"
((HAVE_GNUTIME)) || say "MISSING (optional): GNU time at /usr/bin/time (apt-get install time): peak RSS not measured"

PHISCAN=$(realpath "$PHISCAN")
NPROC=$(nproc)
THREADS=(1)
((NPROC > 1)) && THREADS+=("$NPROC")

say "== phiscan benchmark"
say "phiscan:   $PHISCAN ($("$PHISCAN" --version 2>&1 | head -1))"
say "ripgrep:   $(command -v rg) ($(rg --version | head -1))"
((HAVE_HYPERFINE)) && say "hyperfine: $(hyperfine --version | head -1), $RUNS run(s) + 1 warmup, median wall time"
((HAVE_HYPERFINE)) || say "timing:    bash loop (date +%s.%N), $RUNS run(s) + 1 warmup, median wall time"
say "machine:   $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || uname -m), $NPROC cores, $(uname -sr)"
[[ -n ${PHISCAN_DATA:-} ]] && say "PHISCAN_DATA=$PHISCAN_DATA"

# ---- corpus ---------------------------------------------------------------------------

corpus_ok() { [[ -f $1/large/notes.txt && -d $1/small ]]; }
if [[ -n $BENCH_DIR ]] && corpus_ok "$BENCH_DIR"; then
	C=$BENCH_DIR
	say "corpus:    reusing $C (generation skipped)"
else
	[[ -x $GENCASE ]] || die "corpus generator '$GENCASE' not found (make build/gencase), or set BENCH_DIR to a generated corpus"
	if [[ -n $BENCH_DIR ]]; then
		mkdir -p -- "$BENCH_DIR"
		C=$BENCH_DIR
	else
		C=$S/corpus
	fi
	t0=$(now)
	"$GENCASE" bench "$C" --seed "$BENCH_SEED" --mb "$BENCH_MB" --files "$BENCH_FILES" >"$S/gencase.log" 2>&1 ||
		{ cat "$S/gencase.log" >&2; die "$GENCASE bench failed"; }
	corpus_ok "$C" || die "$GENCASE bench wrote no $C/large/notes.txt and $C/small/"
	say "corpus:    generated in $(DEC=1 calc "$(now) - $t0") s: $GENCASE bench --seed $BENCH_SEED --mb $BENCH_MB --files $BENCH_FILES"
fi
LARGE=$C/large/notes.txt
SMALL=$C/small
LARGE_BYTES=$(stat -c %s "$LARGE")
read -r SMALL_FILES SMALL_BYTES < <(find "$SMALL" -type f -printf '%s\n' | awk '{ n++; b += $1 } END { printf "%d %d\n", n, b }')
say "           large: 1 file, $(DEC=1 calc "$LARGE_BYTES / 1e6") MB; small: $SMALL_FILES files, $(DEC=1 calc "$SMALL_BYTES / 1e6") MB"

# ---- patterns and ripgrep modes -----------------------------------------------------------

"$PHISCAN" rules export >"$S/export.txt" 2>"$S/export.err" || { cat "$S/export.err" >&2; die "$PHISCAN rules export failed"; }
grep -v '^[[:space:]]*$' "$S/export.txt" >"$S/pats.txt" || true # an empty line would match everything
NPATS=$(wc -l <"$S/pats.txt")
((NPATS > 0)) || die "phiscan rules export printed no patterns"
say "patterns:  $NPATS from 'phiscan rules export'"

# rg joins the -f patterns into one alternation, where a group name used by two
# patterns (every rule names its value group v) is an error in both engines.  So each
# pattern's group names get its line number (v -> v_p12), and so do the references to
# them (\k<v>, (?&v), (?P=v), \g{v}, (?(<v>)...): the same language, the same group
# numbers.  (?P<name>) is the one spelling both PCRE2 and ripgrep 13's Rust regex know.
perl -ne '
	chomp;
	my $n = $.;
	my %names;
	$names{$1} = 1 while /\(\?(?:P?<|\x27)([A-Za-z_]\w*)[>\x27]/g;
	for my $k (keys %names) {
		my $r = "${k}_p$n";
		s/\(\?P?<\Q$k\E>/(?P<$r>/g;       s/\(\?\x27\Q$k\E\x27/(?P<$r>/g;
		s/\(\?&\Q$k\E\)/(?&$r)/g;         s/\(\?P>\Q$k\E\)/(?P>$r)/g;
		s/\(\?P=\Q$k\E\)/(?P=$r)/g;       s/\\k<\Q$k\E>/\\k<$r>/g;
		s/\\k\x27\Q$k\E\x27/\\k<$r>/g;    s/\\k\{\Q$k\E\}/\\k{$r}/g;
		s/\\g\{\Q$k\E\}/\\g{$r}/g;        s/\\g<\Q$k\E>/\\g<$r>/g;
		s/\\g\x27\Q$k\E\x27/\\g<$r>/g;    s/\(\?\(<\Q$k\E>\)/(?(<$r>)/g;
		s/\(\?\(\x27\Q$k\E\x27\)/(?(<$r>)/g; s/\(\?\(\Q$k\E\)/(?(<$r>)/g;
	}
	print "$_\n";
' "$S/pats.txt" >"$S/pats-renamed.txt"
printf '%s\n' "Patient: John Smith  DOB 01/02/1980  SSN 123-45-6789" "phone (555) 234-5678 john@clinic.org" \
	"MRN A1234567  chart 2023-04-05  NPI 1234567893" >"$S/tiny.txt"

rg_try() { # rg_try PATTERNFILE [ARGS...]: does rg accept the pattern set?
	local f=$1; shift
	local rc=0
	rg --no-config -uuu -o "$@" -f "$f" "$S/tiny.txt" >/dev/null 2>"$S/rgtry.err" || rc=$?
	((rc <= 1))
}
# the error line of rg's last complaint, on one line
rg_why() {
	{ grep -m1 -E '^(error|PCRE2)' "$S/rgtry.err" || grep -v '^[[:space:]]*$' "$S/rgtry.err" | tail -1; } |
		cut -c1-150
}

# pick_mode TOOL [RG ENGINE ARGS...]: how this engine can run the pack.  Tries the
# patterns as exported, then with renamed groups; if the joined set is still rejected
# while each pattern alone is accepted (PCRE2's compiled-size limit), the patterns are
# split greedily into the fewest groups rg accepts, run as consecutive passes over the
# same target.  Sets PASSES[TOOL] (0: unusable) and MODE[TOOL]; the groups are in
# $S/TOOL.pats.1 .. $S/TOOL.pats.N.
declare -A PASSES MODE
pick_mode() {
	local tool=$1; shift
	local why1 why2 p g=1 ok=0 n=0
	PASSES[$tool]=0
	if rg_try "$S/pats.txt" "$@"; then
		cp "$S/pats.txt" "$S/$tool.pats.1"
		PASSES[$tool]=1 MODE[$tool]="patterns as exported, one pass"
		return
	fi
	why1=$(rg_why)
	if rg_try "$S/pats-renamed.txt" "$@"; then
		cp "$S/pats-renamed.txt" "$S/$tool.pats.1"
		PASSES[$tool]=1 MODE[$tool]="group names made unique, one pass (as exported: $why1)"
		return
	fi
	why2=$(rg_why)
	local why3=''
	while IFS= read -r p; do # how many patterns does it accept one by one?
		printf '%s\n' "$p" >"$S/one"
		n=$((n + 1))
		if rg_try "$S/one" "$@"; then
			ok=$((ok + 1))
		elif [[ -z $why3 ]]; then
			why3="pattern $n: $(rg_why)"
		fi
	done <"$S/pats-renamed.txt"
	if ((ok < n)); then
		MODE[$tool]="unusable: accepts $ok of $n patterns alone (first rejected, $why3)"
		return
	fi
	: >"$S/$tool.pats.1"
	while IFS= read -r p; do
		cp "$S/$tool.pats.$g" "$S/try"
		printf '%s\n' "$p" >>"$S/try"
		if ! rg_try "$S/try" "$@" && [[ -s $S/$tool.pats.$g ]]; then
			g=$((g + 1))
			printf '%s\n' "$p" >"$S/try"
		fi
		mv "$S/try" "$S/$tool.pats.$g"
	done <"$S/pats-renamed.txt"
	PASSES[$tool]=$g
	MODE[$tool]="group names made unique, $g passes (the joined set is rejected: $why2)"
}
pick_mode rg
pick_mode rgP -P
say "rg:        default engine (Rust regex): ${MODE[rg]}"
say "rg -P:     PCRE2: ${MODE[rgP]}"
((PASSES[rg] || PASSES[rgP])) || die "ripgrep accepts the pattern set in neither mode"
((PASSES[rg])) || say "           ripgrep is compared with -P only"
RG_OUT_ARGS=(-o)
[[ $RG_OUTPUT == json ]] && RG_OUT_ARGS=(-o --json)
say "output:    every tool writes to a file in the scratch folder (phiscan --output FILE; rg ${RG_OUT_ARGS[*]} > FILE)"

# ---- measurement ----------------------------------------------------------------------------

# rg's engine flag for a peer: none for the default engine, -P for PCRE2
engine_of() { ENGINE=(); if [[ $1 == rgP ]]; then ENGINE=(-P); fi; }
# A multi-pass ripgrep run is one command: a script running the passes in turn.
for tool in rg rgP; do
	((PASSES[$tool] > 1)) || continue
	engine_of "$tool"
	# shellcheck disable=SC2016 # the $ are for the generated script
	{
		printf '#!/usr/bin/env bash\n# %s passes of rg over one target, appended to one output file\n' "${PASSES[$tool]}"
		printf 'j=$1 target=$2 out=$3 worst=0\n: >"$out"\n'
		printf 'for f in'
		for ((g = 1; g <= PASSES[$tool]; g++)); do printf ' %q' "$S/$tool.pats.$g"; done
		printf '; do\n\trc=0\n\trg --no-config -uuu'
		printf ' %q' "${ENGINE[@]}" "${RG_OUT_ARGS[@]}"
		printf ' -j "$j" -f "$f" "$target" >>"$out" || rc=$?\n'
		printf '\tif ((rc > worst)); then worst=$rc; fi\ndone\n'
		printf 'if ((worst > 1)); then exit "$worst"; fi\nexit 0\n'
	} >"$S/$tool.sh"
done

# cmd_for TOOL THREADS TARGET: sets CMD (an array), OUT (the file the tool's output
# ends up in) and SELF_OUT (1: the command writes OUT itself; 0: its stdout goes there)
cmd_for() {
	local tool=$1 j=$2 target=$3
	OUT=$S/$tool.out SELF_OUT=1
	if [[ $tool == phiscan ]]; then
		CMD=("$PHISCAN" scan --format json -j "$j" --no-progress --output "$OUT" "$target")
	elif ((PASSES[$tool] > 1)); then
		CMD=(bash "$S/$tool.sh" "$j" "$target" "$OUT")
	else
		engine_of "$tool"
		CMD=(rg --no-config -uuu "${ENGINE[@]}" "${RG_OUT_ARGS[@]}" -j "$j" -f "$S/$tool.pats.1" "$target")
		SELF_OUT=0
	fi
}

# Runs CMD once writing OUT (the check run): exit status, wall time, peak RSS, count.
# Sets CHECK_S, RSS_MB ("n/a" without GNU time) and COUNT.  Returns 1 (message in
# FAIL_MSG) on exit status >= 2, a timeout, or a phiscan report without a summary.
check_run() {
	local tool=$1 rc=0 t0 t1 pre=()
	FAIL_MSG=''
	((HAVE_GNUTIME)) && pre=(/usr/bin/time -f '%M' -o "$S/rss")
	((BENCH_TIMEOUT > 0)) && pre+=(timeout "$BENCH_TIMEOUT")
	t0=$(now)
	if ((SELF_OUT)); then
		"${pre[@]}" "${CMD[@]}" >/dev/null 2>"$S/err" || rc=$?
	else
		"${pre[@]}" "${CMD[@]}" >"$OUT" 2>"$S/err" || rc=$?
	fi
	t1=$(now)
	CHECK_S=$(calc "$t1 - $t0")
	RSS_MB=n/a
	if ((HAVE_GNUTIME)) && [[ $(tail -1 "$S/rss") =~ ^[0-9]+$ ]]; then
		RSS_MB=$(DEC=1 calc "$(tail -1 "$S/rss") / 1024")
	fi
	if ((rc == 124 && BENCH_TIMEOUT > 0)); then
		FAIL_MSG="timed out after $BENCH_TIMEOUT s (BENCH_TIMEOUT)"
	elif ((rc > 1)); then
		FAIL_MSG="exited $rc after $CHECK_S s"
		((rc > 128)) && FAIL_MSG+=" (signal $((rc - 128)))"
		grep -q 'Command terminated by signal' "$S/rss" 2>/dev/null && FAIL_MSG+=" ($(grep -m1 'Command terminated' "$S/rss"))"
	elif [[ $tool == phiscan ]] && ! grep -q '"type":"summary"' "$OUT"; then
		FAIL_MSG="wrote no summary to its report"
	elif [[ $tool == phiscan ]] && grep -q '"type":"unreadable"' "$OUT"; then
		FAIL_MSG="reported a file as unreadable: $(grep -m1 '"type":"unreadable"' "$OUT" | grep -o '"reason":"[^"]*"')"
	fi
	if [[ -n $FAIL_MSG ]]; then
		FAIL_MSG="${CMD[*]}: $FAIL_MSG"
		[[ -s $S/err ]] && FAIL_MSG+=$'\n'"$(head -5 "$S/err" | sed 's/^/    /')"
		return 1
	fi
	if [[ $tool == phiscan ]]; then
		COUNT=$(grep -c '"type":"finding"' "$OUT" || true)
	elif [[ $RG_OUTPUT == json ]]; then
		COUNT=$(grep -o '{"match":{' "$OUT" | wc -l)
	else
		COUNT=$(wc -l <"$OUT")
	fi
}

# Median wall time of RUNS runs (1 when the check run took over BENCH_SLOW s).
# Sets MED_S and NRUNS.
time_runs() {
	local tool=$1 runs=$RUNS warm=1
	if awk -v c="$CHECK_S" -v s="$BENCH_SLOW" 'BEGIN { exit !(c > s) }'; then
		runs=1 warm=0 # the check run already warmed the cache
	fi
	NRUNS=$runs
	if ((HAVE_HYPERFINE)); then
		local q=() a
		for a in "${CMD[@]}"; do q+=("$(printf '%q' "$a")"); done
		local hout=$S/hyperfine.stdout
		((SELF_OUT)) || hout=$OUT
		# -i: phiscan exits 1 on findings, rg 1 on no match; the check run has already
		# rejected status 2.
		hyperfine -N -i --warmup "$warm" --runs "$runs" --style basic --output="$hout" \
			--export-csv "$S/hf.csv" --export-json "$S/hf-$tool.json" -n "$tool" "${q[*]}" \
			>"$S/hf.log" 2>&1 || { cat "$S/hf.log" >&2; die "hyperfine failed for ${CMD[*]}"; }
		MED_S=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "median") c = i; next }
		                 { printf "%.3f", $c; exit }' "$S/hf.csv")
	else
		local i rc t0 t1
		: >"$S/times"
		for ((i = 1 - warm; i <= runs; i++)); do
			rc=0
			t0=$(now)
			if ((SELF_OUT)); then "${CMD[@]}" >/dev/null 2>"$S/err" || rc=$?
			else "${CMD[@]}" >"$OUT" 2>"$S/err" || rc=$?; fi
			t1=$(now)
			((rc <= 1)) || { head -20 "$S/err" >&2; die "${CMD[*]} exited $rc"; }
			if ((i >= 1)); then calc "$t1 - $t0" >>"$S/times"; echo >>"$S/times"; fi
		done
		MED_S=$(sort -g "$S/times" | awk '{ v[NR] = $1 } END { printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
	fi
}

TOOLS=(phiscan)
((PASSES[rg])) && TOOLS+=(rg)
((PASSES[rgP])) && TOOLS+=(rgP)
declare -A R # R[shape,threads,tool,field]
ROWS=() FAILURES=()
for shape in large small; do
	if [[ $shape == large ]]; then target=$LARGE bytes=$LARGE_BYTES; else target=$SMALL bytes=$SMALL_BYTES; fi
	say ""
	say "-- $shape: warming the page cache"
	find "$target" -type f -exec cat -- {} + >/dev/null
	for j in "${THREADS[@]}"; do
		ROWS+=("$shape,$j")
		for tool in "${TOOLS[@]}"; do
			if [[ -n ${R[$shape,$tool,failed]:-} ]]; then
				R[$shape,$j,$tool,s]=FAIL
				say "   $shape -j $j $tool: not run (failed in this shape with -j ${R[$shape,$tool,failed]})"
				continue
			fi
			cmd_for "$tool" "$j" "$target"
			if ! check_run "$tool"; then
				R[$shape,$j,$tool,s]=FAIL R[$shape,$j,$tool,rss]=$RSS_MB R[$shape,$tool,failed]=$j
				FAILURES+=("$shape, $j thread(s): $FAIL_MSG")
				say "   $shape -j $j $tool: FAILED: $FAIL_MSG"
				continue
			fi
			time_runs "$tool"
			R[$shape,$j,$tool,s]=$MED_S R[$shape,$j,$tool,rss]=$RSS_MB
			R[$shape,$j,$tool,n]=$COUNT R[$shape,$j,$tool,runs]=$NRUNS
			rss_txt="$RSS_MB MiB"
			[[ $RSS_MB == n/a ]] && rss_txt=n/a
			say "   $shape -j $j $tool: median $MED_S s of $NRUNS run(s) (check run $CHECK_S s), peak RSS $rss_txt, $COUNT matches"
		done
		R[$shape,$j,bytes]=$bytes
	done
done

# ---- report ---------------------------------------------------------------------------------

get() { printf '%s' "${R[$1]:-n/a}"; }
num() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; }
ratio() { # ratio PEER_S PHISCAN_S
	if num "$1" && num "$2"; then DEC=2 calc "$1 / $2"; else printf 'n/a'; fi
}
hdr=(shape threads "phiscan s" "MB/s" "rg s" "ratio" "rg -P s" "ratio" "phiscan RSS MiB" "rg RSS MiB" "rg -P RSS MiB" "phiscan findings" "rg matches" "rg -P matches")
lines=()
for row in "${ROWS[@]}"; do
	shape=${row%,*} j=${row#*,}
	ps=$(get "$shape,$j,phiscan,s")
	mbs=n/a
	num "$ps" && mbs=$(DEC=1 calc "b / 1e6 / s" -v b="${R[$shape,$j,bytes]}" -v s="$ps")
	rs=$(get "$shape,$j,rg,s") rps=$(get "$shape,$j,rgP,s")
	for t in phiscan rg rgP; do
		[[ $(get "$shape,$j,$t,runs") == 1 && $RUNS -gt 1 ]] && R[$shape,$j,$t,s]="$(get "$shape,$j,$t,s")*"
	done
	lines+=("$shape|$j|$(get "$shape,$j,phiscan,s")|$mbs|$(get "$shape,$j,rg,s")|$(ratio "$rs" "$ps")|$(get "$shape,$j,rgP,s")|$(ratio "$rps" "$ps")|$(get "$shape,$j,phiscan,rss")|$(get "$shape,$j,rg,rss")|$(get "$shape,$j,rgP,rss")|$(get "$shape,$j,phiscan,n")|$(get "$shape,$j,rg,n")|$(get "$shape,$j,rgP,n")")
done

say ""
say "== results (median wall seconds; ratio = rg time / phiscan time, > 1: phiscan faster)"
{
	(IFS='|'; printf '%s\n' "${hdr[*]}")
	printf '%s\n' "${lines[@]}"
} | column -t -s '|' -o '  '
say ""
say "Markdown:"
hl=$(IFS='|'; printf '%s' "${hdr[*]}")
printf '| %s |\n' "${hl//|/ | }"
printf '|%s\n' "$(printf -- '---|%.0s' "${hdr[@]}")"
for l in "${lines[@]}"; do printf '| %s |\n' "${l//|/ | }"; done
grep -q '\*' <<<"${lines[*]}" && say "* timed once: its check run took over ${BENCH_SLOW} s (BENCH_SLOW)"

say ""
say "phiscan findings are validated (checksums, calendar dates, context cues, allowlists,"
say "overlaps resolved); rg counts every raw pattern match.  The counts are not meant to agree."

missed=0
for row in "${ROWS[@]}"; do
	shape=${row%,*} j=${row#*,}
	ps=${R[$shape,$j,phiscan,s]%\*}
	if ! num "$ps"; then
		say "TARGET MISSED: $shape, $j thread(s): phiscan did not complete (see FAILED below)"
		missed=$((missed + 1))
		continue
	fi
	for t in rg rgP; do
		[[ -n ${R[$shape,$j,$t,s]:-} ]] || continue
		ts=${R[$shape,$j,$t,s]%\*}
		name="rg"; [[ $t == rgP ]] && name="rg -P"
		if ! num "$ts"; then
			say "TARGET UNCHECKED: $shape, $j thread(s): $name did not complete"
		elif awk -v p="$ps" -v r="$ts" 'BEGIN { exit !(p > r) }'; then
			say "TARGET MISSED: $shape, $j thread(s): phiscan ${ps} s is slower than $name ${ts} s (ratio $(ratio "$ts" "$ps"))"
			missed=$((missed + 1))
		fi
	done
	rss=${R[$shape,$j,phiscan,rss]}
	if [[ $rss == n/a ]]; then
		say "TARGET UNCHECKED: $shape, $j thread(s): phiscan peak RSS not measured (GNU time missing)"
	elif awk -v m="$rss" -v l="$RSS_LIMIT_MB" 'BEGIN { exit !(m >= l) }'; then
		say "TARGET MISSED: $shape, $j thread(s): phiscan peak RSS $rss MiB >= $RSS_LIMIT_MB MiB"
		missed=$((missed + 1))
	fi
done
if ((missed)); then
	say "targets: $missed missed"
else
	say "targets: met (phiscan at least as fast as every ripgrep mode measured, peak RSS < $RSS_LIMIT_MB MiB)"
fi
if ((${#FAILURES[@]})); then
	for f in "${FAILURES[@]}"; do say "FAILED: $f"; done
	exit 1
fi
exit 0
