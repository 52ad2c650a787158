#!/usr/bin/env bash
# Issue 6 payment benchmarks side by side with the Python peers.
#
# Generates the large inputs (a camt.053 with 100,000 entries and an MT940 with 100,000
# transactions, byte for byte what the Rust benches build in memory), installs the peers into a
# virtual environment (pip install mt-940 pycamt sepaxml lxml, one at a time so one failure does
# not hide the others), runs each peer in its own process, then the Rust benches
# (cargo bench -p incasso-camt/-mt940/-pain008), and prints one table.
#
# Without PyPI the script falls back to what Debian has: a venv with --system-site-packages
# sees python3-lxml (apt-get install python3-lxml), so the raw lxml peer still runs; the peers
# that could not be installed are named in the table as "not installed".
#
# Environment: BENCH_DIR (default target/bench-peers), ENTRIES (default 100000),
# SEPA_TRANSACTIONS (default 10000), SKIP_RUST=1 to run the peers only.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DIR=${BENCH_DIR:-$ROOT/target/bench-peers}
ENTRIES=${ENTRIES:-100000}
SEPA_TRANSACTIONS=${SEPA_TRANSACTIONS:-10000}
mkdir -p "$DIR"

python3 scripts/bench_payment_inputs.py "$DIR" "$ENTRIES" || exit 1
CAMT="$DIR/camt053-$ENTRIES.xml"
MT940="$DIR/mt940-$ENTRIES.sta"

VENV="$DIR/venv"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv --system-site-packages "$VENV" || {
        echo "python3 -m venv failed (Debian: apt-get install python3-venv); using the system python3"
        VENV=""
    }
fi
PY=${VENV:+$VENV/bin/python}
PY=${PY:-python3}
declare -A MISSING
for pkg in lxml mt-940 pycamt sepaxml; do
    if [ -n "$VENV" ] && "$PY" -m pip install --quiet --disable-pip-version-check "$pkg" >"$DIR/pip-$pkg.log" 2>&1; then
        continue
    fi
    MISSING[$pkg]=1
done
# A peer is there when its module imports (pip may have failed yet Debian's package be there).
for pair in lxml:lxml mt-940:mt940 pycamt:pycamt sepaxml:sepaxml; do
    pkg=${pair%%:*}
    module=${pair##*:}
    if "$PY" -c "import $module" 2>/dev/null; then
        unset "MISSING[$pkg]"
    else
        MISSING[$pkg]=1
        echo "peer $pkg could not be installed (see $DIR/pip-$pkg.log)"
    fi
done

ROWS=()
peer() { # label package peer-name argument
    local label=$1 pkg=$2 name=$3 arg=$4
    if [ -n "${MISSING[$pkg]:-}" ]; then
        ROWS+=("$(printf '%-42s %s' "$label" "not installed (pip install $pkg failed)")")
        return
    fi
    local line
    line=$("$PY" scripts/bench_payment_peers.py "$name" "$arg" 2>"$DIR/peer-$name.err" | tail -1)
    case "$line" in
    PEER*)
        read -r _ _ secs items rate mb <<<"$line"
        ROWS+=("$(printf '%-42s %8s s  %8s items/s  peak %6s MB' "$label" "$secs" "$rate" "$mb")")
        ;;
    *)
        ROWS+=("$(printf '%-42s %s' "$label" "failed: ${line:-$(tail -1 "$DIR/peer-$name.err")}")")
        ;;
    esac
}
peer "pycamt, camt.053 $ENTRIES entries" pycamt pycamt "$CAMT"
peer "lxml iterparse, camt.053 $ENTRIES entries" lxml lxml "$CAMT"
peer "mt-940, MT940 $ENTRIES transactions" mt-940 mt940 "$MT940"
peer "sepaxml, pain.008 $SEPA_TRANSACTIONS transactions" sepaxml sepaxml "$SEPA_TRANSACTIONS"

if [ "${SKIP_RUST:-}" != 1 ]; then
    for spec in incasso-camt:parse incasso-mt940:parse incasso-pain008:write; do
        crate=${spec%%:*}
        bench=${spec##*:}
        echo "== cargo bench -p $crate --bench $bench"
        cargo bench -q -p "$crate" --bench "$bench" 2>&1 | tee "$DIR/rust-$crate.log" | grep -v '^ *Compiling\|^ *Finished\|^ *Running'
    done
fi

echo
echo "Python peers ($("$PY" --version 2>&1); load average $(cut -d' ' -f1-3 /proc/loadavg)):"
for row in "${ROWS[@]}"; do
    echo "  $row"
done
