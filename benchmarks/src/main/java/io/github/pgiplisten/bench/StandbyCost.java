package io.github.pgiplisten.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import io.github.pgiplisten.core.LeaderElection;
import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * What hot standbys cost, measured beside a raw cold standby (a connection blocked in {@code pg_advisory_lock} that
 * LISTENs only once it leads): a leader and a standby, each a JVM of its own, under 10 000 notifications a second.
 * The standby's CPU (of one core) and heap, the leader's CPU, and the server's notification queue usage
 * ({@code pg_notification_queue_usage()}, which a waiting standby holds back until its lock wait ends). And the load
 * an idle fleet of three puts on the server, in statements per second.
 */
final class StandbyCost {

    private static final int RATE = 10_000;
    private static final int PER_STATEMENT = 10;
    private static final Duration WARM_UP = Duration.ofSeconds(5);
    private static final Duration MEASURED = Duration.ofSeconds(20);

    /** One side's figures. */
    record Figures(double standbyCpuPercent, double leaderCpuPercent, long standbyHeapPeakMb,
            long standbyHeapRetainedMb, double queueUsagePeakPercent, double deliveredPerSecond) {
    }

    private final PostgresServer server;
    private final String javaCommand = ProcessHandle.current().info().command().orElse("java");
    private final String classPath = System.getProperty("java.class.path");

    StandbyCost(PostgresServer server) {
        this.server = server;
    }

    Figures underLoad(boolean ours) throws Exception {
        String channel = "sc-" + UUID.randomUUID().toString().substring(0, 8);
        String group = "bench-" + channel;
        try (Fleet fleet = new Fleet(name -> command(ours, channel, group, "-Xmx256m"))) {
            Fleet.Instance leader = fleet.start("L");
            Benchmarks.await(Duration.ofSeconds(120), () -> leader.ready && leader.leader);
            Fleet.Instance standby = fleet.start("S");
            Benchmarks.await(Duration.ofSeconds(120), () -> standby.ready);
            Thread.sleep(2000);
            AtomicBoolean producing = new AtomicBoolean(true);
            AtomicLong sent = new AtomicLong();
            Thread producer = new Thread(() -> produce(channel, producing, sent), "standby-cost-producer");
            producer.start();
            Thread.sleep(WARM_UP.toMillis());
            long handledBefore = leader.count;
            long leaderTicks = cpuTicks(leader.process.pid());
            long standbyTicks = cpuTicks(standby.process.pid());
            long start = System.nanoTime();
            double queuePeak = 0;
            long heapPeak = 0;
            long nextHeapSample = start;
            try (Connection admin = server.connect(); Statement statement = admin.createStatement()) {
                while (System.nanoTime() - start < MEASURED.toNanos()) {
                    try (ResultSet usage = statement.executeQuery("SELECT pg_notification_queue_usage()")) {
                        usage.next();
                        queuePeak = Math.max(queuePeak, usage.getDouble(1) * 100);
                    }
                    if (System.nanoTime() - nextHeapSample > 0) {
                        heapPeak = Math.max(heapPeak, heapUsedMb(standby.process.pid(), false));
                        nextHeapSample = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
                    }
                    Thread.sleep(100);
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            double ticksPerSecond = 100; // USER_HZ on Linux
            double standbyCpu = (cpuTicks(standby.process.pid()) - standbyTicks) / ticksPerSecond / seconds * 100;
            double leaderCpu = (cpuTicks(leader.process.pid()) - leaderTicks) / ticksPerSecond / seconds * 100;
            double delivered = (leader.count - handledBefore) / seconds;
            long retained = heapUsedMb(standby.process.pid(), true);
            producing.set(false);
            producer.join(10_000);
            return new Figures(standbyCpu, leaderCpu, heapPeak, retained, queuePeak, delivered);
        }
    }

    /** Statements per second an idle fleet of three causes on the server, over 60 s. */
    double idleFleet(boolean ours) throws Exception {
        String channel = "if-" + UUID.randomUUID().toString().substring(0, 8);
        String group = "bench-" + channel;
        try (Fleet fleet = new Fleet(name -> command(ours, channel, group, "-Xmx128m"))) {
            List<Fleet.Instance> three = new ArrayList<>();
            for (String name : List.of("A", "B", "C")) {
                three.add(fleet.start(name));
            }
            Benchmarks.await(Duration.ofSeconds(120), () -> three.stream().allMatch(instance -> instance.ready)
                    && three.stream().filter(instance -> instance.leader).count() == 1);
            Thread.sleep(5000);
            long before = Benchmarks.transactions(server);
            long start = System.nanoTime();
            Thread.sleep(60_000);
            long after = Benchmarks.transactions(server);
            return Math.max(0, after - before - 1) / ((System.nanoTime() - start) / 1e9);
        }
    }

    private List<String> command(boolean ours, String channel, String group, String heap) {
        return ours ? List.of(javaCommand, heap, "-Dbench.quiet=true", "-cp", classPath, OursInstance.class.getName(),
                "--bench.channel=" + channel, "--spring.datasource.url=" + server.jdbcUrl(),
                "--spring.datasource.username=" + server.username(),
                "--spring.datasource.password=" + server.password(), "--pg-ip-listen.group=" + group,
                "--spring.main.banner-mode=off", "--logging.level.root=WARN")
                : List.of(javaCommand, heap, "-Dbench.quiet=true", "-cp", classPath, RawInstance.class.getName(),
                        server.jdbcUrl(),
                        server.username(), server.password(), channel, Long.toString(LeaderElection.lockKey(group)));
    }

    /** {@link #RATE} notifications a second, {@link #PER_STATEMENT} distinct ones per statement (and transaction). */
    private void produce(String channel, AtomicBoolean producing, AtomicLong sent) {
        try (Connection connection = server.connect(); PreparedStatement statement = connection.prepareStatement(
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

    /** utime + stime of a process, in clock ticks. */
    private static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    /** The heap in use (MB): as it is, or after a full GC (what is retained). */
    static long heapUsedMb(long pid, boolean afterGc) {
        try {
            Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
            if (afterGc) {
                new ProcessBuilder(jcmd.toString(), Long.toString(pid), "GC.run").start().waitFor(30, TimeUnit.SECONDS);
            }
            Process process = new ProcessBuilder(jcmd.toString(), Long.toString(pid), "GC.heap_info").start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            process.waitFor(30, TimeUnit.SECONDS);
            java.util.regex.Matcher used = java.util.regex.Pattern.compile("used (\\d+)K").matcher(output);
            return used.find() ? Long.parseLong(used.group(1)) / 1024 : -1;
        } catch (IOException ex) {
            return -1;
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    static String format(double value) {
        return String.format(Locale.ROOT, "%.1f", value);
    }
}
