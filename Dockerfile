# Portcullis container: build stage (Maven) → runtime stage (JRE), non-root, configured through env and mounts.
# First version; the container work proper (compose, checks) comes later.
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY conf conf
COPY src src
RUN mvn -B -q -DskipTests package

FROM eclipse-temurin:17-jre
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/* \
  && useradd --system --uid 10001 --home-dir /app portcullis \
  && mkdir -p /app/conf /app/data \
  && chown -R portcullis /app
WORKDIR /app
COPY --from=build /src/target/portcullis.jar /app/portcullis.jar
COPY conf/config.json /app/conf/config.json
USER portcullis
ENV PORTCULLIS_DATA_DIR=/app/data
VOLUME /app/data
EXPOSE 9999
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s CMD curl -fsS http://127.0.0.1:9999/health || exit 1
ENTRYPOINT ["java", "-jar", "/app/portcullis.jar"]
CMD ["serve"]
