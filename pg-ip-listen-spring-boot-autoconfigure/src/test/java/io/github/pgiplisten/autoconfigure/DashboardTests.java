package io.github.pgiplisten.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.prometheus.PrometheusMetricsExportAutoConfiguration;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import io.github.pgiplisten.PgListenStatus;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * The Grafana dashboard in {@code grafana/pg-ip-listen.json} queries only metrics that a running application exports
 * under those names (what {@code /actuator/prometheus} serves: the Prometheus registry's scrape), and it has a panel
 * for each thing an operator looks for. A quiet application, with a durable listener, right after it started: every
 * meter is there at zero from the subscription on, so no panel is empty.
 */
class DashboardTests {

    private static final Path DASHBOARD = Path.of("..", "grafana", "pg-ip-listen.json");

    private static final Pattern METRIC = Pattern.compile("\\bpg_ip_listen_[a-z_]+");

    private final String group = "dashboard-" + UUID.randomUUID();
    private final String schema = "dash_" + UUID.randomUUID().toString().substring(0, 8);

    @Test
    void everyMetricTheDashboardQueriesIsExportedUnderThatName() throws Exception {
        Set<String> queried = queriedMetrics();
        assertThat(queried)
                .as("a panel for roles, takeovers, handling per channel, handler time, backlog and pauses, the "
                        + "server's queue, standbys, durable lag and dead letters")
                .contains(
                        "pg_ip_listen_leader",
                        "pg_ip_listen_leadership_changes_total",
                        "pg_ip_listen_notifications_dispatched_total",
                        "pg_ip_listen_dispatch_seconds_sum",
                        "pg_ip_listen_backlog",
                        "pg_ip_listen_reading_paused",
                        "pg_ip_listen_notification_queue_usage",
                        "pg_ip_listen_standby_ready",
                        "pg_ip_listen_durable_lag",
                        "pg_ip_listen_durable_dead_letters");
        TestContexts.runner(group)
                .withConfiguration(AutoConfigurations.of(PrometheusMetricsExportAutoConfiguration.class))
                .withUserConfiguration(DurableChannelTests.OrdersApp.class)
                .withPropertyValues(
                        "pg-ip-listen.durable.initialize-schema=always",
                        "pg-ip-listen.durable.schema=" + schema,
                        "test.schema=" + schema)
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    await().atMost(Duration.ofSeconds(20))
                            .until(() -> context.getBean(PgListenStatus.class)
                                    .snapshot()
                                    .listens());
                    Set<String> exported = exportedMetrics(
                            context.getBean(PrometheusMeterRegistry.class).scrape());
                    assertThat(exported).as("what /actuator/prometheus serves").containsAll(queried);
                });
    }

    /** The metric names in every panel's queries and every variable's query. */
    private static Set<String> queriedMetrics() throws Exception {
        JsonNode dashboard = JsonMapper.builder().build().readTree(Files.readString(DASHBOARD));
        List<String> queries = new ArrayList<>();
        for (JsonNode panel : dashboard.get("panels")) {
            for (JsonNode target : panel.get("targets")) {
                queries.add(target.get("expr").asString());
            }
        }
        for (JsonNode variable : dashboard.get("templating").get("list")) {
            if (variable.has("query") && variable.get("query").isString()) {
                queries.add(variable.get("query").asString());
            }
        }
        Set<String> names = new TreeSet<>();
        for (String query : queries) {
            // label values ("pg_ip_listen_durable", the wake-up channel the handling panels leave out) are no metric
            Matcher matcher = METRIC.matcher(query.replaceAll("\"[^\"]*\"", "\"\""));
            while (matcher.find()) {
                names.add(matcher.group());
            }
        }
        return names;
    }

    /** The sample names of a Prometheus text scrape. */
    private static Set<String> exportedMetrics(String scrape) {
        Set<String> names = new TreeSet<>();
        for (String line : scrape.split("\n")) {
            if (!line.isBlank() && !line.startsWith("#")) {
                int end = line.indexOf('{');
                names.add(line.substring(0, end >= 0 ? end : line.indexOf(' ')));
            }
        }
        return names;
    }
}
