#!/usr/bin/env bash
# Set up seq2exp in a virtual environment (.venv) with what the tests and examples need.
# Installs system packages (bedtools, libcurl headers for hic-straw) through apt when run as
# root; otherwise says what to install.  Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

need_apt=()
command -v bedtools >/dev/null 2>&1 || need_apt+=(bedtools)
if ! [ -e /usr/include/curl/curl.h ] && ! [ -e /usr/include/x86_64-linux-gnu/curl/curl.h ] \
   && ! [ -e /usr/include/aarch64-linux-gnu/curl/curl.h ]; then
  need_apt+=(libcurl4-openssl-dev)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: apt-get install ${need_apt[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${need_apt[@]}" >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && apt-get install -y -q "${need_apt[@]}" >/dev/null; }
  else
    echo "setup: missing system packages: ${need_apt[*]}." >&2
    echo "setup: as root run: apt-get install ${need_apt[*]}" >&2
    echo "setup: without root use conda: conda install -c conda-forge -c bioconda bedtools libcurl" >&2
    exit 1
  fi
fi

# IGV and a virtual display: optional (tests/test_igv.py loads the session in the real IGV
# in batch mode, and skips without them); installed where apt and root allow, as Debian's
# igv with --no-install-recommends (about 30 s).  SEQ2EXP_NO_IGV=1 skips this.
if [ -z "${SEQ2EXP_NO_IGV:-}" ] && { ! command -v igv >/dev/null 2>&1 \
     || ! command -v xvfb-run >/dev/null 2>&1; }; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: apt-get install igv xvfb xauth (optional: the IGV batch test)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends igv xvfb xauth >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 \
           && apt-get install -y -q --no-install-recommends igv xvfb xauth >/dev/null 2>&1; } \
      || echo "setup: igv could not be installed; the IGV batch test will skip" >&2
  else
    echo "setup: igv/xvfb-run not found (optional): the IGV batch test will skip" >&2
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV" >&2
  "$PYTHON" -m venv "$VENV"
fi
PIP="$VENV/bin/python -m pip"
$PIP install -q --upgrade pip >/dev/null 2>&1 || true
if ! "$VENV/bin/python" -c "import torch" >/dev/null 2>&1; then
  if command -v nvidia-smi >/dev/null 2>&1; then
    echo "setup: GPU found; installing torch (CUDA build)" >&2
    $PIP install -q torch
  else
    # The CPU build: an unpinned torch would pull a multi-GB CUDA build.
    echo "setup: no GPU; installing the CPU build of torch" >&2
    $PIP install -q "torch==2.13.0" \
      || $PIP install -q torch --index-url https://download.pytorch.org/whl/cpu
  fi
fi
echo "setup: installing seq2exp, its test tools and the workflow extra (Snakemake)" >&2
$PIP install -q -e ".[test,workflow]"
"$VENV/bin/seq2exp" --help >/dev/null
echo "setup: done ($("$VENV/bin/python" -c 'import torch; print("torch", torch.__version__)'))" >&2
