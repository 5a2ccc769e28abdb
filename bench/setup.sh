#!/usr/bin/env bash
# Install what the benchmark runs, from Debian's packages, when missing.
set -eu
missing=()
for cmd in haproxy:haproxy nginx:nginx wrk:wrk taskset:util-linux; do
  command -v "${cmd%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${cmd%%:*}" ] || missing+=("${cmd##*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
