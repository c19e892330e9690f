# Shared set-up for every bin/ script: source it, then run "$MM_PYTHON".
#
# First use on a fresh machine: make a virtual environment inside the checkout (.venv, ignored by
# git), install the dependencies that pyproject.toml declares, and build the Cython extensions in
# place. Later uses reinstall only when pyproject.toml changed and rebuild only when a .pyx, .pxd
# or .h, or the record vocabulary the C side is generated from (shm/records.py,
# shm/generate_c.py), is newer than the last build. A lock keeps two scripts started together from
# racing.
#
# Optional-dependency groups listed in pyproject.toml [tool.bootstrap] on-first-use (Ray for
# bin/mm-sweep) are left out of that set-up: a script that needs one names it before sourcing
# this file (MM_EXTRAS="sweep"), and the group is installed on that script's first use.
set -euo pipefail

MM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MM_VENV="$MM_ROOT/.venv"
MM_PYTHON="$MM_VENV/bin/python"
export MM_ROOT MM_PYTHON
# NumPy's OpenBLAS starts a spinning thread per core in every process; on a 2-core host a
# pipeline of pinned processes cannot afford that, and no hot path here calls BLAS.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}" OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

_mm_log() { echo "[setup] $*" >&2; }

_mm_setup() {
    local base="${PYTHON:-python3}"
    if [ ! -x "$MM_PYTHON" ]; then
        "$base" -c 'import sys; assert sys.version_info >= (3, 11), sys.version' || {
            echo "error: $base is $("$base" --version 2>&1); Python >= 3.11 is required (set PYTHON=...)" >&2
            exit 2
        }
        _mm_log "creating virtual environment in $MM_VENV"
        "$base" -m venv "$MM_VENV"
    fi

    local deps_hash stamp
    deps_hash="$(sha1sum "$MM_ROOT/pyproject.toml" | cut -c1-16)"
    stamp="$MM_VENV/.deps-$deps_hash"
    if [ ! -f "$stamp" ]; then
        _mm_log "installing dependencies from pyproject.toml (first run takes a minute)"
        local reqs
        reqs="$("$MM_PYTHON" - "$MM_ROOT/pyproject.toml" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    meta = tomllib.load(f)
on_first_use = meta.get("tool", {}).get("bootstrap", {}).get("on-first-use", [])
reqs = list(meta["build-system"]["requires"]) + list(meta["project"]["dependencies"])
for name, extra in meta["project"].get("optional-dependencies", {}).items():
    if name not in on_first_use:
        reqs += extra
print("\n".join(reqs))
PY
)"
        # shellcheck disable=SC2086
        printf '%s\n' "$reqs" > "$MM_VENV/requirements.txt"
        "$MM_PYTHON" -m pip install --disable-pip-version-check -q -r "$MM_VENV/requirements.txt"
        # The checkout itself is importable through a .pth file: no editable-install machinery.
        "$MM_PYTHON" - "$MM_ROOT" <<'PY'
import pathlib, sys, sysconfig
pathlib.Path(sysconfig.get_paths()["purelib"], "thalex_mm_checkout.pth").write_text(sys.argv[1] + "\n")
PY
        rm -f "$MM_VENV"/.deps-*
        touch "$stamp"
    fi

    local extra
    for extra in ${MM_EXTRAS:-}; do
        stamp="$MM_VENV/.extra-$extra-$deps_hash"
        [ -f "$stamp" ] && continue
        _mm_log "installing the \"$extra\" dependencies from pyproject.toml (first use only)"
        "$MM_PYTHON" - "$MM_ROOT/pyproject.toml" "$extra" > "$MM_VENV/requirements-$extra.txt" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    groups = tomllib.load(f)["project"].get("optional-dependencies", {})
if sys.argv[2] not in groups:
    sys.exit(f"MM_EXTRAS={sys.argv[2]!r}: no such optional-dependency group in pyproject.toml")
print("\n".join(groups[sys.argv[2]]))
PY
        "$MM_PYTHON" -m pip install --disable-pip-version-check -q -r "$MM_VENV/requirements-$extra.txt"
        rm -f "$MM_VENV/.extra-$extra-"*
        touch "$stamp"
    done

    local built="$MM_VENV/.built"
    local stale=""
    if [ ! -f "$built" ] || [ ! -f "$MM_ROOT/shm/records.pxd" ] || [ ! -f "$MM_ROOT/shm/records.h" ] \
            || [ ! -f "$MM_ROOT/testkit/layout_probe.pyx" ]; then
        stale=yes
    elif [ -n "$(find "$MM_ROOT/shm" "$MM_ROOT/kernels" "$MM_ROOT/testkit" "$MM_ROOT/backtest" "$MM_ROOT/procs" "$MM_ROOT/setup.py" \
                 \( -name '*.pyx' -o -name '*.pxd' -o -name '*.h' -o -name setup.py \
                    -o -path "$MM_ROOT/shm/records.py" -o -path "$MM_ROOT/shm/generate_c.py" \) \
                 -newer "$built" -print -quit)" ]; then
        stale=yes
    else
        local pyx
        for pyx in "$MM_ROOT"/shm/*.pyx "$MM_ROOT"/kernels/*.pyx "$MM_ROOT"/testkit/*.pyx "$MM_ROOT"/backtest/*.pyx \
                   "$MM_ROOT"/procs/*.pyx "$MM_ROOT"/procs/gateway/*.pyx; do
            [ -e "$pyx" ] || continue
            compgen -G "${pyx%.pyx}.*.so" >/dev/null || { stale=yes; break; }
        done
    fi
    if [ -n "$stale" ]; then
        _mm_log "building Cython extensions"
        (cd "$MM_ROOT" && "$MM_PYTHON" setup.py -q build_ext --inplace -j 2 >"$MM_VENV/build.log" 2>&1) || {
            cat "$MM_VENV/build.log" >&2
            echo "error: building the Cython extensions failed (log above, also in $MM_VENV/build.log)" >&2
            exit 2
        }
        touch "$built"
    fi
}

mkdir -p "$MM_VENV"
exec 9>"$MM_VENV/.setup.lock"
flock 9
_mm_setup
flock -u 9
exec 9>&-
