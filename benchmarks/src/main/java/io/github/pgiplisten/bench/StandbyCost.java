package io.github.pgiplisten.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import io.github.pgiplisten.core.PgListenEngine;
import io.github.pgiplisten.testsupport.Await;
import io.github.pgiplisten.testsupport.InstanceJvm;
import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * What hot standbys cost, measured beside a raw cold standby (a connection blocked in {@code pg_advisory_lock} that
 * LISTENs only once it leads): a leader and a standby, each a JVM of its own, under 10 000 notifications a second.
 * The standby's CPU (of one core) and heap, the leader's CPU, and the server's notification queue usage
 * ({@code pg_notification_queue_usage()}, which a waiting standby holds back until its lock wait ends).
 */
final class StandbyCost {

    private static final int RATE = 10_000;
    private static final int PER_STATEMENT = 10;
    private static final Duration WARM_UP = Duration.ofSeconds(5);
    private static final Duration MEASURED = Duration.ofSeconds(20);

    /** One side's figures. */
    record Figures(
            double standbyCpuPercent,
            double leaderCpuPercent,
            long standbyHeapPeakMb,
            long standbyHeapRetainedMb,
            double queueUsagePeakPercent,
            double deliveredPerSecond) {}

    private final PostgresServer server;

    StandbyCost(PostgresServer server) {
        this.server = server;
    }

    Figures underLoad(boolean ours) throws Exception {
        String channel = "sc-" + UUID.randomUUID().toString().substring(0, 8);
        String group = "bench-" + channel;
        try (Fleet fleet = new Fleet(name -> instance(server, name, ours, channel, group, "-Xmx256m"))) {
            Fleet.Instance leader = fleet.start("L");
            Await.until("the leader leads", Duration.ofSeconds(120), () -> leader.ready && leader.leader);
            Fleet.Instance standby = fleet.start("S");
            Await.until("the standby is ready", Duration.ofSeconds(120), () -> standby.ready);
            Thread.sleep(2000);
            AtomicBoolean producing = new AtomicBoolean(true);
            AtomicLong sent = new AtomicLong();
            Thread producer = new Thread(() -> produce(channel, producing, sent), "standby-cost-producer");
            producer.start();
            Thread.sleep(WARM_UP.toMillis());
            long handledBefore = leader.count;
            long leaderTicks = ProcessStats.cpuTicks(leader.jvm.pid());
            long standbyTicks = ProcessStats.cpuTicks(standby.jvm.pid());
            long start = System.nanoTime();
            double queuePeak = 0;
            long heapPeak = 0;
            long nextHeapSample = start;
            try (Connection admin = server.connect();
                    Statement statement = admin.createStatement()) {
                while (System.nanoTime() - start < MEASURED.toNanos()) {
                    try (ResultSet usage = statement.executeQuery("SELECT pg_notification_queue_usage()")) {
                        usage.next();
                        queuePeak = Math.max(queuePeak, usage.getDouble(1) * 100);
                    }
                    if (System.nanoTime() - nextHeapSample > 0) {
                        heapPeak = Math.max(heapPeak, ProcessStats.heapUsedMb(standby.jvm.pid(), false));
                        nextHeapSample = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
                    }
                    Thread.sleep(100);
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            double ticksPerSecond = 100; // USER_HZ on Linux
            double standbyCpu =
                    (ProcessStats.cpuTicks(standby.jvm.pid()) - standbyTicks) / ticksPerSecond / seconds * 100;
            double leaderCpu = (ProcessStats.cpuTicks(leader.jvm.pid()) - leaderTicks) / ticksPerSecond / seconds * 100;
            double delivered = (leader.count - handledBefore) / seconds;
            long retained = ProcessStats.heapUsedMb(standby.jvm.pid(), true);
            producing.set(false);
            producer.join(10_000);
            return new Figures(standbyCpu, leaderCpu, heapPeak, retained, queuePeak, delivered);
        }
    }

    /** One side's instance in a JVM of its own, quiet (it counts instead of printing each notification). */
    static InstanceJvm.Launch instance(
            PostgresServer server, String name, boolean ours, String channel, String group, String heap) {
        InstanceJvm.Launch launch = ours
                ? OursInstance.launch(name, server, channel, group)
                        .arguments("--spring.main.banner-mode=off", "--logging.level.root=WARN")
                : RawInstance.launch(name, server, channel, PgListenEngine.lockKey(group));
        return launch.jvmOptions(heap).systemProperty("bench.quiet", "true");
    }

    /** {@link #RATE} notifications a second, {@link #PER_STATEMENT} distinct ones per statement (and transaction). */
    private void produce(String channel, AtomicBoolean producing, AtomicLong sent) {
        try (Connection connection = server.connect();
                PreparedStatement statement = connection.prepareStatement(
                        "SELECT pg_notify(?, 'n' || (? + g)) FROM generate_series(1, " + PER_STATEMENT + ") g")) {
            statement.setString(1, channel);
            long intervalNanos = TimeUnit.SECONDS.toNanos(1) * PER_STATEMENT / RATE;
            long next = System.nanoTime();
            while (producing.get()) {
                statement.setLong(2, sent.getAndAdd(PER_STATEMENT));
                statement.execute();
                next += intervalNanos;
                LockSupport.parkNanos(next - System.nanoTime());
            }
        } catch (SQLException ex) {
            System.out.println("producer failed: " + ex);
        }
    }

    static String format(double value) {
        return String.format(Locale.ROOT, "%.1f", value);
    }
}
