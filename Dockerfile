# Portcullis container image.
#
#   docker build -t portcullis .
#   docker run -p 9999:9999 -v portcullis-data:/app/data portcullis
#
# Stage "build" runs the Maven command scripts/run uses (mvn -B -q -DskipTests package) on pom.xml, conf/ and
# src/ and produces target/portcullis.jar; the runtime stage is a JRE that runs that jar, less the embedded
# PostgreSQL archives it ships unpacked, as the non-root uid 10001. Tools run in the container too:
#   TOKEN=$(docker exec <container> java -jar /app/portcullis.jar service-key)
# Configuration comes only from PORTCULLIS_* environment variables and mounted files: PORTCULLIS_CONFIG names a
# mounted JSON configuration file (or mount one at /app/conf/config.json), PORTCULLIS_MAILER_TEMPLATES_DIR a
# mounted templates directory; without them the built-in defaults (conf/config.json, conf/templates) apply.
# Without PORTCULLIS_DB_URL the embedded PostgreSQL keeps its data in the volume /app/data.
# scripts/check-container builds the image and checks these claims with a Docker engine (and without one, on an
# emulation of the image, where no engine can run).

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
# Maven's downloads in a layer of their own, redone only when pom.xml changes: the package lifecycle on the pom
# alone fetches every plugin the build runs (dependency:go-offline misses some), so the build below downloads
# nothing. The build step that lists the migrations' checksums has no class to run yet: skipped here (the plugin
# is still fetched).
RUN mvn -B -q -DskipTests -Dexec.skip=true package && rm -rf target
COPY conf conf
COPY src src
RUN mvn -B -q -DskipTests package
# Unpack the embedded PostgreSQL binaries at build time, by running the jar's own embedded database once (initdb
# and migrations) as a non-root user, since PostgreSQL refuses to run as root; this also proves at build time that
# the embedded default works for a non-root user. The runtime stage copies the unpacked binaries (read-only for
# the service: root-owned, and the library's world-writable directory made read-only), so containers start
# without unpacking ~60 MB. It runs target/image/portcullis.jar: target/portcullis.jar without the ~30 MB of
# archives the binaries came from (scripts/image-jar says how); a second migrate proves that jar finds them.
COPY scripts/image-jar scripts/
RUN useradd --system --user-group --no-create-home pgunpack \
  && install -d -o pgunpack /opt/embedded-pg /tmp/unpack-data \
  && runuser -u pgunpack -- env PATH="$PATH" PORTCULLIS_DATA_DIR=/tmp/unpack-data \
    java -Dot.epg.working-dir=/opt/embedded-pg -jar target/portcullis.jar migrate \
  && scripts/image-jar target/portcullis.jar target/image/portcullis.jar /opt/embedded-pg \
  && runuser -u pgunpack -- env PATH="$PATH" PORTCULLIS_DATA_DIR=/tmp/unpack-data \
    java -Dot.epg.working-dir=/opt/embedded-pg -jar target/image/portcullis.jar migrate \
  && rm -rf /tmp/unpack-data \
  && chmod -R go-w /opt/embedded-pg

FROM eclipse-temurin:17-jre
# The service user (uid 10001, no login, no home); it owns nothing but the data directory.
RUN groupadd --system --gid 10001 portcullis \
  && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin portcullis \
  && install -d -o 10001 -g 10001 -m 0750 /app/data
WORKDIR /app
# Root-owned: in the build stage they belong to its unpacking user, whose uid could be anyone's here.
COPY --chown=0:0 --from=build /src/target/image/portcullis.jar /app/portcullis.jar
COPY --chown=0:0 --from=build /opt/embedded-pg /opt/embedded-pg
ENV PORTCULLIS_DATA_DIR=/app/data
VOLUME ["/app/data"]
USER 10001:10001
EXPOSE 9999
STOPSIGNAL SIGTERM
# No curl in the image: bash's /dev/tcp asks GET /health; PORTCULLIS_HTTP_PORT is followed when set.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 CMD bash -c 'exec 3<>/dev/tcp/127.0.0.1/"${PORTCULLIS_HTTP_PORT:-9999}" && printf "GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3 && read -r _ status _ <&3 && [ "$status" = 200 ]'
# JVM sizing: the README's heap limit, and serve tunes its own JVM (G1's periodic collection, native heap trimmed;
# README, "Memory"); java is PID 1 and stops gracefully on SIGTERM. JVM options: JDK_JAVA_OPTIONS (read by the
# java launcher); -e JDK_JAVA_OPTIONS=... replaces this default, e.g. -e JDK_JAVA_OPTIONS=-Xmx2g.
ENV JDK_JAVA_OPTIONS=-Xmx1g
ENTRYPOINT ["java", "-Dot.epg.working-dir=/opt/embedded-pg", "-jar", "/app/portcullis.jar"]
CMD ["serve"]
