# Portcullis container image.
#
#   docker build -t portcullis .
#   docker run -p 9999:9999 -v portcullis-data:/app/data portcullis
#
# Stage "build" runs the Maven command scripts/run uses (mvn -B -q -DskipTests package) on pom.xml, conf/ and
# src/ and produces target/portcullis.jar; the runtime stage is a JRE that runs exactly that jar as the non-root
# uid 10001. Tools run in the container too: docker exec <container> java -jar /app/portcullis.jar service-key
# Configuration comes only from PORTCULLIS_* environment variables and mounted files: PORTCULLIS_CONFIG names a
# mounted JSON configuration file (or mount one at /app/conf/config.json), PORTCULLIS_MAILER_TEMPLATES_DIR a
# mounted templates directory; without them the built-in defaults (conf/config.json, conf/templates) apply.
# Without PORTCULLIS_DB_URL the embedded PostgreSQL keeps its data in the volume /app/data.
# scripts/check-container checks these claims on a machine without a Docker engine.

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY conf conf
COPY src src
RUN mvn -B -q -DskipTests package
# Unpack the embedded PostgreSQL binaries at build time, by running the jar's own embedded database once (initdb
# and migrations) as a non-root user, since PostgreSQL refuses to run as root. The runtime stage copies the
# unpacked binaries (root-owned, and zonky's world-writable directory made read-only), so containers start
# without unpacking ~60 MB; this also proves at build time that the embedded default works for a non-root user.
RUN useradd --system --user-group --no-create-home pgunpack \
  && install -d -o pgunpack /opt/embedded-pg /tmp/unpack-data \
  && runuser -u pgunpack -- env PATH="$PATH" PORTCULLIS_DATA_DIR=/tmp/unpack-data \
    java -Dot.epg.working-dir=/opt/embedded-pg -jar target/portcullis.jar migrate \
  && rm -rf /tmp/unpack-data \
  && chmod -R go-w /opt/embedded-pg

FROM eclipse-temurin:17-jre
# The service user (uid 10001, no login, no home); it owns nothing but the data directory.
RUN groupadd --system --gid 10001 portcullis \
  && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin portcullis \
  && install -d -o 10001 -g 10001 -m 0750 /app/data
WORKDIR /app
COPY --from=build /src/target/portcullis.jar /app/portcullis.jar
COPY --from=build /opt/embedded-pg /opt/embedded-pg
ENV PORTCULLIS_DATA_DIR=/app/data
VOLUME ["/app/data"]
USER 10001:10001
EXPOSE 9999
STOPSIGNAL SIGTERM
# No curl in the image: bash's /dev/tcp asks GET /health; PORTCULLIS_HTTP_PORT is followed when set.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 CMD bash -c 'exec 3<>/dev/tcp/127.0.0.1/"${PORTCULLIS_HTTP_PORT:-9999}" && printf "GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3 && read -r _ status _ <&3 && [ "$status" = 200 ]'
# JVM options: JDK_JAVA_OPTIONS (read by the java launcher), e.g. -e JDK_JAVA_OPTIONS=-XX:MaxRAMPercentage=50
ENTRYPOINT ["java", "-Dot.epg.working-dir=/opt/embedded-pg", "-jar", "/app/portcullis.jar"]
CMD ["serve"]
