#!/usr/bin/env bash
# The banned-functions check (curl's habit): unbounded or error-blind libc calls.
set -euo pipefail
cd "$(dirname "$0")/.."
banned='\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atof|strtok|strncpy|tmpnam|mktemp)[[:space:]]*\('
hits=$(grep -nE "$banned" scanner/*.c formats/*.c corpus/*.c 2>/dev/null | grep -v 'phi-allow-banned' || true)
if [ -n "$hits" ]; then
	echo "$hits"
	echo "banned functions used (see above)"
	exit 1
fi
echo "banned: ok"
