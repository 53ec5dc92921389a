#!/usr/bin/env bash
# Install what building and testing linux-cr needs on Debian 12 (as root).
set -euo pipefail
packages=(
	build-essential bc flex bison libelf-dev libssl-dev cpio kmod dwarves ccache rsync xz-utils
	linux-source-6.12
	qemu-system-x86
	cmake g++ clang libclang-rt-14-dev libfmt-dev libcli11-dev nlohmann-json3-dev libxxhash-dev libgtest-dev liburing-dev libzstd-dev
	python3 python3-pytest python3-xxhash iproute2
	# The benchmarks (bench/): CRIU beside linux-cr, plots, profiles, the zstd CLI.
	criu python3-matplotlib linux-perf zstd
)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: everything is installed"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run this as root (or: sudo $0)" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
