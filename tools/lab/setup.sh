#!/bin/bash
# Two-host real libvirt lab: installs what is missing, builds the guest
# (Debian kernel + busybox initramfs running the dirtier), starts two
# libvirt "hosts" lab-a and lab-b in their own namespaces on this machine,
# detects KVM vs TCG, and writes $NOVA_LAB_DIR/lab.env.
#
# Idempotent: re-running keeps running hosts (restarting one only when its
# configuration changed or it is unhealthy) and reuses the built guest.
#
# Environment:
#   NOVA_LAB_DIR          state dir (default /var/tmp/nova-lab)
#   NOVA_LAB_VIRT_TYPE    auto (default) | kvm | qemu  -- force the domain type
#   NOVA_LAB_KVM_PROBE_TIMEOUT  seconds to wait for a KVM guest (default 15)
#   NOVA_LAB_DEBUG=1      libvirtd debug logging
#   STACK                 debian12 (default) | backports | mixed: which
#                         libvirt/QEMU each host runs (see lib.sh); the
#                         backports build is unpacked, never installed
#   NOVA_LAB_STACK_REFRESH=1  unpack the backports build again (newer debs)
set -eu

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "$(id -u)" = 0 ] || die "setup.sh must run as root"
export DEBIAN_FRONTEND=noninteractive
T_SETUP=$(now_s)

LAB_PACKAGES="qemu-system-x86 libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
libvirt-dev pkg-config busybox-static cpio iproute2 gcc libc6-dev gzip util-linux mount
nftables socat openssl qemu-utils nfs-ganesha nfs-ganesha-vfs rpcbind qemu-block-extra"

APT_UPDATED=0
apt_update_once() {
    if [ "$APT_UPDATED" = 0 ]; then
        log "apt-get update"
        apt-get update -q >/dev/null
        APT_UPDATED=1
    fi
}

step_packages() {
    local p missing=""
    for p in $LAB_PACKAGES; do
        case "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)" in
            ii*) ;;
            *) missing="$missing $p" ;;
        esac
    done
    if [ -n "$missing" ]; then
        apt_update_once
        log "installing:$missing"
        # shellcheck disable=SC2086
        apt-get install -y -q --no-install-recommends $missing </dev/null
    else
        log "packages: all present"
    fi
}

# The bookworm-backports suite in the package sources, from the archive
# the machine already uses for bookworm (a fresh Debian 12 has no entry).
ensure_backports_source() {
    local uri f=/etc/apt/sources.list.d/nova-lab-backports.sources
    if apt-cache policy 2>/dev/null | grep -q " $LAB_BACKPORTS_SUITE/main "; then
        return 0
    fi
    uri=$(apt-cache policy 2>/dev/null |
        awk '$3 == "bookworm/main" && $2 ~ /^https?:/ { print $2; exit }')
    [ -n "$uri" ] || die "no Debian bookworm/main source found to take the archive from"
    log "adding $LAB_BACKPORTS_SUITE ($uri) to the package sources: $f"
    cat >"$f" <<EOF
# Added by nova tools/lab/setup.sh for STACK=backports|mixed: Debian's
# $LAB_BACKPORTS_SUITE suite from the archive this machine uses.  Backports
# are NotAutomatic: nothing is installed from here unless asked for.
Types: deb
URIs: $uri
Suites: $LAB_BACKPORTS_SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    APT_UPDATED=0
    apt_update_once
}

# backports_download DIR: the backports build's .debs into DIR.
backports_download() {
    local p
    # shellcheck disable=SC2046
    (cd "$1" && apt-get download -q $(for p in $LAB_BACKPORTS_PACKAGES; do
        echo "$p/$LAB_BACKPORTS_SUITE"; done) </dev/null >download.log 2>&1)
}

# The backports build: its .debs downloaded and unpacked (dpkg -x) under
# stacks/backports/root; the system's packages are left as they are.
step_stack_backports() {
    local dir=$LAB_STACKS_DIR/backports tmp p missing
    # Unpacked again when the package list changed (e.g. a driver added).
    # shellcheck disable=SC2086
    if [ -x "$(stack_root backports)/usr/sbin/libvirtd" ] && [ -s "$dir/versions" ] &&
        [ "$(cat "$dir/packages" 2>/dev/null)" = "$(echo $LAB_BACKPORTS_PACKAGES)" ] &&
        [ "${NOVA_LAB_STACK_REFRESH:-0}" != 1 ]; then
        log "stack backports: unpacked, $(sed -n 's/^Package: \(libvirt-daemon\|qemu-system-x86\) Version: /\1 /p' "$dir/versions" | paste -sd' ')"
        return 0
    fi
    ensure_backports_source
    tmp=$dir/build
    rm -rf "$tmp"
    mkdir -p "$tmp/debs" "$tmp/root"
    log "stack backports: downloading from $LAB_BACKPORTS_SUITE"
    if ! backports_download "$tmp/debs"; then
        apt_update_once
        backports_download "$tmp/debs" ||
            { cat "$tmp/debs/download.log" >&2; die "apt-get download from $LAB_BACKPORTS_SUITE failed"; }
    fi
    for p in "$tmp"/debs/*.deb; do
        dpkg -x "$p" "$tmp/root"
        dpkg-deb -f "$p" Package Version | paste -sd' ' >>"$tmp/versions"
    done
    rm -rf "$dir/root" "$dir/versions"
    mv "$tmp/root" "$dir/root"
    mv "$tmp/versions" "$dir/versions"
    # shellcheck disable=SC2086
    echo $LAB_BACKPORTS_PACKAGES >"$dir/packages"
    rm -rf "$tmp"
    # Its binaries must find every library on this system.
    missing=$(in_stack backports sh -c 'ldd /usr/sbin/libvirtd /usr/sbin/virtlogd \
        /usr/bin/qemu-system-x86_64 \
        /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so' |
        awk '/not found/ { print $1 }' | sort -u | tr '\n' ' ')
    [ -z "$missing" ] || die "stack backports: libraries missing on this system: $missing"
    log "stack backports: $(in_stack backports libvirtd --version | head -n1);" \
        "$(in_stack backports qemu-system-x86_64 --version | head -n1)"
}

step_stack() {
    local h
    STACK_NAME=${STACK:-debian12}
    case " $LAB_STACKS " in
        *" $STACK_NAME "*) ;;
        *) die "STACK must be one of: $LAB_STACKS (got $STACK_NAME)" ;;
    esac
    for h in $LAB_HOSTS; do
        if [ "$(stack_of_host "$STACK_NAME" "$h")" = backports ]; then
            step_stack_backports
            break
        fi
    done
    echo "$STACK_NAME" >"$LAB_STACK_FILE"
    log "stack $STACK_NAME: lab-a $(host_stack lab-a), lab-b $(host_stack lab-b)"
}

# The newest pc-i440fx machine type every build in use has: guests are
# pinned to it (like Nova's hw_machine_type) so they migrate both ways
# between an older and a newer QEMU.
step_machine_type() {
    local h b builds="" n
    for h in $LAB_HOSTS; do
        b=$(host_stack "$h")
        case " $builds " in *" $b "*) ;; *) builds="$builds $b" ;; esac
    done
    n=$(echo $builds | wc -w)
    MACHINE_TYPE=$(for b in $builds; do
            in_stack "$b" qemu-system-x86_64 -machine help |
                awk '$1 ~ /^pc-i440fx-[0-9.]+$/ { print $1 }' | sort -u
        done | sort | uniq -c | awk -v n="$n" '$1 == n { print $2 }' | sort -V | tail -n1)
    [ -n "$MACHINE_TYPE" ] || die "no pc-i440fx machine type common to the builds:$builds"
    log "machine type: $MACHINE_TYPE (newest common to:$builds)"
}

# daemon_versions HOST -> "LIBVIRT QEMU" as the running daemon reports them.
daemon_versions() {
    lab_virsh "$1" version --daemon 2>/dev/null | awk -F': *' '
        /Running against daemon/ { l = $2 }
        /Running hypervisor/ { split($2, a, " "); q = a[2] }
        END { print l, q }'
}

step_users() {
    getent group kvm >/dev/null || groupadd --system kvm
    getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
    if ! getent passwd libvirt-qemu >/dev/null; then
        useradd --system --no-create-home --home-dir /var/lib/libvirt \
            --shell /usr/sbin/nologin -g libvirt-qemu -G kvm libvirt-qemu
    fi
}

# The guest kernel: vmlinuz from the Debian linux-image-6.1.0-*-amd64 package
# that linux-image-amd64 depends on, extracted (never installed), cached.
# The .deb is kept beside it ($LAB_KERNEL_DEB): the guest's modules are
# picked from it (guest_modules) whenever guest/modules changes.
fetch_kernel() {
    local pkg tmp v
    if [ -s "$LAB_KERNEL" ] && [ -s "$LAB_KERNEL_DEB" ]; then
        log "kernel: cached ($(cat "$LAB_KERNEL.pkg" 2>/dev/null || echo '?'))"
        return 0
    fi
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
    if [ -z "$pkg" ]; then
        apt_update_once
        pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
            awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
    fi
    [ -n "$pkg" ] || die "cannot resolve the kernel package linux-image-amd64 depends on"
    tmp=$LAB_DIR/build/kernel
    rm -rf "$tmp"
    mkdir -p "$tmp/x"
    log "kernel: downloading $pkg"
    if ! (cd "$tmp" && apt-get download -q "$pkg" </dev/null >/dev/null 2>"$tmp/download.err"); then
        apt_update_once
        (cd "$tmp" && apt-get download -q "$pkg" </dev/null >/dev/null 2>"$tmp/download.err") ||
            { cat "$tmp/download.err" >&2; die "apt-get download $pkg failed"; }
    fi
    dpkg -x "$tmp"/*.deb "$tmp/x"
    v=$(find "$tmp/x/boot" -maxdepth 1 -name 'vmlinuz-*' | head -n1)
    [ -n "$v" ] || die "no boot/vmlinuz-* in $pkg"
    cp "$v" "$LAB_KERNEL.tmp"
    mv "$LAB_KERNEL.tmp" "$LAB_KERNEL"
    echo "$pkg $(basename "$v")" >"$LAB_KERNEL.pkg"
    mv "$tmp"/*.deb "$LAB_KERNEL_DEB"
    rm -rf "$tmp"
    log "kernel: $LAB_KERNEL ($(basename "$v"))"
}

# The kernel modules the guest loads when it has virtio devices (Debian
# builds virtio_pci, virtio_blk and virtio_net as modules): the names in
# guest/modules with their dependencies, in load order, picked from the
# kernel's .deb into $LAB_GUEST_MODULES.
guest_modules() {
    local out=$LAB_GUEST_MODULES tmp stamp mdir kver
    stamp=$( (cat "$LAB_TOOLS/guest/modules" "$LAB_TOOLS/guest/pick-modules.sh" "$LAB_KERNEL.pkg") |
        sha256sum | cut -d' ' -f1)
    if [ -s "$out/load.order" ] && [ "$(cat "$out.stamp" 2>/dev/null)" = "$stamp" ]; then
        log "guest modules: up to date ($(wc -l <"$out/load.order") modules)"
        return 0
    fi
    tmp=$LAB_DIR/build/modules
    rm -rf "$tmp"
    mkdir -p "$tmp/x"
    dpkg -x "$LAB_KERNEL_DEB" "$tmp/x"
    kver=$(sed -n 's/.* vmlinuz-//p' "$LAB_KERNEL.pkg")
    mdir=""
    for d in "$tmp/x/lib/modules/$kver" "$tmp/x/usr/lib/modules/$kver"; do
        if [ -d "$d" ]; then mdir=$d; fi
    done
    [ -n "$mdir" ] || die "no lib/modules/$kver in $LAB_KERNEL_DEB"
    # shellcheck disable=SC2046
    bash "$LAB_TOOLS/guest/pick-modules.sh" "$mdir" "$tmp/out" \
        $(sed 's/#.*//' "$LAB_TOOLS/guest/modules")
    rm -rf "$out"
    mv "$tmp/out" "$out"
    echo "$stamp" >"$out.stamp"
    rm -rf "$tmp"
    log "guest modules ($kver): $(paste -sd' ' "$out/load.order")"
}

# build_static NAME SRC: a guest program in $LAB_GUEST_DIR/NAME, static.
# The stamp is content-based, so a fresh checkout (new mtimes) does not
# rebuild.
build_static() {
    local name=$1 src=$2 out=$LAB_GUEST_DIR/$1 stamp
    stamp=$( (cat "$src"; gcc --version | head -n1) | sha256sum | cut -d' ' -f1)
    if [ -x "$out" ] && [ "$(cat "$out.stamp" 2>/dev/null)" = "$stamp" ]; then
        return 0
    fi
    log "building $name (gcc -static -O2)"
    gcc -static -O2 -Wall -o "$out.tmp" "$src"
    mv "$out.tmp" "$out"
    echo "$stamp" >"$out.stamp"
}

build_dirtier() {
    build_static dirtier "$LAB_TOOLS/guest/dirtier.c"
}

build_initrd() {
    local bb stamp_new stage a
    bb=$(command -v busybox || true)
    if [ -z "$bb" ] || [ ! -x "$bb" ]; then
        die "busybox not found (package busybox-static)"
    fi
    # busybox must be static to run alone in the initramfs.
    if ldd "$bb" >/dev/null 2>&1; then
        die "$bb is dynamically linked; install busybox-static"
    fi
    stamp_new=$(cat "$LAB_TOOLS/guest/init" "$LAB_GUEST_DIR/dirtier" "$bb" \
        "$LAB_GUEST_MODULES.stamp" "$LAB_TOOLS/guest/diskload" "$LAB_GUEST_DIR/echod" | sha256sum | cut -d' ' -f1)
    if [ -s "$LAB_INITRD" ] && [ "$(cat "$LAB_INITRD.stamp" 2>/dev/null)" = "$stamp_new" ]; then
        log "initramfs: up to date"
        return 0
    fi
    log "initramfs: building"
    stage=$LAB_DIR/build/initramfs
    rm -rf "$stage"
    mkdir -p "$stage/bin" "$stage/proc" "$stage/sys" "$stage/dev" "$stage/tmp"
    cp "$bb" "$stage/bin/busybox"
    for a in sh mount cat sleep uname echo; do
        ln -s busybox "$stage/bin/$a"
    done
    # Every other applet too (insmod, dd, sha256sum, ip, ...), by its name.
    for a in $("$bb" --list); do
        [ -e "$stage/bin/$a" ] || ln -s busybox "$stage/bin/$a"
    done
    mkdir -p "$stage/lib/modules"
    cp "$LAB_GUEST_MODULES"/*.ko "$LAB_GUEST_MODULES/load.order" "$stage/lib/modules/"
    cp "$LAB_TOOLS/guest/diskload" "$stage/bin/diskload"
    chmod 755 "$stage/bin/diskload"
    cp "$LAB_GUEST_DIR/dirtier" "$stage/bin/dirtier"
    cp "$LAB_GUEST_DIR/echod" "$stage/bin/echod"
    cp "$LAB_TOOLS/guest/init" "$stage/init"
    chmod 755 "$stage/init" "$stage/bin/dirtier" "$stage/bin/echod"
    # The kernel opens /dev/console for init before devtmpfs is mounted.
    mknod -m 600 "$stage/dev/console" c 5 1
    (cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -9 >"$LAB_INITRD.tmp"
    mv "$LAB_INITRD.tmp" "$LAB_INITRD"
    echo "$stamp_new" >"$LAB_INITRD.stamp"
    rm -rf "$stage"
}

step_guest() {
    mkdir -p "$LAB_GUEST_DIR" "$LAB_DIR/build"
    fetch_kernel
    guest_modules
    build_dirtier
    build_echod
    build_initrd
}

# probe_boot ACCEL TIMEOUT: boot the guest with plain QEMU and wait for the
# dirtier's first report on the serial console.
probe_boot() {
    local accel=$1 tmo=$2 dir=$LAB_DIR/probe pid i ok=1
    mkdir -p "$dir"
    rm -f "$dir/$accel.console" "$dir/$accel.stderr"
    "$QEMU_BIN" -accel "$accel" -machine pc -m 128 -smp 1 -nodefaults -no-user-config \
        -display none -monitor none -no-reboot \
        -serial "file:$dir/$accel.console" \
        -kernel "$LAB_KERNEL" -initrd "$LAB_INITRD" \
        -append "console=ttyS0 dirty_mib=16 dirty_rate=0 quiet" \
        </dev/null >"$dir/$accel.stderr" 2>&1 &
    pid=$!
    i=0
    while [ "$i" -lt $((tmo * 5)) ]; do
        if grep -q 'DIRTIER t=' "$dir/$accel.console" 2>/dev/null; then
            ok=0
            break
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
        i=$((i + 1))
    done
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    return $ok
}

step_virt_type() {
    local forced=${NOVA_LAB_VIRT_TYPE:-auto} key cache=$LAB_GUEST_DIR/virt-type t0 tmo
    tmo=${NOVA_LAB_KVM_PROBE_TIMEOUT:-15}
    key="$("$QEMU_BIN" --version | head -n1) $(cat "$LAB_INITRD.stamp") $(cat "$LAB_KERNEL.pkg")"
    case "$forced" in
        kvm|qemu) VIRT_TYPE=$forced; log "virt type: $VIRT_TYPE (forced by NOVA_LAB_VIRT_TYPE)"; return 0 ;;
        auto) ;;
        *) die "NOVA_LAB_VIRT_TYPE must be auto, kvm or qemu (got $forced)" ;;
    esac
    if [ -s "$cache" ] && [ "$(sed -n 2p "$cache")" = "$key" ]; then
        VIRT_TYPE=$(sed -n 1p "$cache")
        log "virt type: $VIRT_TYPE (cached probe result)"
        return 0
    fi
    VIRT_TYPE=""
    if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
        t0=$(now_s)
        log "probing KVM: booting the guest under -accel kvm (timeout ${tmo}s)"
        if probe_boot kvm "$tmo"; then
            VIRT_TYPE=kvm
            log "KVM guest booted and ran the dirtier in $(elapsed "$t0") s"
        else
            log "KVM guest did not reach the dirtier in $(elapsed "$t0") s; using TCG"
            sed 's/^/    kvm stderr: /' "$LAB_DIR/probe/kvm.stderr" 2>/dev/null | head -n5 || true
        fi
    else
        log "no usable /dev/kvm; using TCG"
    fi
    if [ -z "$VIRT_TYPE" ]; then
        t0=$(now_s)
        if ! probe_boot tcg 60; then
            echo "---- guest console (TCG) ----" >&2
            cat "$LAB_DIR/probe/tcg.console" >&2 2>/dev/null || true
            cat "$LAB_DIR/probe/tcg.stderr" >&2 2>/dev/null || true
            die "the guest did not boot under TCG either"
        fi
        log "TCG guest booted and ran the dirtier in $(elapsed "$t0") s"
        VIRT_TYPE=qemu
    fi
    printf '%s\n%s\n' "$VIRT_TYPE" "$key" >"$cache"
    log "virt type: $VIRT_TYPE"
}

# write_if_changed FILE: stdin -> FILE; returns 0 when the content changed.
write_if_changed() {
    local f=$1 tmp
    tmp=$(mktemp "$f.XXXXXX")
    cat >"$tmp"
    if [ -f "$f" ] && cmp -s "$tmp" "$f"; then
        rm -f "$tmp"
        return 1
    fi
    mv "$tmp" "$f"
    chmod 644 "$f"
    return 0
}

# ---- TLS: libvirt's connections and QEMU's migration stream -------------
# A lab CA and, per host, a server and a client certificate (RSA 2048, ten
# years), made once under $LAB_TLS_DIR and reused while they are valid for
# another 30 days.  $LAB_TLS_DIR/<host> holds the host's files under
# libvirt's names, so it also serves as a client's ``pkipath``.  Each host
# gets a copy where libvirt and QEMU look by default: host-boot.sh
# bind-mounts $(host_dir HOST)/pki over /etc/pki inside the host:
#   CA/cacert.pem                                    the CA (libvirt)
#   libvirt/servercert.pem, private/serverkey.pem    libvirtd, port 16514
#   libvirt/clientcert.pem, private/clientkey.pem    its peer connections
#   qemu/ca-cert.pem, server-cert.pem, server-key.pem,
#        client-cert.pem, client-key.pem             QEMU's migration stream
# Server certificates name the host and its lab address (subjectAltName
# DNS and IP): libvirt and QEMU check the name the client connected to.
LAB_TLS_DIR=$LAB_DIR/tls

# tls_sign NAME SUBJECT EXT_LINES: key NAME-key.pem and certificate
# NAME-cert.pem in the current directory, signed by ca/ (self-signed when
# NAME is ca/ca).
tls_sign() {
    local name=$1 subj=$2 ext=$3 issuer
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
        -out "$name-key.pem" 2>/dev/null
    chmod 600 "$name-key.pem"
    printf '[ext]\n%s\n' "$ext" >"$name.ext"
    openssl req -new -key "$name-key.pem" -subj "$subj" -out "$name.csr"
    if [ "$name" = ca/ca ]; then
        issuer="-signkey ca/ca-key.pem"
    else
        issuer="-CA ca/ca-cert.pem -CAkey ca/ca-key.pem"
    fi
    # shellcheck disable=SC2086
    openssl x509 -req -in "$name.csr" $issuer -days 3650 -sha256 \
        -set_serial "0x$(openssl rand -hex 12)" \
        -extfile "$name.ext" -extensions ext -out "$name-cert.pem" 2>/dev/null
    rm -f "$name.csr" "$name.ext"
}

# lab_make_tls_certs: the lab CA and each host's certificates, made when
# missing, expiring within 30 days, or naming another address.
lab_make_tls_certs() {
    local h d tmp want
    mkdir -p "$LAB_TLS_DIR"
    if [ ! -s "$LAB_TLS_DIR/ca/cacert.pem" ] ||
        ! openssl x509 -checkend 2592000 -noout -in "$LAB_TLS_DIR/ca/cacert.pem" >/dev/null; then
        log "tls: making the lab CA in $LAB_TLS_DIR/ca"
        rm -rf "$LAB_TLS_DIR"
        tmp=$(mktemp -d "$LAB_DIR/tls.XXXXXX")
        mkdir -p "$tmp/ca"
        (cd "$tmp" && tls_sign ca/ca "/O=nova lab/CN=nova lab CA" \
            "basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash")
        mv "$tmp/ca/ca-cert.pem" "$tmp/ca/cacert.pem"
        mv "$tmp/ca/ca-key.pem" "$tmp/ca/cakey.pem"
        chmod 700 "$tmp"
        mv "$tmp" "$LAB_TLS_DIR"
    fi
    for h in $LAB_HOSTS; do
        d=$LAB_TLS_DIR/$h
        want="$h $(host_addr "$h")"
        if [ -s "$d/servercert.pem" ] && [ -s "$d/clientcert.pem" ] &&
            [ "$(cat "$d/names" 2>/dev/null)" = "$want" ] &&
            openssl x509 -checkend 2592000 -noout -in "$d/servercert.pem" >/dev/null &&
            openssl x509 -checkend 2592000 -noout -in "$d/clientcert.pem" >/dev/null &&
            openssl verify -CAfile "$LAB_TLS_DIR/ca/cacert.pem" \
                "$d/servercert.pem" "$d/clientcert.pem" >/dev/null 2>&1; then
            continue
        fi
        log "tls: making $h's server and client certificates"
        tmp=$(mktemp -d "$LAB_TLS_DIR/$h.XXXXXX")
        mkdir -p "$tmp/ca"
        cp "$LAB_TLS_DIR/ca/cacert.pem" "$tmp/ca/ca-cert.pem"
        cp "$LAB_TLS_DIR/ca/cakey.pem" "$tmp/ca/ca-key.pem"
        (cd "$tmp" && tls_sign server "/O=nova lab/CN=$h" \
            "basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:$h, IP:$(host_addr "$h")" &&
            tls_sign client "/O=nova lab/CN=$h" \
            "basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth")
        mv "$tmp/ca/ca-cert.pem" "$tmp/cacert.pem"
        rm -rf "$tmp/ca"
        mv "$tmp/server-cert.pem" "$tmp/servercert.pem"
        mv "$tmp/server-key.pem" "$tmp/serverkey.pem"
        mv "$tmp/client-cert.pem" "$tmp/clientcert.pem"
        mv "$tmp/client-key.pem" "$tmp/clientkey.pem"
        echo "$want" >"$tmp/names"
        rm -rf "$d"
        mv "$tmp" "$d"
    done
}

# lab_install_tls_certs HOST: the host's files into $(host_dir HOST)/pki
# (the host's /etc/pki); returns 0 when any file changed (the host must
# restart), as write_if_changed does.
lab_install_tls_certs() {
    local host=$1 src pki changed=1 pair from to
    src=$LAB_TLS_DIR/$host
    pki=$(host_dir "$host")/pki
    [ -d /etc/pki ] || mkdir -p /etc/pki   # the mount point in each host
    mkdir -p "$pki/CA" "$pki/libvirt/private" "$pki/qemu"
    chmod 755 "$pki" "$pki/CA" "$pki/libvirt" "$pki/qemu"
    chmod 700 "$pki/libvirt/private"
    for pair in cacert.pem:CA/cacert.pem \
        servercert.pem:libvirt/servercert.pem serverkey.pem:libvirt/private/serverkey.pem \
        clientcert.pem:libvirt/clientcert.pem clientkey.pem:libvirt/private/clientkey.pem \
        cacert.pem:qemu/ca-cert.pem \
        servercert.pem:qemu/server-cert.pem serverkey.pem:qemu/server-key.pem \
        clientcert.pem:qemu/client-cert.pem clientkey.pem:qemu/client-key.pem; do
        from=$src/${pair%%:*}
        to=$pki/${pair#*:}
        if ! cmp -s "$from" "$to"; then
            install -m 600 "$from" "$to"
            changed=0
        fi
    done
    chmod 644 "$pki/CA/cacert.pem" "$pki/libvirt/servercert.pem" \
        "$pki/libvirt/clientcert.pem" "$pki/qemu/ca-cert.pem" \
        "$pki/qemu/server-cert.pem" "$pki/qemu/client-cert.pem"
    return $changed
}

# tls_peer_check FROM TO: FROM's namespace reaches TO's libvirtd over TLS
# with FROM's client certificate (as FROM's libvirtd does when migrating).
tls_peer_check() {
    ip netns exec "$1" timeout 10 virsh -q \
        -c "qemu+tls://$(host_addr "$2")/system?pkipath=$LAB_TLS_DIR/$1" hostname >/dev/null 2>&1
}
# ---- end of TLS ----------------------------------------------------------

# host_config HOST: writes the host's config; sets CONFIG_CHANGED=1 if any changed.
host_config() {
    local host=$1 hd addr ports min max peer
    hd=$(host_dir "$host")
    addr=$(host_addr "$host")
    peer=$(host_peer "$host")
    ports=$(host_mig_ports "$host")
    min=${ports% *}
    max=${ports#* }
    CONFIG_CHANGED=0
    mkdir -p "$hd/run" "$hd/lib" "$hd/etc" "$hd/log" "$hd/cache" "$hd/console"
    chmod 755 "$hd/console"
    lab_install_tls_certs "$host" && CONFIG_CHANGED=1
    local log_lines='log_outputs = "3:file:/var/log/libvirt/libvirtd.log"'
    if [ "${NOVA_LAB_DEBUG:-0}" = 1 ]; then
        log_lines='log_outputs = "1:file:/var/log/libvirt/libvirtd.log"
log_filters = "3:remote 4:event 3:util.json 3:util.object 3:util.dbus 3:rpc 4:util.threadjob"'
    fi
    write_if_changed "$hd/etc/libvirtd.conf" <<EOF && CONFIG_CHANGED=1
# nova lab host $host (generated by tools/lab/setup.sh)
listen_tls = 1
listen_tcp = 1
listen_addr = "$addr"
tls_port = "16514"
tcp_port = "16509"
auth_tls = "none"
auth_tcp = "none"
auth_unix_rw = "none"
auth_unix_ro = "none"
unix_sock_group = "root"
unix_sock_rw_perms = "0770"
host_uuid = "$(host_uuid "$host")"
$log_lines
EOF
    write_if_changed "$hd/etc/qemu.conf" <<EOF && CONFIG_CHANGED=1
# nova lab host $host (generated by tools/lab/setup.sh)
security_driver = "none"
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
namespaces = [ ]
cgroup_controllers = [ ]
migration_address = "$addr"
migration_host = "$addr"
migration_port_min = $min
migration_port_max = $max
# TLS for QEMU (VIR_MIGRATE_TLS): the host's certificates, peers verified.
default_tls_x509_cert_dir = "/etc/pki/qemu"
default_tls_x509_verify = 1
migrate_tls_x509_cert_dir = "/etc/pki/qemu"
migrate_tls_x509_verify = 1
EOF
    write_if_changed "$hd/etc/virtlogd.conf" <<EOF && CONFIG_CHANGED=1
log_outputs = "3:file:/var/log/libvirt/virtlogd.log"
EOF
    # The build this host runs (host-boot.sh reads the first word); a new
    # unpacked build or another stack restarts the host.
    write_if_changed "$hd/stack" <<EOF && CONFIG_CHANGED=1
$(host_stack "$host") $(md5sum "$LAB_STACKS_DIR/$(host_stack "$host")/versions" 2>/dev/null | cut -c1-12)
EOF
    write_if_changed "$hd/hosts" <<EOF && CONFIG_CHANGED=1
127.0.0.1 localhost
::1 localhost ip6-localhost ip6-loopback
$addr $host
$(host_addr "$peer") $peer
EOF
    return 0
}

step_network() {
    local h
    for h in $LAB_HOSTS; do
        netns_exists "$h" || ip netns add "$h"
        ip -n "$h" link set lo up
    done
    if ! ip -n lab-a link show veth-lab-a >/dev/null 2>&1 ||
        ! ip -n lab-b link show veth-lab-b >/dev/null 2>&1; then
        ip -n lab-a link del veth-lab-a 2>/dev/null || true
        ip -n lab-b link del veth-lab-b 2>/dev/null || true
        ip link add veth-lab-a netns lab-a type veth peer name veth-lab-b netns lab-b
    fi
    for h in $LAB_HOSTS; do
        lab_bridge_up "$h"
        ip -n "$h" addr replace "$(host_addr "$h")/$LAB_SUBNET_PREFIX" dev "$(host_lan_dev "$h")"
        ip -n "$h" link set "$(host_veth "$h")" up
        # A partition left by fault.sh (or a drill that died) goes too.
        ip netns exec "$h" nft delete table inet nova_lab_partition 2>/dev/null || true
    done
}

# The management network (lib.sh LAB_MGMT_*): a bridge in the root
# namespace at $LAB_MGMT_ADDR and one veth pair per host into it, so that a
# service inside a host (a nova-compute) reaches the controller's API,
# database and message bus the way a hypervisor reaches them over its
# management LAN.  Kept apart from the hosts' own link.  Idempotent: a
# pair whose host end is gone (a new namespace) is made again.  Servers of
# the root namespace that listen on 127.0.0.1 only are not reached at this
# address by themselves; the multi-host test relays them there with socat
# (doc/source/admin/deployment.rst).  teardown.sh removes it
# (mgmt_link_down).
step_mgmt_link() {
    local h veth
    ip link show "$LAB_MGMT_BRIDGE" >/dev/null 2>&1 ||
        ip link add "$LAB_MGMT_BRIDGE" type bridge
    ip addr replace "$LAB_MGMT_ADDR/$LAB_MGMT_PREFIX" dev "$LAB_MGMT_BRIDGE"
    ip link set "$LAB_MGMT_BRIDGE" up
    # The hosts' own link (198.18.0.0/24) exists only inside their
    # namespaces: from the root namespace it would follow the default route
    # off the machine (a compute service outside the hosts looking for the
    # destination's libvirtd got an answer from whatever is out there).
    # Refused here at once instead.
    ip route replace unreachable "$LAB_LINK_NET" 2>/dev/null ||
        warn "could not add an unreachable route for $LAB_LINK_NET"
    for h in $LAB_HOSTS; do
        veth=$(host_mgmt_veth "$h")
        if ! ip -n "$h" link show "$LAB_MGMT_IFACE" >/dev/null 2>&1 ||
            ! ip link show "$veth" >/dev/null 2>&1; then
            ip link del "$veth" 2>/dev/null || true
            ip -n "$h" link del "$LAB_MGMT_IFACE" 2>/dev/null || true
            ip link add "$veth" type veth peer name "$LAB_MGMT_IFACE" netns "$h"
        fi
        ip link set "$veth" master "$LAB_MGMT_BRIDGE" up
        ip -n "$h" addr replace "$(host_mgmt_addr "$h")/$LAB_MGMT_PREFIX" dev "$LAB_MGMT_IFACE"
        ip -n "$h" link set "$LAB_MGMT_IFACE" up
    done
    log "management network: $LAB_MGMT_BRIDGE $LAB_MGMT_ADDR/$LAB_MGMT_PREFIX;" \
        "$(for h in $LAB_HOSTS; do printf '%s %s ' "$h" "$(host_mgmt_addr "$h")"; done)"
}

# ---- Shared storage without the kernel's NFS (issue 15) --------------------
# The machine's kernel has no NFS client or server (tools/lab/README.rst,
# "Shared storage"), so the export is served in user space by nfs-ganesha
# (VFS FSAL, NFSv3, rpcbind for the MOUNT port) on the management address,
# and QEMU opens the guests' images itself over NFS through libnfs
# (qemu-block-extra's block-nfs module): libvirt <disk type='network'>
# <source protocol='nfs'>, which libvirt counts as shared storage, so a
# plain live migration leaves the disk where it is.  Both hosts reach
# 198.19.0.1 over the management network.  Pid files under nfs/run;
# teardown.sh stops both (shared_storage_stop in lib.sh).
step_shared_storage() {
    local conf="$LAB_NFS_DIR/ganesha.conf" tmp pid
    mkdir -p "$LAB_NFS_EXPORT" "$LAB_NFS_DIR/run"
    tmp=$(mktemp "$conf.XXXXXX")
    cat >"$tmp" <<EOF
# nova lab: NFSv3 export for guests' disks over libnfs (setup.sh step_shared_storage)
NFS_CORE_PARAM {
    Bind_addr = $LAB_MGMT_ADDR;
    Protocols = 3;
    NFS_Port = 2049;
    MNT_Port = 20048;
    NLM_Port = 32803;
    Enable_RQUOTA = false;
}
NFSV4 { Graceless = true; }
EXPORT {
    Export_Id = 1;
    Path = $LAB_NFS_EXPORT;
    Pseudo = $LAB_NFS_EXPORT;
    Protocols = 3;
    Transports = TCP;
    Access_Type = RW;
    Squash = No_Root_Squash;
    SecType = sys;
    FSAL { Name = VFS; }
}
LOG { Default_Log_Level = EVENT; }
EOF
    if cmp -s "$tmp" "$conf"; then rm -f "$tmp"; else
        mv "$tmp" "$conf"
        kill_pidfile "$LAB_NFS_DIR/run/ganesha.pid" ganesha.nfsd
    fi
    if ! rpcinfo -p "$LAB_MGMT_ADDR" >/dev/null 2>&1; then
        kill_pidfile "$LAB_NFS_DIR/run/rpcbind.pid" rpcbind
        rpcbind -f -w -h "$LAB_MGMT_ADDR" </dev/null >>"$LAB_NFS_DIR/rpcbind.log" 2>&1 &
        echo $! >"$LAB_NFS_DIR/run/rpcbind.pid"
        for _ in $(seq 50); do rpcinfo -p "$LAB_MGMT_ADDR" >/dev/null 2>&1 && break; sleep 0.1; done
    fi
    pid=$(pid_from_file "$LAB_NFS_DIR/run/ganesha.pid")
    if ! pid_matches "$pid" ganesha.nfsd ||
        ! rpcinfo -p "$LAB_MGMT_ADDR" 2>/dev/null | grep -q ' 2049 *nfs'; then
        kill_pidfile "$LAB_NFS_DIR/run/ganesha.pid" ganesha.nfsd
        ganesha.nfsd -f "$conf" -L "$LAB_NFS_DIR/ganesha.log" -N NIV_EVENT \
            -p "$LAB_NFS_DIR/run/ganesha.pid" </dev/null
        for _ in $(seq 100); do
            rpcinfo -p "$LAB_MGMT_ADDR" 2>/dev/null | grep -q ' 2049 *nfs' && break
            sleep 0.1
        done
    fi
    # The export answers through libnfs, as QEMU will use it.
    qemu-img create -q -f qcow2 "nfs://$LAB_MGMT_ADDR$LAB_NFS_EXPORT/.probe.qcow2" 1M \
        >/dev/null 2>"$LAB_NFS_DIR/probe.err" ||
        { tail -5 "$LAB_NFS_DIR/ganesha.log" >&2; cat "$LAB_NFS_DIR/probe.err" >&2
          die "the NFS export nfs://$LAB_MGMT_ADDR$LAB_NFS_EXPORT does not answer"; }
    # Kept: a file removed behind ganesha's back stays in its cache, and the
    # next CREATE of that name fails with NFS3ERR_STALE.
    log "shared storage: nfs://$LAB_MGMT_ADDR$LAB_NFS_EXPORT (nfs-ganesha, NFSv3)"
}

# ---- The guests' network (issue 15) ---------------------------------------
# Each host has a Linux bridge (host_lan_dev, br-lab) whose port is the
# host's end of the lab link (the veth pair), and the host's lab address
# (198.18.0.x) lives on the bridge: guests attached to it (libvirt
# <interface type='bridge'>, the driver's [libvirt] guest_bridge) share one
# L2 segment with both hosts, wherever they run.  A guest takes its address
# from its metadata (net_ip=, on its kernel command line; the lab keeps
# LAB_GUEST_ADDR_FIRST.. of the subnet for guests) and answers ping and an
# echo on udp/tcp port 7; lab-a's own stack is the client (NOVA_LAB_CLIENT_NETNS).
# After a migration QEMU announces the guest (RARP from the destination),
# and the bridges learn its new port.  fault.sh works as before: link-down
# takes the bridge's port down (the guests' segment is cut with the hosts'
# link), a partition drops the hosts' own addresses only.

# build_echod: the guest's echo service (guest/echo.c), static.
build_echod() {
    build_static echod "$LAB_TOOLS/guest/echo.c"
}

# lab_bridge_up HOST: the bridge, the veth as its port, no address left on
# the veth (an older lab had it there).  Idempotent.
lab_bridge_up() {
    local h=$1 br veth
    br=$(host_lan_dev "$h")
    veth=$(host_veth "$h")
    if ! ip -n "$h" link show "$br" >/dev/null 2>&1; then
        ip -n "$h" link add "$br" type bridge stp_state 0 forward_delay 0
    fi
    ip -n "$h" link set "$veth" master "$br"
    ip -n "$h" addr del "$(host_addr "$h")/$LAB_SUBNET_PREFIX" dev "$veth" 2>/dev/null || true
    ip -n "$h" link set "$br" up
}

# lab_network_env: the guests' network in lab.env.
lab_network_env() {
    echo "NOVA_LAB_BRIDGE=$(host_lan_dev lab-a)"
    echo "NOVA_LAB_GUEST_PREFIX=$LAB_SUBNET_PREFIX"
    echo "NOVA_LAB_GUEST_ADDR_FIRST=$LAB_GUEST_ADDR_FIRST"
    echo "NOVA_LAB_CLIENT_NETNS=lab-a"
}
# ---- end of the guests' network -------------------------------------------

show_host_logs() {
    local host=$1 hd
    hd=$(host_dir "$host")
    echo "---- $hd/boot.log (tail) ----" >&2
    tail -n 30 "$hd/boot.log" >&2 2>/dev/null || true
    echo "---- $hd/log/libvirtd.log (tail) ----" >&2
    tail -n 40 "$hd/log/libvirtd.log" >&2 2>/dev/null || true
    echo "---- $hd/log/virtlogd.log (tail) ----" >&2
    tail -n 10 "$hd/log/virtlogd.log" >&2 2>/dev/null || true
}

# launch_host HOST: start the host's namespaces and daemons in the background.
launch_host() {
    local host=$1 hd
    hd=$(host_dir "$host")
    log "$host: starting virtlogd + libvirtd in netns $host"
    find "$hd/run" -mindepth 1 -delete 2>/dev/null || true
    (
        # Do not leak our stdio/pipes into the long-lived daemons.
        for fd in /proc/"$BASHPID"/fd/*; do
            fd=${fd##*/}
            case "$fd" in 0|1|2) ;; *) eval "exec $fd>&-" 2>/dev/null || true ;; esac
        done
        exec setsid ip netns exec "$host" \
            unshare --uts --mount --propagation private --fork -- \
            bash "$LAB_TOOLS/host-boot.sh" "$host"
    ) </dev/null >>"$hd/boot.log" 2>&1 &
}

# wait_host HOST T0: wait until libvirtd answers (first start probes QEMU
# capabilities, several seconds under load).
wait_host() {
    local host=$1 t0=$2 i=0 tmo=${NOVA_LAB_START_TIMEOUT:-60}
    until host_daemon_ok "$host"; do
        i=$((i + 1))
        if [ "$i" -gt $((tmo * 2)) ]; then
            show_host_logs "$host"
            die "$host: libvirtd did not answer on $(host_sock "$host") within $tmo s"
        fi
        sleep 0.5
    done
    log "$host: up after $(elapsed "$t0") s (hostname $(lab_virsh "$host" hostname 2>/dev/null))"
}

# host_needs_start HOST: writes the config; true when the host must be
# (re)started (down, unhealthy, or its configuration changed).
host_needs_start() {
    local h=$1
    host_config "$h"
    if host_daemon_ok "$h"; then
        if [ "$CONFIG_CHANGED" = 1 ]; then
            log "$h: configuration changed; restarting (its domains are destroyed)"
            return 0
        fi
        log "$h: already running"
        return 1
    fi
    # Only libvirtd died (a crash, or a fault drill): start it again in
    # place; its guests keep running and it reconnects to them.
    if [ "$CONFIG_CHANGED" = 0 ] && host_keeper_ok "$h" && ! libvirtd_running "$h"; then
        log "$h: libvirtd is down; starting it again inside the running host"
        if start_libvirtd "$h"; then
            return 1
        fi
        warn "$h: could not restart libvirtd in place; restarting the host"
    fi
    return 0
}

# seed_caps FROM TO: libvirtd probes QEMU's capabilities at its first start
# (several seconds); both hosts run the same binaries on the same kernel,
# so the second host can start from the first one's cache.
seed_caps() {
    local from to
    from=$(host_dir "$1")/cache/qemu/capabilities
    to=$(host_dir "$2")/cache/qemu/capabilities
    [ "$(host_stack "$1")" = "$(host_stack "$2")" ] || return 0
    if [ -d "$from" ] && ! ls "$to"/*.xml >/dev/null 2>&1; then
        mkdir -p "$to"
        cp -p "$from"/*.xml "$to"/ 2>/dev/null || true
    fi
}

step_hosts_prepare() {
    local h
    for h in /run/libvirt /var/lib/libvirt /etc/libvirt /var/log/libvirt /var/cache/libvirt; do
        mkdir -p "$h"
    done
    [ -e /etc/hosts ] || touch /etc/hosts
    mkdir -p "$LAB_SHARED_DIR"
    chmod 755 "$LAB_SHARED_DIR"
    START_A=0
    START_B=0
    T_HOSTS=$(now_s)
    if host_needs_start lab-a; then
        START_A=1
        stop_host lab-a
        launch_host lab-a
    fi
    host_needs_start lab-b && START_B=1
    return 0
}

step_hosts_finish() {
    if [ "$START_A" = 1 ]; then wait_host lab-a "$T_HOSTS"; fi
    if [ "$START_B" = 1 ]; then
        stop_host lab-b
        seed_caps lab-a lab-b
        launch_host lab-b
        wait_host lab-b "$T_HOSTS"
    fi
    # The hosts must see each other over the veth pair.
    if ! ip netns exec lab-a timeout 10 virsh -q -c "$(host_peer_uri lab-b)" hostname >/dev/null 2>&1; then
        show_host_logs lab-b
        die "lab-a cannot reach lab-b's libvirtd at $(host_peer_uri lab-b)"
    fi
    if ! ip netns exec lab-b timeout 10 virsh -q -c "$(host_peer_uri lab-a)" hostname >/dev/null 2>&1; then
        show_host_logs lab-a
        die "lab-b cannot reach lab-a's libvirtd at $(host_peer_uri lab-a)"
    fi
    # ... and over TLS (port 16514, each side's lab certificates).
    tls_peer_check lab-a lab-b || die "lab-a cannot reach lab-b's libvirtd over TLS (port 16514)"
    tls_peer_check lab-b lab-a || die "lab-b cannot reach lab-a's libvirtd over TLS (port 16514)"
}

write_env() {
    local h L tmp
    tmp=$(mktemp "$LAB_ENV_FILE.XXXXXX")
    {
        echo "# nova two-host libvirt lab, generated by tools/lab/setup.sh $(date -u +%FT%TZ)"
        echo "# Plain KEY=value lines: source it from sh, or split on the first '=' in Python."
        echo "NOVA_LAB_DIR=$LAB_DIR"
        echo "NOVA_LAB_VIRT_TYPE=$VIRT_TYPE"
        echo "NOVA_LAB_KERNEL=$LAB_KERNEL"
        echo "NOVA_LAB_INITRD=$LAB_INITRD"
        echo "NOVA_LAB_KERNEL_PKG=$(cut -d' ' -f1 "$LAB_KERNEL.pkg")"
        echo "NOVA_LAB_EMULATOR=$QEMU_BIN"
        echo "NOVA_LAB_SHARED_DIR=$LAB_SHARED_DIR"
        echo "NOVA_LAB_HOSTS=lab-a,lab-b"
        echo "NOVA_LAB_STACK=$STACK_NAME"
        echo "NOVA_LAB_MACHINE_TYPE=$MACHINE_TYPE"
        lab_network_env
        echo "NOVA_LAB_MGMT_ADDR=$LAB_MGMT_ADDR"
        echo "NOVA_LAB_NFS_HOST=$LAB_MGMT_ADDR"
        echo "NOVA_LAB_NFS_EXPORT=$LAB_NFS_EXPORT"
        for h in $LAB_HOSTS; do
            L=$(host_letter "$h")
            echo "NOVA_LAB_${L}_HOSTNAME=$h"
            echo "NOVA_LAB_${L}_ADDR=$(host_addr "$h")"
            echo "NOVA_LAB_${L}_URI=$(host_uri "$h")"
            echo "NOVA_LAB_${L}_PEER_URI=$(host_peer_uri "$h")"
            echo "NOVA_LAB_${L}_MIGRATE_URI=tcp://$(host_addr "$h")"
            echo "NOVA_LAB_${L}_NETNS=$(host_netns "$h")"
            echo "NOVA_LAB_${L}_MGMT_ADDR=$(host_mgmt_addr "$h")"
            echo "NOVA_LAB_${L}_HOST_UUID=$(host_uuid "$h")"
            echo "NOVA_LAB_${L}_CONSOLE_DIR=$(host_console_dir "$h")"
            echo "NOVA_LAB_${L}_LOG_DIR=$(host_log_dir "$h")"
            echo "NOVA_LAB_${L}_STATE_DIR=$(host_dir "$h")"
            echo "NOVA_LAB_${L}_KEEPER_PIDFILE=$(host_run_dir "$h")/keeper.pid"
            echo "NOVA_LAB_${L}_PKI_DIR=$(host_dir "$h")/pki"
            echo "NOVA_LAB_${L}_PEER_TLS_URI=qemu+tls://$(host_addr "$h")/system"
            echo "NOVA_LAB_${L}_MIGRATION_PORTS=$(host_mig_ports "$h" | tr ' ' -)"
            echo "NOVA_LAB_${L}_BUILD=$(host_stack "$h")"
            # shellcheck disable=SC2046
            set -- $(daemon_versions "$h")
            echo "NOVA_LAB_${L}_LIBVIRT_VERSION=${1:-}"
            echo "NOVA_LAB_${L}_QEMU_VERSION=${2:-}"
        done
    } >"$tmp"
    chmod 644 "$tmp"
    mv "$tmp" "$LAB_ENV_FILE"
}

mkdir -p "$LAB_DIR"
T=$(now_s); step_packages; log "step packages: $(elapsed "$T") s"
step_users
T=$(now_s); lab_make_tls_certs; log "step tls: $(elapsed "$T") s"
T=$(now_s); step_stack; step_machine_type; log "step stack: $(elapsed "$T") s"
T=$(now_s); step_guest; log "step guest: $(elapsed "$T") s"
# lab-a's libvirtd starts (and probes QEMU) while the KVM/TCG probe runs.
T=$(now_s); step_network; step_mgmt_link; step_shared_storage; step_hosts_prepare
step_virt_type
step_hosts_finish; log "step virt type + hosts: $(elapsed "$T") s"
write_env
echo "$VIRT_TYPE" >"$LAB_DIR/virt_type"
log "lab ready in $(elapsed "$T_SETUP") s: virt type $VIRT_TYPE, stack $STACK_NAME" \
    "(lab-a: libvirt/QEMU $(daemon_versions lab-a | tr ' ' /), lab-b: $(daemon_versions lab-b | tr ' ' /));" \
    "env in $LAB_ENV_FILE"
