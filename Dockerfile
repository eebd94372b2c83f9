# The broker image: the runnable jar on a JRE. Build the jar first: ./mvnw -B package -DskipTests
#   docker build -t fleetmq/broker-node:0.1.0 .
FROM eclipse-temurin:17-jre
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin fleetmq
COPY broker-node/target/broker-node.jar /opt/fleetmq/broker-node.jar
USER 10001
EXPOSE 1883 8080 5701 5702
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-jar", "/opt/fleetmq/broker-node.jar"]
