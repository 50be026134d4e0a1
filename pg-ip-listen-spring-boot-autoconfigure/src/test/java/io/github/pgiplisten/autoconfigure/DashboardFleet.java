package io.github.pgiplisten.autoconfigure;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.autoconfigure.context.PropertyPlaceholderAutoConfiguration;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.JdbcTemplateAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.prometheus.PrometheusMetricsExportAutoConfiguration;
import org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;

import com.sun.net.httpserver.HttpServer;

import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.PgListener;
import io.github.pgiplisten.PgPublisher;
import io.github.pgiplisten.autoconfigure.DurableChannelTests.OrderPlaced;
import io.github.pgiplisten.autoconfigure.metrics.PgListenMetricsAutoConfiguration;
import io.github.pgiplisten.testsupport.PostgresServer;
import io.github.pgiplisten.testsupport.TestPostgres;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * Not a test: the fleet that {@code grafana/render-picture} draws the dashboard of. Three instances of one service
 * (application contexts in this JVM, each serving its Prometheus scrape over HTTP as {@code /actuator/prometheus}
 * would), under a steady load of plain notifications on two channels and durable messages (a few of them poison, so
 * dead letters show), with the events an operator looks for: a switchover, a leader stopped and a new instance
 * joining. It writes the scrape targets as a Prometheus file_sd file, labelled {@code job} and {@code instance}.
 * Arguments: the seconds to run, the targets file.
 */
public final class DashboardFleet {

    private static final String GROUP = "orders-service";

    private final PostgresServer server = TestPostgres.shared();
    private final String schema = "dash_" + UUID.randomUUID().toString().substring(0, 8);
    private final List<Instance> instances = new ArrayList<>();
    private final Path targets;

    private DashboardFleet(Path targets) {
        this.targets = targets;
    }

    public static void main(String[] args) throws Exception {
        int seconds = Integer.parseInt(args[0]);
        DashboardFleet fleet = new DashboardFleet(Path.of(args[1]));
        fleet.run(seconds);
        System.exit(0);
    }

    private void run(int seconds) throws Exception {
        for (String name : List.of("pod-a", "pod-b", "pod-c")) {
            start(name);
        }
        AtomicBoolean loading = new AtomicBoolean(true);
        Thread load = new Thread(() -> load(loading), "dashboard-load");
        load.start();
        long start = System.nanoTime();
        sleepUntil(start, seconds * 0.35);
        System.out.println("switchover: "
                + leader().context
                        .getBean(PgListenerContainer.class)
                        .switchover()
                        .get(30, TimeUnit.SECONDS));
        sleepUntil(start, seconds * 0.6);
        Instance stopped = leader();
        System.out.println("stopping the leader " + stopped.name);
        stopped.close();
        instances.remove(stopped);
        writeTargets();
        sleepUntil(start, seconds * 0.7);
        start("pod-d");
        sleepUntil(start, seconds);
        loading.set(false);
        load.join();
        for (Instance instance : instances) {
            instance.close();
        }
    }

    private Instance leader() {
        return instances.stream()
                .filter(instance -> instance.context
                        .getBean(PgListenStatus.class)
                        .snapshot()
                        .isLeader())
                .findFirst()
                .orElseThrow();
    }

    private void start(String name) throws IOException {
        SpringApplication application = new SpringApplication(Service.class);
        application.setWebApplicationType(WebApplicationType.NONE);
        application.setDefaultProperties(Map.of(
                "spring.datasource.url",
                server.jdbcUrl(),
                "spring.datasource.username",
                server.username(),
                "spring.datasource.password",
                server.password(),
                "spring.application.name",
                GROUP,
                "pg-ip-listen.durable.initialize-schema",
                "always",
                "pg-ip-listen.durable.schema",
                schema,
                "pg-ip-listen.durable.max-attempts",
                "2",
                "pg-ip-listen.durable.retry-backoff",
                "100ms",
                "test.schema",
                schema));
        ConfigurableApplicationContext context = application.run();
        PrometheusMeterRegistry registry = context.getBean(PrometheusMeterRegistry.class);
        HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        http.createContext("/actuator/prometheus", exchange -> {
            byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        http.start();
        instances.add(new Instance(name, context, http));
        writeTargets();
        System.out.println("started " + name + " on port " + http.getAddress().getPort());
    }

    private void writeTargets() throws IOException {
        List<String> groups = new ArrayList<>();
        for (Instance instance : instances) {
            groups.add("{\"targets\": [\"127.0.0.1:"
                    + instance.http.getAddress().getPort() + "\"], \"labels\": {\"job\": \"" + GROUP
                    + "\", \"instance\": \"" + instance.name + "\"}}");
        }
        Path written = Files.writeString(
                targets.resolveSibling(targets.getFileName() + ".tmp"), "[" + String.join(",\n", groups) + "]\n");
        Files.move(written, targets, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** 300 plain notifications a second on two channels, 20 durable messages a second, one in fifty poison. */
    private void load(AtomicBoolean loading) {
        try (Connection connection = server.connect();
                PreparedStatement notify = connection.prepareStatement("SELECT pg_notify(?, ?)")) {
            long tick = 0;
            while (loading.get()) {
                notify.setString(1, tick % 3 == 0 ? "payments" : "orders-created");
                notify.setString(2, "{\"n\": " + tick + "}");
                notify.execute();
                if (tick % 15 == 0) {
                    Instance any = instances.get(0);
                    long n = tick / 15;
                    any.context
                            .getBean(PgPublisher.class)
                            .publish("orders", new OrderPlaced((int) n, n % 50 == 49 ? "poison" : "tea"));
                }
                tick++;
                TimeUnit.NANOSECONDS.sleep(3_333_333);
            }
        } catch (Exception ex) {
            if (loading.get()) {
                ex.printStackTrace();
            }
        }
    }

    private static void sleepUntil(long start, double seconds) throws InterruptedException {
        long remaining = start + (long) (seconds * 1e9) - System.nanoTime();
        if (remaining > 0) {
            TimeUnit.NANOSECONDS.sleep(remaining);
        }
    }

    private record Instance(String name, ConfigurableApplicationContext context, HttpServer http) {

        void close() {
            context.close();
            http.stop(0);
        }
    }

    /** The plain listeners: a little work per notification. */
    static class Shop {

        @PgListener("orders-created")
        void onOrder(String payload) throws InterruptedException {
            Thread.sleep(0, 300_000);
        }

        @PgListener("payments")
        void onPayment(String payload) throws InterruptedException {
            Thread.sleep(1);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ImportAutoConfiguration({
        PropertyPlaceholderAutoConfiguration.class,
        DataSourceAutoConfiguration.class,
        DataSourceTransactionManagerAutoConfiguration.class,
        TransactionAutoConfiguration.class,
        JdbcTemplateAutoConfiguration.class,
        JacksonAutoConfiguration.class,
        MetricsAutoConfiguration.class,
        CompositeMeterRegistryAutoConfiguration.class,
        PrometheusMetricsExportAutoConfiguration.class,
        PgListenAutoConfiguration.class,
        PgListenMetricsAutoConfiguration.class
    })
    @Import(DurableChannelTests.OrdersApp.class)
    static class Service {

        @Bean
        Shop shop() {
            return new Shop();
        }
    }
}
