#!/usr/bin/env bash
# Install an older Debian release's own ffmpeg into a private prefix, without touching the system.
#
#   bash .ci/debian-ffmpeg.sh SUITE [PREFIX]     # e.g. bullseye (Debian 11: ffmpeg 4.3)
#   STORYBOARD_FFMPEG=PREFIX/ffmpeg storyboard doctor
#
# Where from: the machine's own configured Debian sources (/etc/apt/sources.list.d/*.sources,
# /etc/apt/sources.list{,.d/*.list}), with this machine's release (VERSION_CODENAME in
# /etc/os-release) replaced by SUITE: CODENAME -> SUITE, CODENAME-updates -> SUITE-updates,
# CODENAME-security -> SUITE-security; other suites (backports, proposed-updates) are left out.
# The same mirrors, the same keyrings (debian-archive-keyring holds the older releases' keys too)
# and the machine's own apt settings (its /etc/apt/apt.conf.d: proxies, authentication) are used;
# no host is named here.
#
# How: a private apt (its own lists, cache and an empty dpkg status) resolves SUITE's `ffmpeg` with
# its dependencies as if on an empty system and downloads them; each package but the host's core
# runtime (EXCLUDE below) is unpacked with `dpkg -x` into PREFIX/root; PREFIX/ffmpeg and
# PREFIX/ffprobe are wrappers that run SUITE's binaries with LD_LIBRARY_PATH pointing at
# PREFIX/root. No maintainer script runs; no system package changes. Downloaded .debs are kept in
# PREFIX/apt/archives; the tree is unpacked afresh each run.
#
# Needs: bash, apt-get, dpkg, ldd; a Debian host whose C library is at least SUITE's (an older
# suite's binaries run on a newer glibc). Any failure exits non-zero with the reason.
set -euo pipefail

SUITE=${1:?usage: debian-ffmpeg.sh SUITE [PREFIX]}
PREFIX=${2:-/opt/ffmpeg-$SUITE}

# Packages resolved as dependencies but NOT unpacked: the host's own (newer) copies are used. Mixing
# an older glibc with the host's breaks every program, and the gcc runtime libraries must match the
# host's libc; the rest are tools and data pulled in only by maintainer scripts.
EXCLUDE=(
  libc6 libc-bin libc-dev-bin libc6-dev locales libcrypt1 libidn2-0 libunistring2
  gcc-10-base gcc-12-base libgcc-s1 libstdc++6 libgomp1 libatomic1 libquadmath0
  debconf debconf-i18n dpkg perl-base tar coreutils base-files sensible-utils
  adduser passwd login libpam0g libpam-modules libpam-modules-bin libpam-runtime
  lsb-base init-system-helpers ucf readline-common
)

die() { echo "debian-ffmpeg.sh: $*" >&2; exit 1; }
for tool in apt-get apt-cache dpkg ldd awk; do
  command -v "$tool" >/dev/null || die "needs $tool"
done
[[ -r /etc/os-release ]] || die "no /etc/os-release: not a Debian machine?"
HOST=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[[ -n $HOST ]] || die "/etc/os-release names no VERSION_CODENAME"
[[ $SUITE != "$HOST" ]] || die "$SUITE is this machine's own release: install its ffmpeg with apt"

mkdir -p "$PREFIX"
PREFIX=$(cd "$PREFIX" && pwd -P)
APT=$PREFIX/apt
rm -rf "$APT/lists" "$APT/sources.list.d"
mkdir -p "$APT"/{lists/partial,archives/partial,sources.list.d,empty.d}
: >"$APT/status"  # an empty dpkg database: resolve as if nothing were installed

# --- the machine's own Debian sources, with SUITE for HOST --------------------------------------
# deb822 stanzas (*.sources): those of type deb, not disabled, whose Suites name HOST; their
# Suites line rewritten (anything but HOST, HOST-updates and HOST-security dropped).
shopt -s nullglob
for src in /etc/apt/sources.list.d/*.sources; do
  awk -v host="$HOST" -v suite="$SUITE" '
    BEGIN { RS = ""; ORS = "\n\n" }
    {
      n = split($0, line, "\n"); out = ""; keep = 0; deb = 0; off = 0
      for (i = 1; i <= n; i++) {
        l = line[i]
        if (l ~ /^Types:/ && l ~ /[ \t]deb([ \t]|$)/) deb = 1
        if (l ~ /^Enabled:[ \t]*(no|false)/) off = 1
        if (l ~ /^Suites:/) {
          m = split(l, word, /[ \t]+/); l = "Suites:"
          for (j = 2; j <= m; j++)
            if (word[j] == host || word[j] == host "-updates" || word[j] == host "-security") {
              sub("^" host, suite, word[j]); l = l " " word[j]; keep = 1
            }
        }
        if (l ~ /^Types:/) l = "Types: deb"
        out = out l "\n"
      }
      if (keep && deb && !off) print out
    }' "$src" >"$APT/sources.list.d/$(basename "$src")"
done
# one-line sources: `deb [options] URI SUITE COMPONENTS...`
for src in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [[ -r $src ]] || continue
  awk -v host="$HOST" -v suite="$SUITE" '
    $1 == "deb" {
      i = 2
      if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
      s = $(i + 1)
      if (s == host || s == host "-updates" || s == host "-security") {
        sub("^" host, suite, s); $(i + 1) = s; print
      }
    }' "$src" >>"$APT/sources.list.d/from-one-line.list"
done
shopt -u nullglob
grep -qs . "$APT"/sources.list.d/* \
  || die "no Debian source for $HOST in /etc/apt/sources.list{,.d}: nothing to point at $SUITE"

# The host's apt settings (apt.conf.d: proxies, authentication) stay; only where apt keeps its
# state, its cache and its list of sources change, and the host's pins are kept out.
OPTS=(
  -o "Dir::State=$APT" -o "Dir::State::lists=$APT/lists" -o "Dir::State::status=$APT/status"
  -o "Dir::State::extended_states=$APT/extended_states"
  -o "Dir::Cache=$APT" -o "Dir::Cache::archives=$APT/archives"
  -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
  -o "Dir::Etc::sourcelist=/dev/null" -o "Dir::Etc::sourceparts=$APT/sources.list.d"
  -o "Dir::Etc::preferences=/dev/null" -o "Dir::Etc::preferencesparts=$APT/empty.d"
  -o "Dir::Log=$APT"
  -o "APT::Install-Recommends=false" -o "APT::Install-Suggests=false"
  -o "APT::Get::Assume-Yes=true" -o "Acquire::Languages=none" -o "Acquire::Retries=3"
  -o "Debug::NoLocking=true" -o "APT::Sandbox::User=root"
)

echo "== apt-get update ($SUITE, from this machine's own Debian sources; private lists in $APT)"
apt-get "${OPTS[@]}" -q update >"$APT/update.log" 2>&1 \
  || { cat "$APT/update.log" >&2; die "apt-get update for $SUITE failed"; }
if grep -E '^(W|E):' "$APT/update.log" >&2; then die "apt-get update for $SUITE was not clean"; fi

# What `apt-get install ffmpeg` would install on an empty SUITE system (one choice per alternative).
mapfile -t INST < <(apt-get "${OPTS[@]}" -s install ffmpeg | sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*/\1 \2/p')
(( ${#INST[@]} > 20 )) || die "could not resolve $SUITE's ffmpeg and its dependencies (${#INST[@]} packages)"
FFMPEG_VERSION=$(printf '%s\n' "${INST[@]}" | sed -n 's/^ffmpeg \(.*\)$/\1/p')
[[ -n $FFMPEG_VERSION ]] || die "$SUITE has no ffmpeg package"
echo "== apt-get install --download-only ffmpeg=$FFMPEG_VERSION (${#INST[@]} packages, cached in $APT/archives)"
apt-get "${OPTS[@]}" -q install --download-only ffmpeg >"$APT/download.log" 2>&1 \
  || { cat "$APT/download.log" >&2; die "download failed"; }

# --- unpack -------------------------------------------------------------------------------------
declare -A excluded=()
for p in "${EXCLUDE[@]}"; do excluded[$p]=1; done
NEW=$PREFIX/root.new
rm -rf "$NEW" && mkdir -p "$NEW"
: >"$NEW/.packages"
: >"$NEW/.excluded"
for entry in "${INST[@]}"; do
  read -r pkg ver <<<"$entry"
  if [[ -n ${excluded[$pkg]:-} ]]; then
    echo "$pkg $ver" >>"$NEW/.excluded"
    continue
  fi
  shopt -s nullglob
  debs=("$APT/archives/${pkg}_${ver//:/%3a}_"*.deb)
  shopt -u nullglob
  (( ${#debs[@]} == 1 )) || die "no downloaded .deb for $pkg $ver"
  dpkg -x "${debs[0]}" "$NEW"
  echo "$pkg $ver" >>"$NEW/.packages"
done
[[ -x $NEW/usr/bin/ffmpeg ]] || die "$SUITE's ffmpeg is not in the unpacked tree"

# Every directory of the tree holding shared libraries (alternatives like blas/ and lapack/, and
# pulseaudio/, included: no maintainer script made their symlinks), as paths relative to root.
mapfile -t LIBDIRS < <(cd "$NEW" && find ./lib ./usr/lib \( -name 'lib*.so' -o -name 'lib*.so.*' \) \
  \( -type f -o -type l \) -printf '%h\n' 2>/dev/null | sed 's|^\./|/|' | sort -u \
  | awk '{ print (/x86_64-linux-gnu$/ ? 0 : 1) "\t" $0 }' | sort -k1,1n -k2 | cut -f2)
(( ${#LIBDIRS[@]} > 0 )) || die "no shared libraries in the unpacked tree"

rm -rf "$PREFIX/root.old"
[[ -d $PREFIX/root ]] && mv "$PREFIX/root" "$PREFIX/root.old"
mv "$NEW" "$PREFIX/root"
rm -rf "$PREFIX/root.old"

LIBPATH=""
for d in "${LIBDIRS[@]}"; do LIBPATH+="${LIBPATH:+:}$PREFIX/root$d"; done
for tool in ffmpeg ffprobe; do
  cat >"$PREFIX/$tool.tmp" <<EOF
#!/bin/sh
# Debian $SUITE's $tool ($FFMPEG_VERSION), unpacked in root/ beside this file by .ci/debian-ffmpeg.sh.
# Absolute paths: the wrapper needs no tool from PATH.
LD_LIBRARY_PATH='$LIBPATH'\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH
exec '$PREFIX/root/usr/bin/$tool' "\$@"
EOF
  chmod 755 "$PREFIX/$tool.tmp"
  mv -f "$PREFIX/$tool.tmp" "$PREFIX/$tool"
done

# --- check --------------------------------------------------------------------------------------
for tool in ffmpeg ffprobe; do
  missing=$(LD_LIBRARY_PATH=$LIBPATH ldd "$PREFIX/root/usr/bin/$tool" | grep 'not found' || true)
  [[ -z $missing ]] || die "$tool: libraries not found:"$'\n'"$missing"
done
upstream=${FFMPEG_VERSION#*:}; upstream=${upstream%%-*}  # 7:4.3.9-0+deb11u2 -> 4.3.9
version=$("$PREFIX/ffmpeg" -version 2>&1) || { echo "$version" >&2; die "$PREFIX/ffmpeg does not run"; }
first=$(head -n1 <<<"$version")
[[ $first == "ffmpeg version $upstream"* ]] || { echo "$version" >&2; die "not ffmpeg $upstream: $first"; }
# (Answers are kept in variables, then searched: `cmd | grep -q` fails under pipefail on SIGPIPE.)
probe=$("$PREFIX/ffprobe" -version 2>&1) || { echo "$probe" >&2; die "$PREFIX/ffprobe does not run"; }
[[ $probe == "ffprobe version $upstream"* ]] || die "not ffprobe $upstream: $(head -n1 <<<"$probe")"
# The libraries a complete build loads (libx264, libfreetype, libass): a broken unpack shows here.
encoders=$("$PREFIX/ffmpeg" -hide_banner -encoders 2>&1)
grep -Eq '^ [A-Z.]+ +libx264 ' <<<"$encoders" || die "no libx264 encoder in $PREFIX/ffmpeg"
filters=$("$PREFIX/ffmpeg" -hide_banner -filters 2>&1)
for f in drawtext subtitles; do
  grep -Eq "^ [A-Z.|]+ +$f " <<<"$filters" || die "filter $f missing from $PREFIX/ffmpeg"
done

echo "== $(wc -l <"$PREFIX/root/.packages") packages unpacked in $PREFIX/root," \
  "$(wc -l <"$PREFIX/root/.excluded") left to the host: $(cut -d' ' -f1 "$PREFIX/root/.excluded" | tr '\n' ' ')"
echo "$first"
echo "use: STORYBOARD_FFMPEG=$PREFIX/ffmpeg"
