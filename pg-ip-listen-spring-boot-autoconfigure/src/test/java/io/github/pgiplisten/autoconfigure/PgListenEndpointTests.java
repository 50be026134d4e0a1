package io.github.pgiplisten.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.sql.DataSource;

import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.autoconfigure.endpoint.EndpointAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.endpoint.jmx.JmxEndpointAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.jmx.JmxAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.PgListener;
import io.github.pgiplisten.autoconfigure.endpoint.PgListenEndpoint;
import io.github.pgiplisten.autoconfigure.endpoint.PgListenEndpointAutoConfiguration;
import io.github.pgiplisten.core.Role;

/**
 * The {@code pglisten} endpoint with a fleet of three instances (one hot standby, one cold), read the way Actuator
 * reads it: through Spring Boot's endpoint machinery, here over JMX, as the JSON-like maps it answers with.
 */
class PgListenEndpointTests {

    private final String group = "endpoint-" + UUID.randomUUID();
    private final String channel = "endpoint-" + UUID.randomUUID().toString().substring(0, 8);

    /** An instance of the service; only the one that is read exposes the endpoint (over JMX, one per JVM). */
    private ApplicationContextRunner instance(boolean exposed) {
        ApplicationContextRunner runner = TestContexts.runner(group)
                .withConfiguration(AutoConfigurations.of(
                        EndpointAutoConfiguration.class,
                        JmxAutoConfiguration.class,
                        JmxEndpointAutoConfiguration.class,
                        PgListenEndpointAutoConfiguration.class))
                .withUserConfiguration(Listener.class)
                .withPropertyValues("test.channel=" + channel, "pg-ip-listen.hot-standbys=1");
        return exposed
                ? runner.withPropertyValues(
                        "spring.jmx.enabled=true", "management.endpoints.jmx.exposure.include=pglisten")
                : runner;
    }

    @Test
    void isOffUnlessExposed() {
        instance(false).run(context -> assertThat(context).doesNotHaveBean(PgListenEndpoint.class));
    }

    @Test
    void showsThisInstanceAndEverySessionOfItsGroupLeaderFirst() {
        instance(false).run(first -> {
            PgListenStatus leader = first.getBean(PgListenStatus.class);
            assertThat(leader.awaitListening(Duration.ofSeconds(20))).isTrue();
            instance(false).run(second -> {
                await().atMost(Duration.ofSeconds(20))
                        .until(() ->
                                second.getBean(PgListenStatus.class).snapshot().listens());
                instance(true).run(third -> {
                    PgListenStatus cold = third.getBean(PgListenStatus.class);
                    await().atMost(Duration.ofSeconds(20))
                            .until(() -> cold.snapshot().role() == Role.STANDBY
                                    && cold.snapshot().standby().cold());
                    String ownName =
                            third.getBean(PgListenerContainer.class).options().applicationName();
                    int leaderPid = leader.snapshot().connection().backendPid();

                    Map<String, Object> answer = read();

                    assertThat(answer).containsEntry("group", group);
                    Map<String, Object> instance = map(answer.get("instance"));
                    assertThat(instance)
                            .containsEntry("role", "standby")
                            .containsEntry("applicationName", ownName)
                            .containsEntry("connected", true)
                            .containsEntry("listens", true)
                            .containsEntry("lastTakeover", null);
                    assertThat(map(instance.get("standby"))).containsEntry("hot", false);
                    assertThat(map(instance.get("channels")).get("subscribed")).isEqualTo(List.of(channel + "-orders"));

                    List<Map<String, Object>> sessions =
                            list(map(answer.get("sessions")).get("sessions"));
                    assertThat(map(answer.get("sessions"))).containsEntry("error", null);
                    assertThat(sessions).hasSize(3);
                    assertThat(sessions.get(0))
                            .containsEntry("pid", leaderPid)
                            .containsEntry("role", "leader")
                            .containsEntry("thisInstance", false)
                            .containsEntry(
                                    "applicationName",
                                    first.getBean(PgListenerContainer.class)
                                            .options()
                                            .applicationName());
                    assertThat(sessions)
                            .extracting(session -> session.get("role"))
                            .containsExactlyInAnyOrder("leader", "hot-standby", "cold-standby");
                    assertThat(sessions)
                            .filteredOn(session -> Boolean.TRUE.equals(session.get("thisInstance")))
                            .singleElement()
                            .satisfies(session -> assertThat(session)
                                    .containsEntry("role", "cold-standby")
                                    .containsEntry("applicationName", ownName)
                                    .containsEntry("place", 0));
                    assertThat(sessions)
                            .filteredOn(session -> "hot-standby".equals(session.get("role")))
                            .singleElement()
                            .satisfies(
                                    session -> assertThat(session.get("place")).isNotEqualTo(0));

                    // the leader's own view: its takeover, the group's first
                    PgListenEndpoint.Instance leaderView = new PgListenEndpoint(
                                    first.getBean(PgListenerContainer.class), first.getBeanProvider(DataSource.class))
                            .fleet()
                            .instance();
                    assertThat(leaderView.role()).isEqualTo("leader");
                    assertThat(leaderView.lastTakeover()).isNotNull();
                    assertThat(leaderView.lastTakeover().firstLeader()).isTrue();
                    assertThat(leaderView.lastTakeover().possibleRepeats()).isZero();
                });
            });
        });
    }

    /** The write operation hands the lead over to the hot standby, which leads after a handover; the other stays. */
    @Test
    void theWriteOperationSwitchesTheLeaderOverToAHotStandby() {
        instance(true).run(first -> {
            PgListenStatus leader = first.getBean(PgListenStatus.class);
            assertThat(leader.awaitListening(Duration.ofSeconds(20))).isTrue();
            instance(false).run(second -> {
                PgListenStatus standby = second.getBean(PgListenStatus.class);
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> standby.snapshot().listens());

                Map<String, Object> answer = invoke("switchover");

                assertThat(answer).containsEntry("switchedOver", true).containsEntry("reason", null);
                assertThat(answer.get("successorPid"))
                        .as("the successor's backend pid, or none when it did not announce itself within half a second")
                        .isIn(standby.snapshot().connection().backendPid(), null);
                assertThat(standby.awaitListening(Duration.ofSeconds(20))).isTrue();
                assertThat(standby.snapshot().lastTakeover()).isNotNull();
                assertThat(standby.snapshot().lastTakeover().handedOver()).isTrue();
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> leader.snapshot().role() == Role.STANDBY
                                && leader.snapshot().listens());
            });
        });
    }

    @Test
    void theWriteOperationRefusesWithoutAHotStandbyAndSaysWhy() {
        instance(true).run(only -> {
            PgListenStatus leader = only.getBean(PgListenStatus.class);
            assertThat(leader.awaitListening(Duration.ofSeconds(20))).isTrue();

            Map<String, Object> answer = invoke("switchover");

            assertThat(answer).containsEntry("switchedOver", false).containsEntry("successorPid", null);
            assertThat((String) answer.get("reason")).contains("No hot standby of group '" + group + "'");
            assertThat(leader.snapshot().isLeader()).isTrue();
        });
    }

    /**
     * Actuator's access control applies: read-only keeps the view and leaves out the switchover. (An application
     * writes {@code read-only}; a bare context runner lacks Spring Boot's lenient enum conversion, hence the constant.)
     */
    @Test
    void readOnlyAccessKeepsTheViewWithoutTheSwitchover() {
        instance(true)
                .withPropertyValues("management.endpoint.pglisten.access=READ_ONLY")
                .run(only -> {
                    assertThat(only.getBean(PgListenStatus.class).awaitListening(Duration.ofSeconds(20)))
                            .isTrue();
                    assertThat(read()).containsEntry("group", group);
                    assertThat(ManagementFactory.getPlatformMBeanServer()
                                    .getMBeanInfo(endpointName())
                                    .getOperations())
                            .extracting(javax.management.MBeanOperationInfo::getName)
                            .containsExactly("fleet");
                    assertThat(only.getBean(PgListenStatus.class).snapshot().isLeader())
                            .isTrue();
                });
    }

    /** The endpoint's read operation over JMX, as Spring Boot maps its answer (maps and lists, as the JSON). */
    private static Map<String, Object> read() throws Exception {
        return invoke("fleet");
    }

    private static Map<String, Object> invoke(String operation) throws Exception {
        return map(ManagementFactory.getPlatformMBeanServer()
                .invoke(endpointName(), operation, new Object[0], new String[0]));
    }

    /** The endpoint's MBean, as Spring Boot names it (one exposing context at a time in this JVM). */
    private static ObjectName endpointName() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        return server.queryNames(new ObjectName("org.springframework.boot:type=Endpoint,name=Pglisten,*"), null)
                .iterator()
                .next();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value) {
        return (Map<String, Object>) value;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> list(Object value) {
        return (List<Map<String, Object>>) value;
    }

    @Configuration(proxyBeanMethods = false)
    static class Listener {

        @Bean
        Orders orders() {
            return new Orders();
        }
    }

    static class Orders {

        @PgListener("${test.channel}-orders")
        void onOrder(String payload) {}
    }
}
