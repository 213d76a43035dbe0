#!/usr/bin/env bash
# Installs the Debian 12 packages meshsim builds with (run as root). Skips apt when all are present.
set -euo pipefail
# libjs-chart.js: Chart.js, embedded in HTML reports at build time (cmake/html_assets.cmake);
# chromium: the headless browser the HTML report test loads the pages in (tests/report/);
# libopenmpi-dev, openmpi-bin: sweep and report across MPI ranks (optional for the build, CMake
# option MESHSIM_MPI; the MPI tests in tests/mpi/ run when they are present).
packages=(cmake make g++ clang libclang-rt-14-dev libboost-graph-dev libeigen3-dev libfmt-dev
          libcli11-dev nlohmann-json3-dev catch2 libbenchmark-dev libjs-chart.js chromium
          libopenmpi-dev openmpi-bin)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
