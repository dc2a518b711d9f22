# A demo VM: the patched QEMU (built from qemu-patch/ exactly as `make demo` builds it) booting tmc's tiny test guest.
# Build context: the repository root.  docker build -f docker/vm.Dockerfile -t tmc-vm .

FROM debian:bookworm AS build
ENV DEBIAN_FRONTEND=noninteractive TMC_CACHE=/cache
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
        ca-certificates git make gcc python3 python3-venv cpio xz-utils dpkg-dev busybox-static \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY qemu-patch/build.sh qemu-patch/build.sh
COPY qemu-patch/patches qemu-patch/patches
COPY scripts/build-guest.sh scripts/build-guest.sh
COPY scripts/lib/guest.sh scripts/lib/guest.sh
# build.sh installs the remaining build dependencies and fetches Debian 13's QEMU source itself.
RUN qemu-patch/build.sh | tail -1 > /qemu-path \
    && mkdir -p /opt/tmc && cp -r "$(dirname "$(dirname "$(cat /qemu-path)")")" /opt/tmc/qemu
RUN cp -r "$(scripts/build-guest.sh | tail -1)" /opt/tmc/guest

FROM debian:bookworm-slim
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
        libglib2.0-0 libpixman-1-0 libfdt1 zlib1g libnettle8 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/tmc /opt/tmc
# The binary's firmware path points into the build cache; -L points at the copy.
COPY docker/vm-entrypoint.sh /usr/local/bin/tmc-vm
# QEMU under TCG needs no privilege. The user tmc (uid 10001, as in the gateway image) owns the socket directory, so
# the gateway, running as the same unprivileged user, can connect and nobody else can.
RUN groupadd --system --gid 10001 tmc && useradd --system --uid 10001 --gid tmc --home /run/tmc/vm tmc \
    && mkdir -p /run/tmc/vm && chown tmc:tmc /run/tmc/vm && chmod 700 /run/tmc/vm
USER tmc
# No port: VNC is a unix socket in the volume.
VOLUME ["/run/tmc/vm"]
ENTRYPOINT ["/usr/local/bin/tmc-vm"]
