package io.github.pgiplisten.bench;

import static io.github.pgiplisten.bench.Benchmarks.log;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

import io.github.pgiplisten.core.PgListenEngine;
import io.github.pgiplisten.testsupport.Await;
import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * The load an idle standby and an idle fleet put on the server, in statements (transactions) per second over 60 s:
 * ours probes its connection now and then, a raw cold standby never does.
 */
final class IdleSection implements Section {

    /** BENCHMARKS.md's goal for ours, an idle standby and an idle fleet alike. */
    private static final Goal.Target STATEMENTS_PER_SECOND = Goal.atMost("statements/s", 1);

    private final PostgresServer server;

    IdleSection(PostgresServer server) {
        this.server = server;
    }

    @Override
    public void run(ResultsTable table) throws Exception {
        log("idle standby: statements per second on the server over 60 s, ours then raw");
        double ours = idleStandby(true);
        double raw = idleStandby(false);
        Goal standby = STATEMENTS_PER_SECOND.of(ours);
        table.add(
                "load of an idle standby on the server, statements/s over 60 s",
                String.format(Locale.ROOT, "%.2f", ours),
                String.format(Locale.ROOT, "%.2f", raw),
                standby.toString(),
                standby);
        log("idle fleet of three (a leader and two standbys, each its own JVM): statements per second over 60 s");
        double oursFleet = idleFleet(true);
        double rawFleet = idleFleet(false);
        Goal fleet = STATEMENTS_PER_SECOND.of(oursFleet);
        table.add(
                "load of an idle fleet of three on the server, statements/s over 60 s",
                String.format(Locale.ROOT, "%.2f", oursFleet),
                String.format(Locale.ROOT, "%.2f", rawFleet),
                fleet + "; raw: a leader and two cold standbys, which never probe",
                fleet);
    }

    private double idleStandby(boolean ours) throws Exception {
        String group = "idle-" + UUID.randomUUID().toString().substring(0, 8);
        long key = PgListenEngine.lockKey(group);
        try (Connection holder = server.connect()) {
            try (Statement statement = holder.createStatement()) {
                statement.execute("SELECT pg_advisory_lock(" + key + ")");
            }
            AutoCloseable standby;
            if (ours) {
                PgListenEngine engine = new PgListenEngine(Benchmarks.engineOptions(server, group, "bench idle standby")
                        .build());
                engine.subscribe("idle", notification -> {});
                engine.start();
                standby = engine;
            } else {
                Connection connection = server.connect();
                Thread waiter = new Thread(() -> {
                    try (Statement statement = connection.createStatement()) {
                        statement.execute("SELECT pg_advisory_lock(" + key + ")");
                    } catch (SQLException ex) {
                        // closed
                    }
                });
                waiter.setDaemon(true);
                waiter.start();
                standby = connection;
            }
            Thread.sleep(3000);
            long before = transactions(server);
            long start = System.nanoTime();
            Thread.sleep(60_000);
            long after = transactions(server);
            double seconds = (System.nanoTime() - start) / 1e9;
            standby.close();
            // the measuring query itself is one transaction
            double perSecond = Math.max(0, after - before - 1) / seconds;
            log(String.format(
                    Locale.ROOT,
                    "  %s: %d transactions in %.0f s",
                    ours ? "ours" : "raw ",
                    after - before - 1,
                    seconds));
            return perSecond;
        }
    }

    /** Committed and rolled-back transactions of the database so far, once backends have flushed their counts. */
    static long transactions(PostgresServer server) throws SQLException {
        try (Connection connection = server.connect();
                Statement statement = connection.createStatement()) {
            Thread.sleep(1100); // let backends flush their statistics
            statement.execute("SELECT pg_stat_clear_snapshot()");
            try (ResultSet result = statement.executeQuery("SELECT sum(xact_commit + xact_rollback) "
                    + "FROM pg_stat_database WHERE datname = current_database()")) {
                result.next();
                return result.getLong(1);
            }
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
    }

    /** Statements per second an idle fleet of three (each its own JVM) causes on the server, over 60 s. */
    private double idleFleet(boolean ours) throws Exception {
        String channel = "if-" + UUID.randomUUID().toString().substring(0, 8);
        String group = "bench-" + channel;
        try (Fleet fleet = new Fleet(name -> StandbyCost.instance(server, name, ours, channel, group, "-Xmx128m"))) {
            List<Fleet.Instance> three = new ArrayList<>();
            for (String name : List.of("A", "B", "C")) {
                three.add(fleet.start(name));
            }
            Await.until(
                    "one of three leads",
                    Duration.ofSeconds(120),
                    () -> three.stream().allMatch(i -> i.ready)
                            && three.stream()
                                            .filter(instance -> instance.leader)
                                            .count()
                                    == 1);
            Thread.sleep(5000);
            long before = transactions(server);
            long start = System.nanoTime();
            Thread.sleep(60_000);
            long after = transactions(server);
            return Math.max(0, after - before - 1) / ((System.nanoTime() - start) / 1e9);
        }
    }
}
