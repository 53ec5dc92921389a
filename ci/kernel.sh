#!/usr/bin/env bash
# Kernel pipeline for linux-cr: prepare the patched tree, export the series, build a flavour.
#
#   ci/kernel.sh prepare            unpack Debian's linux-source-6.12 into linux-cr/, tag the base, apply kernel-patches/
#   ci/kernel.sh export             write the commits since the base tag back to kernel-patches/ (and series)
#   ci/kernel.sh build FLAVOUR      build bzImage for FLAVOUR (plain, debug, kasan) into build/kernel-FLAVOUR/
#   ci/kernel.sh headers            install the uapi headers cr-tool compiles against into build/uapi/
#
# Config: tinyconfig + ci/config/base.config (+ ci/config/FLAVOUR.config). ccache is used when present.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
tree="$top/linux-cr"
patches="$top/kernel-patches"
base_tag=cr-base
tarball=/usr/src/linux-source-6.12.tar.xz

die() { echo "kernel.sh: $*" >&2; exit 1; }

tarball_version() {
	# The Makefile inside the tarball gives the exact upstream version.
	tar -xJOf "$tarball" linux-source-6.12/Makefile 2>/dev/null |
		awk -F' = ' '/^VERSION/{v=$2} /^PATCHLEVEL/{p=$2} /^SUBLEVEL/{s=$2} END{print v"."p"."s}'
}

cmd_prepare() {
	if [ ! -f "$tarball" ]; then
		command -v apt-get >/dev/null || die "$tarball is missing and apt-get is not available"
		echo "kernel.sh: installing linux-source-6.12"
		apt-get install -y linux-source-6.12 >/dev/null
	fi
	local want have
	want=$(cat "$patches/BASE")
	have=$(tarball_version)
	if [ -d "$tree/.git" ]; then
		if git -C "$tree" rev-parse -q --verify "refs/tags/$base_tag" >/dev/null &&
		   [ -z "$(git -C "$tree" status --porcelain --untracked-files=no)" ] &&
		   [ "$(series_ids)" = "$(tree_ids)" ]; then
			echo "kernel.sh: linux-cr/ is up to date with kernel-patches/"
			return 0
		fi
		[ "${FORCE:-0}" = 1 ] || die "linux-cr/ exists and differs from kernel-patches/: export your work first (ci/kernel.sh export) or rerun with FORCE=1 to recreate it"
		rm -rf "$tree"
	fi
	echo "kernel.sh: unpacking linux-source $have (series made on $want)"
	rm -rf "$tree.tmp"
	mkdir -p "$tree.tmp"
	tar -xJf "$tarball" -C "$tree.tmp" --strip-components=1
	# Debian's packaging appends a '/*' rule to .gitignore that hides the whole tree from git.
	sed -i '/^# Debian packaging/,$d; /^\/\*$/d' "$tree.tmp/.gitignore"
	(
		cd "$tree.tmp"
		git init -q -b main
		git -c user.name=linux-cr -c user.email=linux-cr@localhost add -A
		git -c user.name=linux-cr -c user.email=linux-cr@localhost \
			commit -q -m "Linux $have (Debian linux-source-6.12)"
		git tag "$base_tag"
	)
	mv "$tree.tmp" "$tree"
	local p
	while read -r p; do
		case "$p" in ''|'#'*) continue ;; esac
		if ! git -C "$tree" -c user.name=linux-cr -c user.email=linux-cr@localhost \
			am -q --committer-date-is-author-date "$patches/$p"; then
			git -C "$tree" am --abort || true
			if [ "$have" != "$want" ]; then
				die "patch $p does not apply to linux-source $have (the series was made on $want); rebase the series onto $have"
			fi
			die "patch $p does not apply to linux-source $have"
		fi
	done < "$patches/series"
	echo "kernel.sh: applied $(grep -cv '^#' "$patches/series") patches onto $have"
}

tree_ids() {
	git -C "$tree" format-patch --stdout "$base_tag"..HEAD | git patch-id --stable | cut -d' ' -f1 | sort
}

series_ids() {
	cat "$patches"/*.patch 2>/dev/null | git patch-id --stable | cut -d' ' -f1 | sort
}

cmd_export() {
	[ -d "$tree/.git" ] || die "no linux-cr/ tree: run ci/kernel.sh prepare"
	[ -z "$(git -C "$tree" status --porcelain --untracked-files=no)" ] ||
		die "linux-cr/ has uncommitted changes: commit them there first"
	rm -f "$patches"/*.patch
	git -C "$tree" format-patch -q --no-signature --zero-commit --cover-letter -o "$patches" "$base_tag"..HEAD
	cover_letter "$patches/0000-cover-letter.patch" "$(git -C "$tree" log -1 --format=%aD HEAD)"
	(cd "$patches" && ls *.patch | grep -v '^0000-cover-letter') > "$patches/series"
	echo "kernel.sh: exported $(wc -l < "$patches/series") patches and a cover letter to kernel-patches/"
}

# Fill format-patch's cover letter from kernel-patches/cover-letter.txt (its first line the
# subject); the shortlog and diffstat stay format-patch's, so they follow the series.
cover_letter() {
	local cover=$1 date=$2 text="$patches/cover-letter.txt"
	[ -f "$text" ] || die "$text is missing: the cover letter's text"
	python3 - "$cover" "$text" "$date" <<-'EOF'
	import re, sys
	cover, text = sys.argv[1], open(sys.argv[2]).read().split("\n", 1)
	subject = text[0].removeprefix("Subject: ").strip()
	body = text[1].strip("\n")
	s = open(cover).read()
	if "*** SUBJECT HERE ***" not in s or "*** BLURB HERE ***" not in s:
	    sys.exit("kernel.sh: format-patch's cover letter has no placeholders")
	s = s.replace("*** SUBJECT HERE ***", subject).replace("*** BLURB HERE ***", body)
	# dated as the last patch, so that an export of the same series is the same file
	s = re.sub(r"^Date: .*$", "Date: " + sys.argv[3], s, count=1, flags=re.M)
	open(cover, "w").write(s)
	EOF
}

cmd_build() {
	local flavour=${1:-debug}
	local out="$top/build/kernel-$flavour"
	local frags=("$top/ci/config/base.config")
	case "$flavour" in
	plain) frags+=("$top/ci/config/plain.config") ;;
	debug) frags+=("$top/ci/config/debug.config") ;;
	kasan) frags+=("$top/ci/config/debug.config" "$top/ci/config/kasan.config") ;;
	*) die "unknown flavour '$flavour' (plain, debug, kasan)" ;;
	esac
	[ -f "$tree/Makefile" ] || die "no linux-cr/ tree: run ci/kernel.sh prepare"
	mkdir -p "$out"
	local cc=gcc
	if command -v ccache >/dev/null; then
		cc="ccache gcc"
		# Hash paths relative to the checkout so a fresh clone elsewhere reuses the cache.
		export CCACHE_BASEDIR="$top" CCACHE_NOHASHDIR=true
		export CCACHE_SLOPPINESS=time_macros,include_file_mtime,include_file_ctime
		ccache --max-size=5G >/dev/null 2>&1 || true
	fi
	export KBUILD_BUILD_TIMESTAMP="2026-01-01" KBUILD_BUILD_USER=linux-cr KBUILD_BUILD_HOST=ci
	# Regenerate .config only when a fragment changed, so a C/R edit rebuilds only what it touches.
	local stamp="$out/.config-fragments"
	local want_cfg
	want_cfg=$(cat "${frags[@]}" | sha256sum)
	if [ ! -f "$out/.config" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want_cfg" ]; then
		make -s -C "$tree" O="$out" CC="$cc" tinyconfig >/dev/null
		(cd "$tree" && scripts/kconfig/merge_config.sh -m -O "$out" "$out/.config" "${frags[@]}" >/dev/null)
		make -s -C "$tree" O="$out" CC="$cc" olddefconfig >/dev/null
		check_config "$out/.config" "${frags[@]}"
		echo "$want_cfg" > "$stamp"
	fi
	echo "kernel.sh: building $flavour kernel in build/kernel-$flavour"
	make -s -C "$tree" O="$out" CC="$cc" -j"$(nproc)" bzImage
	echo "kernel.sh: $out/arch/x86/boot/bzImage"
}

# Every option a fragment asks for must survive olddefconfig; a silently dropped one is a broken test kernel.
check_config() {
	local cfg=$1; shift
	local bad=0 line
	while read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qx -- "$line" "$cfg" || { echo "kernel.sh: config: wanted $line, got: $(grep -- "^${line%%=*}=" "$cfg" || echo unset)" >&2; bad=1; } ;;
		"# CONFIG_"*" is not set")
			local opt=${line#\# }; opt=${opt%% *}
			! grep -q -- "^$opt=y" "$cfg" || { echo "kernel.sh: config: wanted $opt off, got it on" >&2; bad=1; } ;;
		esac
	done < <(cat "$@")
	[ $bad = 0 ] || die "the config fragments ask for options the kernel cannot have (see above)"
}

cmd_headers() {
	[ -f "$tree/Makefile" ] || die "no linux-cr/ tree: run ci/kernel.sh prepare"
	# The series' uapi headers as `make headers` exports them: <linux/checkpoint.h>, the
	# architecture's <asm/checkpoint.h> and the syscall numbers in <asm/unistd_64.h>. Make
	# rewrites only what changed, so cr-tool rebuilds only when the format does.
	make -s -C "$tree" O="$top/build/headers" ARCH=x86 headers
	# build/uapi is where cr-tool, the workloads and the benchmarks look (-I build/uapi).
	if [ -d "$top/build/uapi" ] && [ ! -L "$top/build/uapi" ]; then
		rm -rf "$top/build/uapi"
	fi
	ln -sfn headers/usr/include "$top/build/uapi"
	echo "kernel.sh: uapi headers in build/uapi (build/headers/usr/include)"
}

# checkpatch over the series, run from inside the kernel tree: from another
# git checkout it takes the .patch files for source files.
cmd_checkpatch() {
	[ -f "$tree/scripts/checkpatch.pl" ] || die "no linux-cr/ tree: run ci/kernel.sh prepare"
	local p fail=0
	while read -r p; do
		(cd "$tree" && scripts/checkpatch.pl --no-tree --strict --terse \
			--ignore FILE_PATH_CHANGES "$top/kernel-patches/$p") || fail=1
	done < "$top/kernel-patches/series"
	return $fail
}

# Build every prefix of the series (or the last N patches): the directories each patch touches, and
# kernel/cr/, on the debug config, in a worktree of its own (build/prefix-tree, objects in
# build/kernel-prefix), so that no patch depends on a later one. ccache makes a second run cheap.
cmd_check_prefixes() {
	local n=${1:-} wt="$top/build/prefix-tree" out="$top/build/kernel-prefix" c dirs fail=0
	[ -d "$tree/.git" ] || die "no linux-cr/ tree: run ci/kernel.sh prepare"
	[ -f "$top/build/kernel-debug/.config" ] || die "build the debug kernel first (ci/kernel.sh build debug)"
	local commits
	if [ -n "$n" ]; then
		commits=$(git -C "$tree" rev-list --reverse -n "$n" HEAD)
	else
		commits=$(git -C "$tree" rev-list --reverse "$base_tag"..HEAD)
	fi
	[ -d "$wt" ] || git -C "$tree" worktree add -q --detach "$wt" HEAD
	mkdir -p "$out"
	cp "$top/build/kernel-debug/.config" "$out/.config"
	local cc=gcc
	command -v ccache >/dev/null && cc="ccache gcc"
	export CCACHE_BASEDIR="$top" CCACHE_NOHASHDIR=true KBUILD_BUILD_TIMESTAMP="2026-01-01"
	for c in $commits; do
		git -C "$wt" checkout -q --detach "$c"
		dirs=$(git -C "$wt" diff-tree --no-commit-id --name-only -r "$c" -- '*.c' |
			xargs -r -n1 dirname | sort -u | { grep -v '^tools' || true; } | sed 's|$|/|' | tr '\n' ' ')
		make -s -C "$wt" O="$out" CC="$cc" olddefconfig >/dev/null
		if make -s -C "$wt" O="$out" CC="$cc" -j"$(nproc)" kernel/cr/ $dirs >"$out/build.log" 2>&1 &&
		   ! grep -q 'warning:' "$out/build.log"; then
			echo "kernel.sh: builds: $(git -C "$wt" log -1 --format='%h %s' "$c")"
		else
			echo "kernel.sh: DOES NOT BUILD: $(git -C "$wt" log -1 --format='%h %s' "$c")" >&2
			tail -20 "$out/build.log" >&2
			fail=1
		fi
	done
	return $fail
}

case "${1:-}" in
prepare) cmd_prepare ;;
checkpatch) cmd_checkpatch ;;
check-prefixes) shift; cmd_check_prefixes "$@" ;;
export) cmd_export ;;
build) shift; cmd_build "$@" ;;
headers) cmd_headers ;;
*) die "usage: ci/kernel.sh prepare | export | build [plain|debug|kasan] | headers | checkpatch | check-prefixes [N]" ;;
esac
