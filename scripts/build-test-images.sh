#!/bin/bash
# build-test-images.sh -- build kubelite's test images from Debian packages only
# (no Docker Hub: the only network input is the Debian mirror configured in apt).
#
#   busybox   <- busybox-static                     -> library/busybox:latest
#   nginx     <- nginx + nginx-common + its libs     -> library/nginx:latest
#   ubuntu    <- bash, coreutils, dash, ... + libs   -> library/ubuntu:latest
#   hello-app <- busybox-static + httpd CGI          -> google-samples/hello-app:2.0
#   etcd      <- etcd-server + libc6                 -> registry.k8s.io/etcd:3.4.23
#                (a real gRPC health server, grpc.health.v1, for grpc probes)
#
# Usage: build-test-images.sh OUTDIR
#   OUTDIR/oci        one OCI image layout, tags busybox-latest nginx-latest ubuntu-latest
#                     hello-app-2.0 etcd-3.4.23
#   OUTDIR/archives   one oci-archive per image, named after its upstream reference
#   OUTDIR/packages.lock  exact package versions used
# Environment:
#   KUBELITE_TEST_IMAGES_CACHE  .deb cache (default /var/cache/kubelite-test-images/debs)
#   IMAGES_REGISTRY=HOST:PORT   also push (Docker schema 2, plain http) to a running registry
#   SOURCE_DATE_EPOCH           every mtime and `created` is clamped to it: same .debs ->
#                               same digests
# Tools: apt-get download, dpkg-deb, tar, chroot, umoci, skopeo.
set -euo pipefail

OUT=${1:?usage: build-test-images.sh OUTDIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$OUT/build             # scratch root filesystems (removed at the end)
DEBS=${KUBELITE_TEST_IMAGES_CACHE:-/var/cache/kubelite-test-images/debs}
OCI=$OUT/oci
ARCHIVES=$OUT/archives
REG=${IMAGES_REGISTRY:-}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}   # 2023-11-14T22:13:20Z
CREATED=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
TIMINGS=$OUT/build-timings.txt

mkdir -p "$WORK" "$DEBS" "$ARCHIVES"
: >"$TIMINGS"

now() { date +%s.%N; }
log() { printf '=== %s\n' "$*" >&2; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }

# ---------------------------------------------------------------------------
# Package sets (Depends closure picked by hand from `apt-cache depends`;
# the ELF check in check_libs() proves nothing is missing).
# ---------------------------------------------------------------------------
BUSYBOX_PKGS="busybox-static"
# `nginx` (bookworm-security) carries /usr/sbin/nginx; nginx-light is now a
# transitional package.  Deps: libc6 libcrypt1 libpcre2-8-0 libssl3 zlib1g
# (+ libgcc-s1 from libc6).  iproute2/debconf dependencies are not needed.
NGINX_PKGS="nginx nginx-common libc6 libgcc-s1 libcrypt1 libpcre2-8-0 libssl3 zlib1g bash libtinfo6"
# (+ busybox-static's /bin/busybox for sh/cat/ls/wget, see the nginx section)
ETCD_PKGS="etcd-server libc6 libgcc-s1"
# ubuntu-like: bash + coreutils + the usual Essential userland, no dpkg/apt.
UBUNTU_PKGS="base-files base-passwd bash coreutils dash grep sed findutils hostname
  gzip tar mawk debianutils ncurses-base libc6 libgcc-s1 libtinfo6 libacl1 libattr1
  libgmp10 libselinux1 libpcre2-8-0"

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

# fetch PKG... : make sure $DEBS holds a .deb for each package (cache reuse).
fetch() {
  local missing=()
  for p in "$@"; do
    ls "$DEBS/${p}_"*.deb >/dev/null 2>&1 || missing+=("$p")
  done
  if ((${#missing[@]})); then
    (cd "$DEBS" && apt-get -q -o APT::Sandbox::User=root download "${missing[@]}" >&2)
  fi
}

# deb PKG : path of the cached .deb (newest version if several)
deb() { ls "$DEBS/${1}_"*.deb | sort -V | tail -n1; }

# merged_usr ROOT : Debian 12 layout -- /bin,/sbin,/lib,/lib64 are symlinks
# into /usr.  Must exist *before* extraction (tar --keep-directory-symlink).
merged_usr() {
  mkdir -p "$1"/usr/{bin,sbin,lib,lib64}
  for d in bin sbin lib lib64; do ln -sfn "usr/$d" "$1/$d"; done
}

# unpack ROOT PKG... : dpkg-deb -x equivalent that keeps the /bin -> usr/bin
# symlinks (plain `dpkg-deb -x` would replace them with real directories).
unpack() {
  local root=$1; shift
  for p in "$@"; do
    dpkg-deb --fsys-tarfile "$(deb "$p")" | tar -x --keep-directory-symlink -C "$root"
  done
}

# skeleton ROOT : directories every image has
skeleton() {
  mkdir -p "$1"/{dev,proc,sys,etc,root,run,tmp,var/tmp,var/log,home}
  chmod 1777 "$1/tmp" "$1/var/tmp"
  mkdir -p "$1/run/lock"; ln -sfn /run "$1/var/run"; ln -sfn /run/lock "$1/var/lock"
  chmod 700 "$1/root"
}

# slim ROOT : drop docs, man pages, locales, init scripts, unit files and the
# glibc iconv modules (gconv, 8 MB; only iconv(3) users need them)
slim() {
  rm -rf "$1"/usr/lib/x86_64-linux-gnu/gconv \
         "$1"/usr/share/{doc,man,info,locale,lintian,bug,vim,apport,gdb,bash-completion,menu} \
         "$1"/etc/{init.d,logrotate.d,ufw,default,cron.daily} "$1"/usr/lib/systemd "$1"/lib/systemd 2>/dev/null || true
}

# check_libs ROOT : every dynamically linked ELF must resolve inside ROOT
check_libs() {
  local root=$1 bad=0 f rel out
  [ -e "$root/lib64/ld-linux-x86-64.so.2" ] || return 0   # static-only image
  while IFS= read -r f; do
    rel=${f#"$root"}
    head -c4 "$f" | grep -q $'\x7fELF' || continue
    out=$(chroot "$root" /lib64/ld-linux-x86-64.so.2 --list "$rel" 2>&1) || true
    if grep -q 'not found' <<<"$out"; then echo "MISSING LIBS in $rel: $out" >&2; bad=1; fi
  done < <(find "$root/usr/bin" "$root/usr/sbin" -type f -perm -u+x)
  return $bad
}

# clamp ROOT : fixed mtimes -> reproducible layer tarballs
clamp() { find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} + ; }

# mkimage TAG ROOT CONFIG-ARGS... : one-layer image in the OCI layout.
# The layer tar is written by GNU tar (sorted, pax, fixed mtimes) and added verbatim:
# `umoci insert` (0.4.7) omits the tar end-of-archive blocks and the padding of the last
# file, which leaves layers that strict readers (and GNU tar) reject as truncated.
mkimage() {
  local tag=$1 root=$2; shift 2
  clamp "$root"
  umoci new --image "$OCI:$tag"
  (cd "$root" && tar --sort=name --format=pax --numeric-owner \
      --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
      --mtime="@$SOURCE_DATE_EPOCH" -cf - $(ls -A | sort)) >"$WORK/$tag.layer.tar"
  umoci raw add-layer --image "$OCI:$tag" --history.created "$CREATED" \
        --history.created_by "build-test-images.sh $tag" "$WORK/$tag.layer.tar"
  rm -f "$WORK/$tag.layer.tar"
  umoci config --image "$OCI:$tag" --created "$CREATED" --history.created "$CREATED" \
        --author "build-test-images.sh" --architecture amd64 --os linux "$@"
}

# passwd/group writers
write_users() { # ROOT  (lines for /etc/passwd on stdin are "name:uid:gid:home:shell")
  local root=$1
  : >"$root/etc/passwd"; : >"$root/etc/group"
  while IFS=: read -r n u g h s; do
    echo "$n:x:$u:$g:$n:$h:$s" >>"$root/etc/passwd"
    echo "$n:x:$g:" >>"$root/etc/group"
  done
}

# ---------------------------------------------------------------------------
# 0. download every .deb we need (the only network access)
# ---------------------------------------------------------------------------
T0=$(now)
log "fetch .debs into $DEBS"
fetch $BUSYBOX_PKGS $NGINX_PKGS $UBUNTU_PKGS $ETCD_PKGS
# record exact versions used (reproducibility "lock file")
for f in $(for p in $BUSYBOX_PKGS $NGINX_PKGS $UBUNTU_PKGS $ETCD_PKGS; do deb "$p"; done | sort -u); do dpkg-deb -W --showformat='${Package}=${Version}\n' "$f"; done | sort >"$OUT/packages.lock"
echo "fetch $(elapsed "$T0")" >>"$TIMINGS"

rm -rf "$OCI" && umoci init --layout "$OCI"

# ---------------------------------------------------------------------------
# 1. busybox  (like docker.io/library/busybox: /bin/<applet> hardlinks, CMD sh)
# ---------------------------------------------------------------------------
build_busybox_rootfs() { # ROOT
  local r=$1 a
  rm -rf "$r"; mkdir -p "$r"
  skeleton "$r"
  mkdir -p "$r"/{bin,usr/sbin,var/www,var/spool/mail}
  # only the static binary is taken from the .deb (no docs, no udhcpc scripts)
  rm -rf "$WORK/tmp-bb"; mkdir -p "$WORK/tmp-bb"
  dpkg-deb --fsys-tarfile "$(deb busybox-static)" | tar -x -C "$WORK/tmp-bb" ./bin/busybox
  install -m 0755 "$WORK/tmp-bb/bin/busybox" "$r/bin/busybox"
  # every applet as a hard link in /bin, exactly like the official image
  for a in $("$r/bin/busybox" --list); do
    [ "$a" = busybox ] || ln -f "$r/bin/busybox" "$r/bin/$a"
  done
  # users of the official busybox image
  write_users "$r" <<'EOF'
root:0:0:/root:/bin/sh
daemon:1:1:/usr/sbin:/bin/false
bin:2:2:/bin:/bin/false
sys:3:3:/dev:/bin/false
sync:4:100:/bin:/bin/sync
mail:8:8:/var/spool/mail:/bin/false
www-data:33:33:/var/www:/bin/false
operator:37:37:/var:/bin/false
nobody:65534:65534:/home:/bin/false
EOF
  echo 'users:x:100:' >>"$r/etc/group"
}

T=$(now); log busybox
build_busybox_rootfs "$WORK/busybox"
chroot "$WORK/busybox" /bin/sh -c 'echo busybox-ok; sleep 0; true' >/dev/null
mkimage busybox-latest "$WORK/busybox" \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.cmd sh
echo "busybox $(elapsed "$T")" >>"$TIMINGS"

# ---------------------------------------------------------------------------
# 2. nginx  (like docker.io/library/nginx: nginx -g 'daemon off;', port 80,
#    root /usr/share/nginx/html, logs to stdout/stderr, user nginx uid 101)
# ---------------------------------------------------------------------------
T=$(now); log nginx
R=$WORK/nginx; rm -rf "$R"; mkdir -p "$R"
merged_usr "$R"; skeleton "$R"
unpack "$R" $NGINX_PKGS
slim "$R"
# The official image is Debian-based and has /bin/sh, cat, ls ...; tests and
# exec probes rely on that.  Add busybox-static (+1 MB) and link every applet
# that Debian packages did not already provide.
dpkg-deb --fsys-tarfile "$(deb busybox-static)" | tar -x -C "$R" ./bin/busybox  # lands in usr/bin
for a in $(chroot "$R" /bin/busybox --list); do
  [ -e "$R/usr/bin/$a" ] || [ -e "$R/usr/sbin/$a" ] || ln -s busybox "$R/usr/bin/$a"
done
rm -rf "$R"/etc/nginx/{sites-available,sites-enabled,modules-available,modules-enabled,snippets}
mkdir -p "$R"/var/log/nginx "$R"/var/lib/nginx "$R"/var/cache/nginx "$R"/etc/nginx/conf.d
ln -sf /dev/stdout "$R/var/log/nginx/access.log"
ln -sf /dev/stderr "$R/var/log/nginx/error.log"
write_users "$R" <<'EOF'
root:0:0:/root:/bin/sh
nginx:101:101:/nonexistent:/bin/false
nobody:65534:65534:/nonexistent:/usr/sbin/nologin
EOF
# main config = the official image's /etc/nginx/nginx.conf
cat >"$R/etc/nginx/nginx.conf" <<'EOF'
user  nginx;
worker_processes  auto;
error_log  /var/log/nginx/error.log notice;
pid        /var/run/nginx.pid;
events {
    worker_connections  1024;
}
http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;
    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';
    access_log  /var/log/nginx/access.log  main;
    sendfile        on;
    keepalive_timeout  65;
    include /etc/nginx/conf.d/*.conf;
}
EOF
# default server = the official image's conf.d/default.conf
cat >"$R/etc/nginx/conf.d/default.conf" <<'EOF'
server {
    listen       80;
    listen  [::]:80;
    server_name  localhost;
    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }
    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
EOF
cat >"$R/usr/share/nginx/html/50x.html" <<'EOF'
<!DOCTYPE html>
<html><head><title>Error</title></head>
<body><h1>An error occurred.</h1></body></html>
EOF
check_libs "$R"
chroot "$R" /usr/sbin/nginx -t >/dev/null 2>&1 || { chroot "$R" /usr/sbin/nginx -t; exit 1; }
mkimage nginx-latest "$R" \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.env NGINX_VERSION=1.22.1 \
  --config.exposedports 80/tcp \
  --config.stopsignal SIGQUIT \
  --config.cmd nginx --config.cmd -g --config.cmd 'daemon off;'
echo "nginx $(elapsed "$T")" >>"$TIMINGS"

# ---------------------------------------------------------------------------
# 3. ubuntu-like shell image (bash, coreutils, date, hostname, grep, sed ...)
# ---------------------------------------------------------------------------
T=$(now); log ubuntu
R=$WORK/ubuntu; rm -rf "$R"; mkdir -p "$R"
  merged_usr "$R"; skeleton "$R"
  unpack "$R" $UBUNTU_PKGS
  # Debian's canonical static users/groups from base-passwd, minus its tools
  cp "$R/usr/share/base-passwd/passwd.master" "$R/etc/passwd"
  cp "$R/usr/share/base-passwd/group.master" "$R/etc/group"
  rm -rf "$R"/usr/sbin/update-passwd "$R"/usr/share/base-passwd
  ln -sf dash "$R/usr/bin/sh"            # /bin/sh -> dash (dash postinst)
  ln -sf mawk "$R/usr/bin/awk"           # alternatives normally done by dpkg
  cp "$R/usr/share/base-files/dot.bashrc" "$R/root/.bashrc" 2>/dev/null || true
  cp "$R/usr/share/base-files/dot.profile" "$R/root/.profile" 2>/dev/null || true
  slim "$R"
check_libs "$R"
chroot "$R" /bin/bash -c 'date >/dev/null && hostname >/dev/null && echo ok | grep -q ok && sleep 0'
mkimage ubuntu-latest "$R" \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.cmd /bin/bash
echo "ubuntu $(elapsed "$T")" >>"$TIMINGS"

# ---------------------------------------------------------------------------
# 4. hello-app:2.0 lookalike (gcr.io/google-samples/hello-app:2.0):
#    HTTP on $PORT (8080) answering
#      Hello, world!\nVersion: 2.0.0\nHostname: <hostname>\n
#    busybox httpd in foreground; "/" falls back to /cgi-bin/index.cgi because
#    there is no index.html; /cgi-bin/hello is the same script.
# ---------------------------------------------------------------------------
T=$(now); log hello-app
R=$WORK/hello-app
build_busybox_rootfs "$R"
mkdir -p "$R/www/cgi-bin"
cat >"$R/www/cgi-bin/index.cgi" <<'EOF'
#!/bin/sh
# CGI: same body as hello-app 2.0 (Go) -- log line goes to the container log
echo "Serving request: ${REQUEST_URI:-/}" >&2
printf 'Content-Type: text/plain; charset=utf-8\r\n\r\n'
printf 'Hello, world!\nVersion: 2.0.0\nHostname: %s\n' "$(hostname)"
EOF
chmod 0755 "$R/www/cgi-bin/index.cgi"
ln -sf index.cgi "$R/www/cgi-bin/hello"
cat >"$R/hello-app" <<'EOF'
#!/bin/sh
# entrypoint: like the Go binary, listen on $PORT (default 8080), log to stderr
PORT=${PORT:-8080}
echo "Server listening on port $PORT" >&2
exec httpd -f -v -p "$PORT" -h /www
EOF
chmod 0755 "$R/hello-app"
(cd "$R/www" && REQUEST_URI=/ chroot "$R" /www/cgi-bin/index.cgi 2>/dev/null | grep -q 'Version: 2.0.0')
mkimage hello-app-2.0 "$R" \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.env PORT=8080 \
  --config.exposedports 8080/tcp \
  --config.cmd /hello-app
echo "hello-app $(elapsed "$T")" >>"$TIMINGS"

# ---------------------------------------------------------------------------
# 4b. etcd (like registry.k8s.io/etcd: /usr/local/bin/etcd, no shell). Its client
#     port serves grpc.health.v1.Health (service "" SERVING): the grpc probe fixture,
#     as in the Kubernetes documentation's grpc liveness example.
# ---------------------------------------------------------------------------
T=$(now); log etcd
R=$WORK/etcd; rm -rf "$R"; mkdir -p "$R"
merged_usr "$R"; skeleton "$R"
unpack "$R" libc6 libgcc-s1
mkdir -p "$R/usr/local/bin" "$R/var/lib/etcd"
dpkg-deb --fsys-tarfile "$(deb etcd-server)" | tar -x -C "$WORK" ./usr/bin/etcd
install -m 0755 "$WORK/usr/bin/etcd" "$R/usr/local/bin/etcd"
rm -rf "$WORK/usr"
rm -rf "$R"/usr/bin/* "$R"/usr/sbin/* "$R"/usr/libexec
slim "$R"
chroot "$R" /usr/local/bin/etcd --version >/dev/null
mkimage etcd-3.4.23 "$R" \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.exposedports 2379/tcp --config.exposedports 2380/tcp \
  --config.cmd /usr/local/bin/etcd
echo "etcd $(elapsed "$T")" >>"$TIMINGS"

umoci gc --layout "$OCI"

# ---------------------------------------------------------------------------
# 5. OCI archives (skopeo oci-archive:, named like the upstream reference)
# ---------------------------------------------------------------------------
T=$(now); log "oci-archive tarballs -> $ARCHIVES"
declare -A REF=(
  [busybox-latest]=docker.io/library/busybox:latest
  [nginx-latest]=docker.io/library/nginx:latest
  [ubuntu-latest]=docker.io/library/ubuntu:latest
  [hello-app-2.0]=gcr.io/google-samples/hello-app:2.0
  [etcd-3.4.23]=registry.k8s.io/etcd:3.4.23
)
declare -A REPO=(
  [busybox-latest]=library/busybox:latest
  [nginx-latest]=library/nginx:latest
  [ubuntu-latest]=library/ubuntu:latest
  [hello-app-2.0]=google-samples/hello-app:2.0
  [etcd-3.4.23]=etcd:3.4.23
)
for t in busybox-latest nginx-latest ubuntu-latest hello-app-2.0 etcd-3.4.23; do
  rm -f "$ARCHIVES/$t.tar"
  skopeo copy -q "oci:$OCI:$t" "oci-archive:$ARCHIVES/$t.tar:${REF[$t]}"
done
echo "archives $(elapsed "$T")" >>"$TIMINGS"

# ---------------------------------------------------------------------------
# 6. push to a running registry (plain http), if asked
# ---------------------------------------------------------------------------
if [ -n "$REG" ]; then
  T=$(now); log "push to $REG"
  for t in busybox-latest nginx-latest ubuntu-latest hello-app-2.0 etcd-3.4.23; do
    # Docker schema 2 manifests, like a single-arch pull from Docker Hub
    skopeo copy -q --dest-tls-verify=false --format v2s2 \
      "oci:$OCI:$t" "docker://$REG/${REPO[$t]}"
  done
  echo "push $(elapsed "$T")" >>"$TIMINGS"
fi
rm -rf "$WORK"
echo "total $(elapsed "$T0")" >>"$TIMINGS"
cat "$TIMINGS" >&2
