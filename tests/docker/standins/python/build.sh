#!/usr/bin/env bash
# Stand-in for the official python:3.11-slim-bookworm image, built offline (no registry reachable here): a minimal
# Debian bookworm from the machine's apt mirror with Debian's Python 3.11, imported into Podman.
#
#   build.sh IMAGE MIRROR LABEL=VALUE
#
# Like the official image: `python` and `pip` on PATH, pip may install system-wide (no EXTERNALLY-MANAGED). Unlike
# it, and only because this machine needs it: the host's CA bundle and pip config, so pip in the containers reaches
# PyPI the way the host does.
set -euo pipefail

image="$1" mirror="$2" label="$3"
rootfs="$(mktemp -d /var/tmp/python-standin.XXXXXX)"
trap 'rm -rf "$rootfs"' EXIT

debootstrap --variant=minbase --include=python3.11,python3.11-venv,python3-pip,ca-certificates,curl \
  bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || { tail -n 40 "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1; }
rm -f "$rootfs.log"

ln -sf /usr/bin/python3.11 "$rootfs/usr/local/bin/python"
ln -sf /usr/bin/python3.11 "$rootfs/usr/local/bin/python3"
ln -sf /usr/bin/pip3 "$rootfs/usr/local/bin/pip"
rm -f "$rootfs"/usr/lib/python3*/EXTERNALLY-MANAGED
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
[[ -f /etc/pip.conf ]] && cp /etc/pip.conf "$rootfs/etc/pip.conf"
if [[ -d /etc/xdg/pip ]]; then
  mkdir -p "$rootfs/etc/xdg" && cp -r /etc/xdg/pip "$rootfs/etc/xdg/pip"
fi
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

tar -C "$rootfs" -c . | podman import \
  --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["python3"]' \
  --change "LABEL $label" \
  - "$image" >/dev/null
