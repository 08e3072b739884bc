#!/usr/bin/env bash
# Builds the Debian package bin/nfcbridge_VERSION_ARCH.deb with dpkg-deb:
# the binary, the systemd units, sysusers.d and tmpfiles.d entries, the
# polkit rule, the default config and the maintainer scripts in
# packaging/deb. The version is the first line of packaging/deb/changelog.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin

version=$(sed -n '1s/^nfcbridge (\([^)]*\)).*/\1/p' packaging/deb/changelog)
[ -n "$version" ] || { echo "deb: no version in packaging/deb/changelog" >&2; exit 1; }
arch=$(dpkg --print-architecture)
out=bin/nfcbridge_${version}_${arch}.deb

root=$(mktemp -d /tmp/nfcbridge-deb.XXXXXX)
trap 'rm -rf "$root"' EXIT
install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/usr/lib/systemd/system" \
  "$root/usr/lib/sysusers.d" "$root/usr/lib/tmpfiles.d" "$root/usr/share/polkit-1/rules.d" \
  "$root/usr/share/doc/nfcbridge" "$root/usr/share/man/man1" "$root/etc/nfcbridge"

# -buildvcs=auto: the commit when built from a git checkout.
CGO_ENABLED=1 go build -trimpath -buildvcs=auto -buildmode=pie \
  -ldflags "-s -w -X main.packageVersion=$version -extldflags=-Wl,-z,relro,-z,now" -o "$root/usr/bin/nfcbridge" ./cmd/nfcbridge
chmod 0755 "$root/usr/bin/nfcbridge"

install -m 0644 systemd/nfcbridge.service systemd/nfcbridge.socket "$root/usr/lib/systemd/system/"
install -m 0644 systemd/nfcbridge.sysusers.conf "$root/usr/lib/sysusers.d/nfcbridge.conf"
install -m 0644 systemd/nfcbridge.tmpfiles.conf "$root/usr/lib/tmpfiles.d/nfcbridge.conf"
install -m 0644 systemd/60-nfcbridge.rules "$root/usr/share/polkit-1/rules.d/"
install -m 0644 packaging/deb/nfcbridge.conf "$root/etc/nfcbridge/nfcbridge.conf"
install -m 0644 packaging/deb/copyright "$root/usr/share/doc/nfcbridge/copyright"
gzip -9n <packaging/deb/changelog >"$root/usr/share/doc/nfcbridge/changelog.gz"
gzip -9n <packaging/deb/nfcbridge.1 >"$root/usr/share/man/man1/nfcbridge.1.gz"
chmod 0644 "$root/usr/share/doc/nfcbridge/changelog.gz" "$root/usr/share/man/man1/nfcbridge.1.gz"

install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$root/DEBIAN/"
echo /etc/nfcbridge/nfcbridge.conf >"$root/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
depends="libc6 (>= 2.34), libpcsclite1 (>= 1.8.3), pcscd, systemd (>= 247)"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$depends/" \
  packaging/deb/control.in >"$root/DEBIAN/control"
(cd "$root" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

mkdir -p bin
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
echo "$out"
