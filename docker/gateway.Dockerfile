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
RUN useradd --system --home /var/lib/tmc tmc && mkdir -p /var/lib/tmc && chown tmc /var/lib/tmc
USER tmc
EXPOSE 8080
VOLUME ["/var/lib/tmc"]
ENTRYPOINT ["java", "-jar", "/opt/tmc/tmc-gateway.jar", "--config", "/etc/tmc/gateway.json"]
