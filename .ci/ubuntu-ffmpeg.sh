#!/usr/bin/env bash
# Install Ubuntu 22.04 (jammy)'s own ffmpeg 4.4 into a private prefix, without touching the system.
#
#   bash .ci/ubuntu-ffmpeg.sh [PREFIX]        # PREFIX defaults to /opt/ffmpeg-jammy
#   STORYBOARD_FFMPEG=PREFIX/ffmpeg pytest ...
#
# How: a private apt (its own sources.list, keyring, lists, cache and an empty dpkg status, none of
# the host's /etc/apt) resolves jammy's `ffmpeg` with its dependencies as if on an empty system and
# downloads them; each package but the host's core runtime (EXCLUDE below) is unpacked with `dpkg -x`
# into PREFIX/root; PREFIX/ffmpeg and PREFIX/ffprobe are wrappers that run jammy's binaries with
# LD_LIBRARY_PATH pointing at PREFIX/root. No maintainer script runs; no system package changes.
# Idempotent: downloaded .debs are kept in PREFIX/apt/archives, the tree is unpacked afresh each run.
#
# Needs: bash, apt-get, dpkg, curl, gpgv (apt verifies jammy's InRelease), sha256sum, ldd; amd64;
# a host glibc >= jammy's 2.35 (Debian 12 has 2.36); http access to the Ubuntu archive.
set -euo pipefail

PREFIX=${1:-/opt/ffmpeg-jammy}
MIRROR=${UBUNTU_MIRROR:-http://archive.ubuntu.com/ubuntu}
SUITES=(jammy jammy-updates)
COMPONENTS="main universe"

# Packages resolved as dependencies but NOT unpacked: the host's own copies are used instead. Mixing
# jammy's glibc (2.35) with the host's (2.36) breaks every program, and the gcc runtime libraries
# must match the host's libc; the rest are tools and data pulled in only by maintainer scripts.
EXCLUDE=(
  libc6 libc-bin libc-dev-bin libc6-dev locales libcrypt1 libidn2-0 libunistring2
  gcc-12-base libgcc-s1 libstdc++6 libgomp1 libatomic1 libquadmath0
  debconf debconf-i18n dpkg perl-base tar coreutils base-files sensible-utils
  adduser passwd login libpam0g libpam-modules libpam-modules-bin libpam-runtime
  lsb-base init-system-helpers ucf readline-common
)

# Ubuntu's archive key, from jammy's ubuntu-keyring package, pinned by its hash (its keyring holds
# "Ubuntu Archive Automatic Signing Key (2018)" F6ECB3762474EDA9D21B7022871920D1991BC93C).
KEYRING_DEB=pool/main/u/ubuntu-keyring/ubuntu-keyring_2021.03.26_all.deb
KEYRING_SHA256=0d0e7ed6b112f5d03eabf3c7eb01ebdacf9c57714b279e90495cfc58c8c4520f
HOST_KEYRING=/usr/share/keyrings/ubuntu-archive-keyring.gpg

die() { echo "ubuntu-ffmpeg.sh: $*" >&2; exit 1; }
[[ $(uname -m) == x86_64 ]] || die "only amd64 is supported (this is $(uname -m))"
for tool in apt-get dpkg curl gpgv sha256sum ldd; do
  command -v "$tool" >/dev/null || die "needs $tool"
done

mkdir -p "$PREFIX"
PREFIX=$(cd "$PREFIX" && pwd -P)
APT=$PREFIX/apt
mkdir -p "$APT"/{lists/partial,archives/partial,empty.d,keyrings}
: >"$APT/status"  # an empty dpkg database: resolve as if nothing were installed

# --- the keyring --------------------------------------------------------------------------------
KEYRING=$APT/keyrings/ubuntu-archive-keyring.gpg
if [[ -s $HOST_KEYRING ]]; then
  cp -f "$HOST_KEYRING" "$KEYRING"
elif [[ ! -s $KEYRING ]]; then
  tmp=$(mktemp -d)
  curl -fsSL --retry 3 -o "$tmp/keyring.deb" "$MIRROR/$KEYRING_DEB"
  echo "$KEYRING_SHA256  $tmp/keyring.deb" | sha256sum -c --quiet - \
    || die "ubuntu-keyring .deb does not match its pinned sha256"
  dpkg -x "$tmp/keyring.deb" "$tmp/x"
  cp "$tmp/x/usr/share/keyrings/ubuntu-archive-keyring.gpg" "$KEYRING"
  rm -rf "$tmp"
fi

# --- a private apt ------------------------------------------------------------------------------
: >"$APT/sources.list"
for suite in "${SUITES[@]}"; do
  echo "deb [arch=amd64 signed-by=$KEYRING] $MIRROR $suite $COMPONENTS" >>"$APT/sources.list"
done
# Read before anything else (APT_CONFIG); Dir::Etc::parts and ::main then keep out the host's
# /etc/apt/apt.conf{,.d} (docker-clean, proxies for other hosts, pins, ...).
cat >"$APT/apt.conf" <<EOF
Dir::Etc::main "/dev/null";
Dir::Etc::parts "$APT/empty.d";
Dir::Etc::sourcelist "$APT/sources.list";
Dir::Etc::sourceparts "$APT/empty.d";
Dir::Etc::preferences "/dev/null";
Dir::Etc::preferencesparts "$APT/empty.d";
Dir::Etc::trusted "/dev/null";
Dir::Etc::trustedparts "$APT/empty.d";
Dir::State "$APT";
Dir::State::lists "$APT/lists";
Dir::State::status "$APT/status";
Dir::State::extended_states "$APT/extended_states";
Dir::Cache "$APT";
Dir::Cache::archives "$APT/archives";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Dir::Log "$APT";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
APT::Install-Recommends "false";
APT::Install-Suggests "false";
APT::Get::Assume-Yes "true";
APT::Sandbox::User "root";
Acquire::Languages "none";
Acquire::Retries "3";
Debug::NoLocking "true";
EOF
export APT_CONFIG=$APT/apt.conf
[[ -n ${http_proxy:-} ]] && echo "Acquire::http::Proxy \"$http_proxy\";" >>"$APT/apt.conf"

echo "== apt-get update (jammy, private lists in $APT)"
apt-get -q update >"$APT/update.log" 2>&1 || { cat "$APT/update.log" >&2; die "apt-get update failed"; }
grep -E '^(W|E):' "$APT/update.log" >&2 || true

# What `apt-get install ffmpeg` would install on an empty jammy system (one choice per alternative).
mapfile -t INST < <(apt-get -s install ffmpeg | sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*/\1 \2/p')
(( ${#INST[@]} > 20 )) || die "could not resolve ffmpeg's dependencies (${#INST[@]} packages)"
echo "== apt-get install --download-only ffmpeg (${#INST[@]} packages, cached in $APT/archives)"
apt-get -q install --download-only ffmpeg >"$APT/download.log" 2>&1 \
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
[[ -x $NEW/usr/bin/ffmpeg ]] || die "jammy's ffmpeg is not in the unpacked tree"

# Every directory of the tree holding shared libraries (alternatives like blas/ and lapack/, and
# pulseaudio/, included: no maintainer script made their symlinks, and libpulse's RUNPATH names the
# host's directory), as paths relative to root.
mapfile -t LIBDIRS < <(cd "$NEW" && find ./lib ./usr/lib \( -name 'lib*.so' -o -name 'lib*.so.*' \) \
  \( -type f -o -type l \) -printf '%h\n' 2>/dev/null | sed 's|^\./|/|' | sort -u \
  | awk '{ print (/x86_64-linux-gnu$/ ? 0 : 1) "\t" $0 }' | sort -k1,1n -k2 | cut -f2)
(( ${#LIBDIRS[@]} > 0 )) || die "no shared libraries in the unpacked tree"

rm -rf "$PREFIX/root.old"
[[ -d $PREFIX/root ]] && mv "$PREFIX/root" "$PREFIX/root.old"
mv "$NEW" "$PREFIX/root"
rm -rf "$PREFIX/root.old"

for tool in ffmpeg ffprobe; do
  {
    echo '#!/bin/sh'
    echo "# Ubuntu 22.04's $tool, unpacked in root/ beside this file by .ci/ubuntu-ffmpeg.sh."
    echo "here='$PREFIX'  # absolute: the wrapper needs no tool from PATH"
    printf 'LD_LIBRARY_PATH='
    sep=''
    for d in "${LIBDIRS[@]}"; do printf '%s$here/root%s' "$sep" "$d"; sep=':'; done
    echo '${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}'
    echo 'export LD_LIBRARY_PATH'
    echo "exec \"\$here/root/usr/bin/$tool\" \"\$@\""
  } >"$PREFIX/$tool.tmp"
  chmod 755 "$PREFIX/$tool.tmp"
  mv -f "$PREFIX/$tool.tmp" "$PREFIX/$tool"
done

# --- check --------------------------------------------------------------------------------------
for tool in ffmpeg ffprobe; do
  missing=$(LD_LIBRARY_PATH=$(sed -n 's/^LD_LIBRARY_PATH=\(.*\)\${LD_LIBRARY_PATH.*/\1/p' \
              "$PREFIX/$tool" | sed "s|\$here|$PREFIX|g") ldd "$PREFIX/root/usr/bin/$tool" \
            | grep 'not found' || true)
  [[ -z $missing ]] || die "$tool: libraries not found:"$'\n'"$missing"
done

version=$("$PREFIX/ffmpeg" -version 2>&1) || { echo "$version" >&2; die "$PREFIX/ffmpeg does not run"; }
first=$(head -n1 <<<"$version")
[[ $first == "ffmpeg version 4.4"* ]] || { echo "$version" >&2; die "not ffmpeg 4.4: $first"; }
"$PREFIX/ffprobe" -version 2>&1 | head -n1 | grep -q '^ffprobe version 4.4' \
  || die "$PREFIX/ffprobe does not run"

filters=$("$PREFIX/ffmpeg" -hide_banner -filters 2>&1)
for f in xfade threshold extractplanes mergeplanes acrossfade subtitles ebur128 alimiter drawtext; do
  grep -Eq "^ [A-Z.|]+ +$f " <<<"$filters" || die "filter $f missing from $PREFIX/ffmpeg"
done
encoders=$("$PREFIX/ffmpeg" -hide_banner -encoders 2>&1)
for e in libx264 aac; do
  grep -Eq "^ [A-Z.]+ +$e " <<<"$encoders" || die "encoder $e missing from $PREFIX/ffmpeg"
done

echo "== $(wc -l <"$PREFIX/root/.packages") packages unpacked in $PREFIX/root," \
  "$(wc -l <"$PREFIX/root/.excluded") left to the host: $(cut -d' ' -f1 "$PREFIX/root/.excluded" | tr '\n' ' ')"
echo "$first"
echo "use: STORYBOARD_FFMPEG=$PREFIX/ffmpeg"
