package io.fleetmq.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Kustomize base and overlay parse as Kubernetes objects and fit together. */
class ManifestsTest {

  static final Path BASE = Path.of("base");
  static Map<String, Object> yaml(String text) {
    return new org.yaml.snakeyaml.Yaml().load(text);
  }

  static Map<String, Object> yaml(Path file) throws java.io.IOException {
    return yaml(Files.readString(file));
  }
  static final List<HasMetadata> objects = new ArrayList<>();
  static StatefulSet sts;
  static Container broker;
  static Map<String, String> podLabels;
  static Set<String> portNames;

  @BeforeAll
  @SuppressWarnings("unchecked")
  static void load() throws Exception {
    Map<String, Object> kustomization = yaml(BASE.resolve("kustomization.yaml"));
    KubernetesSerialization k8s = new KubernetesSerialization();
    for (String resource : (List<String>) kustomization.get("resources")) {
      Path file = BASE.resolve(resource);
      assertThat(file).as("kustomization resource").isRegularFile();
      try (InputStream in = Files.newInputStream(file)) {
        objects.add(k8s.unmarshal(in));
      }
    }
    sts = one(StatefulSet.class);
    broker = sts.getSpec().getTemplate().getSpec().getContainers().get(0);
    podLabels = sts.getSpec().getTemplate().getMetadata().getLabels();
    portNames = broker.getPorts().stream().map(ContainerPort::getName).collect(Collectors.toSet());
  }

  static <T> T one(Class<T> type) {
    List<T> found = objects.stream().filter(type::isInstance).map(type::cast).toList();
    assertThat(found).as(type.getSimpleName()).hasSize(1);
    return found.get(0);
  }

  static List<Service> services() {
    return objects.stream().filter(Service.class::isInstance).map(Service.class::cast).toList();
  }

  static String env(String name) {
    return broker.getEnv().stream().filter(e -> e.getName().equals(name)).map(EnvVar::getValue).findFirst().orElse(null);
  }

  @Test
  void selectors_matchThePodLabels() {
    assertThat(podLabels).containsAllEntriesOf(sts.getSpec().getSelector().getMatchLabels());
    for (Service s : services()) {
      assertThat(podLabels).as(s.getMetadata().getName()).containsAllEntriesOf(s.getSpec().getSelector());
    }
    assertThat(podLabels).containsAllEntriesOf(one(PodDisruptionBudget.class).getSpec().getSelector().getMatchLabels());
    assertThat(one(PodDisruptionBudget.class).getSpec().getMaxUnavailable().getIntVal()).isEqualTo(1);
  }

  @Test
  void everyProbeAndServicePort_namesAPortTheContainerExposes() {
    for (Probe p : List.of(broker.getStartupProbe(), broker.getLivenessProbe(), broker.getReadinessProbe())) {
      assertThat(portNames).contains(p.getHttpGet().getPort().getStrVal());
    }
    assertThat(broker.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/health/ready");
    assertThat(broker.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/health/live");
    for (Service s : services()) {
      for (ServicePort p : s.getSpec().getPorts()) {
        assertThat(portNames).as(s.getMetadata().getName() + " " + p.getName()).contains(p.getTargetPort().getStrVal());
      }
    }
    assertThat(services()).anyMatch(s -> "LoadBalancer".equals(s.getSpec().getType())
        && s.getSpec().getPorts().stream().anyMatch(p -> p.getTargetPort().getStrVal().equals("mqtt")));
  }

  @Test
  void hazelcastDiscovery_pointsAtTheHeadlessService() {
    Service headless = services().stream().filter(s -> "None".equals(s.getSpec().getClusterIP())).findFirst().orElseThrow();
    assertThat(sts.getSpec().getServiceName()).isEqualTo(headless.getMetadata().getName());
    assertThat(env("BROKER_CLUSTER_DISCOVERY")).isEqualTo("kubernetes");
    assertThat(env("BROKER_KUBERNETES_SERVICE_DNS")).isEqualTo(headless.getMetadata().getName());
    assertThat(headless.getSpec().getPorts()).anyMatch(p -> p.getTargetPort().getStrVal().equals("hazelcast"));
  }

  @Test
  @SuppressWarnings("unchecked")
  void brokerConfig_usesThePortsTheContainerExposes() throws Exception {
    Map<String, Object> cfg = yaml(one(ConfigMap.class).getData().get("broker.yaml"));
    Map<String, Integer> ports = broker.getPorts().stream()
        .collect(Collectors.toMap(ContainerPort::getName, ContainerPort::getContainerPort));
    assertThat(cfg.get("mqtt-port")).isEqualTo(ports.get("mqtt"));
    assertThat(cfg.get("http-port")).isEqualTo(ports.get("http"));
    assertThat(cfg.get("cluster-port")).isEqualTo(ports.get("hazelcast"));
    assertThat(cfg.get("eventbus-port")).isEqualTo(ports.get("eventbus"));
    assertThat(broker.getArgs()).containsSequence("--config", "/etc/fleetmq/broker.yaml");
  }

  @Test
  void pod_runsAsNonRoot_withTimeToHandOverItsSessions_andSizedFromTheContainer() {
    var pod = sts.getSpec().getTemplate().getSpec();
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getTerminationGracePeriodSeconds()).isGreaterThanOrEqualTo(60L);
    assertThat(env("JAVA_TOOL_OPTIONS")).contains("MaxRAMPercentage");
    assertThat(broker.getResources().getLimits()).containsKey("memory");
    assertThat(pod.getAffinity().getPodAntiAffinity()).isNotNull();
  }

  @Test
  @SuppressWarnings("unchecked")
  void exampleOverlay_referencesTheBaseAndItsObjects() throws Exception {
    Path overlay = Path.of("overlays", "example");
    Map<String, Object> k = yaml(overlay.resolve("kustomization.yaml"));
    for (String r : (List<String>) k.get("resources")) {
      assertThat(overlay.resolve(r).resolve("kustomization.yaml")).isRegularFile();
    }
    for (Map<String, Object> r : (List<Map<String, Object>>) k.get("replicas")) {
      assertThat(r.get("name")).isEqualTo(sts.getMetadata().getName());
    }
    for (Map<String, Object> i : (List<Map<String, Object>>) k.get("images")) {
      assertThat(broker.getImage()).startsWith(i.get("name") + ":");
    }
  }
}
