# The tmc gateway (Jetty, Java 25 runtime at language level 21) with the web pages (noVNC from npm at build time).
# Build context: the repository root.  docker build -f docker/gateway.Dockerfile -t tmc-gateway .

FROM maven:3.9-eclipse-temurin-25 AS build
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN mvn -B -ntp -DskipTests -pl gateway -am package

FROM eclipse-temurin:25-jre
# The renderer draws with Noto (CJK included) and DejaVu.
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        fonts-noto-cjk fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/gateway/target/tmc-gateway.jar /opt/tmc/tmc-gateway.jar
COPY --from=build /src/gateway/target/lib /opt/tmc/lib
# Never root: the user tmc (uid 10001, the same as in the VM image, which owns the VMs' sockets).
RUN groupadd --system --gid 10001 tmc && useradd --system --uid 10001 --gid tmc --home /var/lib/tmc tmc \
    && mkdir -p /var/lib/tmc /run/tmc/demo-1 /run/tmc/demo-2 && chown tmc:tmc /var/lib/tmc /run/tmc/demo-1 /run/tmc/demo-2
USER 10001:10001
EXPOSE 8080
VOLUME ["/var/lib/tmc"]
ENTRYPOINT ["java", "-jar", "/opt/tmc/tmc-gateway.jar", "--config", "/etc/tmc/gateway.json"]
