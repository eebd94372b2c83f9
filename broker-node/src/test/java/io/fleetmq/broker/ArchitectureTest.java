package io.fleetmq.broker;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/** The package boundaries docs/architecture.md describes. */
@AnalyzeClasses(packages = "io.fleetmq.broker", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

  @ArchTest
  static final ArchRule onlyClusterTouchesHazelcast = noClasses()
      .that().resideOutsideOfPackage("io.fleetmq.broker.cluster..")
      .should().dependOnClassesThat().resideInAnyPackage("com.hazelcast..", "io.vertx.spi.cluster..");

  @ArchTest
  static final ArchRule protocolSessionRoutingDoNotDependOnCluster = noClasses()
      .that().resideInAnyPackage("io.fleetmq.broker.protocol..", "io.fleetmq.broker.session..",
          "io.fleetmq.broker.routing..", "io.fleetmq.broker.retained..", "io.fleetmq.broker.message..")
      .should().dependOnClassesThat().resideInAPackage("io.fleetmq.broker.cluster..");

  /** The router knows subscribers through routing.Subscriber, not the session's class. */
  @ArchTest
  static final ArchRule routingDoesNotDependOnSessions = noClasses()
      .that().resideInAPackage("io.fleetmq.broker.routing..")
      .should().dependOnClassesThat().resideInAPackage("io.fleetmq.broker.session..");

  /** The protocol is MQTT rules only: sessions, routes and retained messages are stored by others. */
  @ArchTest
  static final ArchRule protocolNeverCallsAStore = noClasses()
      .that().resideInAPackage("io.fleetmq.broker.protocol..")
      .should().dependOnClassesThat().haveFullyQualifiedName("io.fleetmq.broker.session.SessionStore")
      .orShould().dependOnClassesThat().haveFullyQualifiedName("io.fleetmq.broker.routing.RouteTable")
      .orShould().dependOnClassesThat().haveFullyQualifiedName("io.fleetmq.broker.retained.RetainedStore");

  @ArchTest
  static final ArchRule sessionsDoNotDependOnTheProtocol = noClasses()
      .that().resideInAnyPackage("io.fleetmq.broker.session..", "io.fleetmq.broker.routing..")
      .should().dependOnClassesThat().resideInAnyPackage("io.fleetmq.broker.protocol..", "io.vertx.mqtt..");
}
