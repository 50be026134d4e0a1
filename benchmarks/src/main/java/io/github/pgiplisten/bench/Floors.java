package io.github.pgiplisten.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import io.github.pgiplisten.testsupport.PostgresServer;
import io.github.pgiplisten.testsupport.ProcessOutput;

/**
 * What this machine and PostgreSQL cost for a takeover with no library code at all: {@link FloorInstance} JVMs,
 * warmed before they are measured, doing the hot-standby protocol (graceful floor) or taking the lock from a killed
 * victim JVM as large as ours (crash floor). A notification every 2 ms throughout, as in the failover benchmark.
 */
final class Floors {

    /** The graceful floor, per measured round, in ms. */
    record Graceful(List<Double> cueToHandled, List<Double> cueToLeader, List<Double> cueToMarked,
            List<Double> cueToMarkerRead, List<Double> cueToReleased, List<Double> releaseToGranted,
            List<Double> releaseToLocked, List<Double> releaseToRead, List<Double> releaseToHandled,
            List<Double> backlog, int gaps) {
    }

    /** The crash floor, per measured round, in ms; resident sizes in MB. */
    record Crash(List<Double> killToGranted, List<Double> killToLocked, List<Double> killToRead,
            List<Double> killToHandled, List<Double> backlog, double oursRssMb, double victimRssMb) {
    }

    /** A {@link FloorInstance} JVM and the latest value of each event it printed. */
    private static final class Jvm {
        final String name;
        final Process process;
        final Map<String, Long> events = new ConcurrentHashMap<>();

        Jvm(String name, Process process) {
            this.name = name;
            this.process = process;
            ProcessOutput.follow(process, "floor-" + name, line -> {
                String[] parts = line.split(" ");
                if (parts.length == 3 && parts[0].equals("floor")) {
                    events.put(parts[1], Long.parseLong(parts[2]));
                } else if (line.contains("Exception") || line.contains("ERROR")) {
                    System.err.println("  [floor-" + name + "] " + line);
                }
            });
        }

        long get(String event) {
            Long value = events.get(event);
            if (value == null) {
                throw new IllegalStateException("floor-" + name + " did not report " + event + ": " + events);
            }
            return value;
        }

        void kill() throws InterruptedException {
            process.toHandle().destroyForcibly();
            process.waitFor(20, TimeUnit.SECONDS);
        }
    }

    private final PostgresServer server;
    private final Consumer<String> log;
    private final String java = ProcessHandle.current().info().command().orElse("java");
    private final String classPath = System.getProperty("java.class.path");

    Floors(PostgresServer server, Consumer<String> log) {
        this.server = server;
        this.log = log;
    }

    // ---- graceful ----

    Graceful graceful(int rounds) throws Exception {
        String channel = "floor-" + UUID.randomUUID().toString().substring(0, 8);
        String control = channel + "-control";
        long key = ThreadLocalRandom.current().nextLong();
        log.accept("graceful floor: the hot-standby handover in raw pgjdbc, two JVMs warmed with "
                + FloorInstance.WARM_UP_ROUNDS + " rounds of its statements, a notification every 2 ms, " + rounds
                + " rounds (and 2 unmeasured)");
        List<Double> cueToHandled = new ArrayList<>();
        List<Double> cueToLeader = new ArrayList<>();
        List<Double> cueToMarked = new ArrayList<>();
        List<Double> cueToMarkerRead = new ArrayList<>();
        List<Double> cueToReleased = new ArrayList<>();
        List<Double> releaseToGranted = new ArrayList<>();
        List<Double> releaseToLocked = new ArrayList<>();
        List<Double> releaseToRead = new ArrayList<>();
        List<Double> releaseToHandled = new ArrayList<>();
        List<Double> backlog = new ArrayList<>();
        int gaps = 0;
        List<Jvm> jvms = new ArrayList<>();
        try (Producer producer = new Producer(channel); Connection cues = server.connect()) {
            Jvm a = instance("A", channel, control, key);
            jvms.add(a);
            Benchmarks.await(Duration.ofSeconds(60), () -> a.events.containsKey("handled"));
            Jvm b = instance("B", channel, control, key);
            jvms.add(b);
            Benchmarks.await(Duration.ofSeconds(60), () -> b.events.containsKey("ready"));
            Jvm leader = a;
            Jvm standby = b;
            for (int round = -2; round < rounds; round++) {
                Jvm waiting = standby;
                Benchmarks.await(Duration.ofSeconds(30), () -> waitsForLock(cues, waiting.name));
                Thread.sleep(1500); // as in the failover benchmark: the standby waits, the leader reads
                leader.events.clear();
                standby.events.clear();
                long cue = micros();
                notify(cues, control, "cue " + round);
                Jvm old = leader;
                Benchmarks.await(Duration.ofSeconds(30), () -> waiting.events.containsKey("handled")
                        && old.events.containsKey("last-seq"));
                long release = leader.get("release");
                double handled = ms(cue, standby.get("handled"));
                boolean gap = standby.get("first-seq") != leader.get("last-seq") + 1
                        || standby.get("confirmed") != 1;
                log.accept(String.format(Locale.ROOT, "  floor graceful %s→%s: cue → handled %.2f ms [from the cue: "
                        + "the leader has it %.2f, its marker sent %.2f, read back %.2f, released %.2f; from the "
                        + "release call: the server grants the standby %.2f, the standby has the lock %.2f, has read "
                        + "its backlog of %d %.2f, handles %.2f]%s%s", leader.name, standby.name, handled,
                        ms(cue, leader.get("cue")), ms(cue, leader.get("marked")), ms(cue, leader.get("marker-read")),
                        ms(cue, leader.get("released")), ms(release, standby.get("granted")),
                        ms(release, standby.get("locked")), standby.get("backlog"), ms(release, standby.get("read")),
                        ms(release, standby.get("handled")),
                        gap ? String.format(Locale.ROOT, " NOT CONTINUOUS: the old leader handled up to n%d, the new "
                                + "one from n%d (confirmed marker: %d)", leader.get("last-seq"),
                                standby.get("first-seq"), standby.get("confirmed")) : "",
                        round < 0 ? " (unmeasured)" : ""));
                if (round >= 0) {
                    cueToHandled.add(handled);
                    cueToLeader.add(ms(cue, leader.get("cue")));
                    cueToMarked.add(ms(cue, leader.get("marked")));
                    cueToMarkerRead.add(ms(cue, leader.get("marker-read")));
                    cueToReleased.add(ms(cue, leader.get("released")));
                    releaseToGranted.add(ms(release, standby.get("granted")));
                    releaseToLocked.add(ms(release, standby.get("locked")));
                    releaseToRead.add(ms(release, standby.get("read")));
                    releaseToHandled.add(ms(release, standby.get("handled")));
                    backlog.add((double) standby.get("backlog"));
                    gaps += gap ? 1 : 0;
                }
                Jvm next = standby;
                standby = leader;
                leader = next;
            }
        } finally {
            for (Jvm jvm : jvms) {
                jvm.kill();
            }
        }
        return new Graceful(cueToHandled, cueToLeader, cueToMarked, cueToMarkerRead, cueToReleased,
                releaseToGranted, releaseToLocked, releaseToRead, releaseToHandled, backlog, gaps);
    }

    // ---- crash ----

    /**
     * @param oursCommand the command line of one of our instances, idle (its resident memory is what the victim
     *        touches), or {@code null} for a small victim
     */
    Crash crash(int rounds, List<String> oursCommand) throws Exception {
        double oursRssMb = 0;
        if (oursCommand != null) {
            oursRssMb = idleResidentMb(oursCommand);
        }
        long targetKb = (long) (oursRssMb * 1024);
        String channel = "floor-" + UUID.randomUUID().toString().substring(0, 8);
        String control = channel + "-control";
        long key = ThreadLocalRandom.current().nextLong();
        log.accept(String.format(Locale.ROOT, "crash floor: kill -9 of a victim JVM that holds the lock (%s) → a "
                + "warm raw waiter handles, a notification every 2 ms, %d rounds (and 1 unmeasured)",
                oursCommand == null ? "small" : String.format(Locale.ROOT, "resident %.0f MB like an idle instance "
                        + "of ours", oursRssMb), rounds));
        List<Double> killToGranted = new ArrayList<>();
        List<Double> killToLocked = new ArrayList<>();
        List<Double> killToRead = new ArrayList<>();
        List<Double> killToHandled = new ArrayList<>();
        List<Double> backlog = new ArrayList<>();
        List<Double> victimRss = new ArrayList<>();
        Jvm waiter = null;
        try (Producer producer = new Producer(channel); Connection cues = server.connect()) {
            Jvm w = instance("W", channel, control, key);
            waiter = w;
            Benchmarks.await(Duration.ofSeconds(60), () -> w.events.containsKey("handled"));
            for (int round = -1; round < rounds; round++) {
                Jvm victim = new Jvm("victim", new ProcessBuilder(java, "-Xmx64m",
                        "-XX:MaxDirectMemorySize=" + (targetKb / 1024 + 64) + "m", "-cp", classPath,
                        FloorInstance.class.getName(), "victim", server.jdbcUrl(), server.username(),
                        server.password(), channel, Long.toString(key), Long.toString(targetKb))
                        .redirectErrorStream(true).start());
                try {
                    Benchmarks.await(Duration.ofSeconds(60), () -> victim.events.containsKey("ready")
                            && waitsForLock(cues, "victim"));
                    // the waiter hands the lock to the victim and waits again
                    w.events.clear();
                    notify(cues, control, "cue " + round);
                    Benchmarks.await(Duration.ofSeconds(30), () -> victim.events.containsKey("leads")
                            && waitsForLock(cues, w.name));
                    Thread.sleep(1500); // as in the failover benchmark
                    w.events.clear();
                    long kill = micros();
                    victim.process.toHandle().destroyForcibly();
                    Benchmarks.await(Duration.ofSeconds(30), () -> w.events.containsKey("handled"));
                    double handled = ms(kill, w.get("handled"));
                    log.accept(String.format(Locale.ROOT, "  floor crash: kill -9 → handled %.2f ms [the server "
                            + "grants the waiter %.2f, the waiter has the lock %.2f, has read its backlog of %d %.2f], "
                            + "victim resident %d MB%s", handled, ms(kill, w.get("granted")),
                            ms(kill, w.get("locked")), w.get("backlog"), ms(kill, w.get("read")),
                            victim.get("ready") / 1024, round < 0 ? " (unmeasured)" : ""));
                    if (round >= 0) {
                        killToGranted.add(ms(kill, w.get("granted")));
                        killToLocked.add(ms(kill, w.get("locked")));
                        killToRead.add(ms(kill, w.get("read")));
                        killToHandled.add(handled);
                        backlog.add((double) w.get("backlog"));
                        victimRss.add(victim.get("ready") / 1024.0);
                    }
                } finally {
                    victim.kill();
                }
            }
        } finally {
            if (waiter != null) {
                waiter.kill();
            }
        }
        return new Crash(killToGranted, killToLocked, killToRead, killToHandled, backlog, oursRssMb,
                Stats.median(victimRss));
    }

    /** Resident memory of an idle instance of ours: 10 s after it is ready, as in the footprint figure. */
    private double idleResidentMb(List<String> command) throws Exception {
        try (Fleet fleet = new Fleet(name -> command)) {
            Fleet.Instance instance = fleet.start("rss");
            Benchmarks.await(Duration.ofSeconds(120), () -> instance.ready);
            Thread.sleep(10_000);
            for (String line : Files.readAllLines(Path.of("/proc/" + instance.process.pid() + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring("VmRSS:".length()).replace("kB", "").trim()) / 1024.0;
                }
            }
            throw new IllegalStateException("no VmRSS for " + instance.process.pid());
        }
    }

    // ---- helpers ----

    private Jvm instance(String name, String channel, String control, long key) throws IOException {
        long warmKey = ThreadLocalRandom.current().nextLong();
        return new Jvm(name, new ProcessBuilder(java, "-Xmx64m",
                "-Dbench.floor-read=" + System.getProperty("bench.floor-read", "pgjdbc"), "-cp", classPath,
                FloorInstance.class.getName(),
                "instance", server.jdbcUrl(), server.username(), server.password(), channel, control,
                Long.toString(key), name, Long.toString(warmKey)).redirectErrorStream(true).start());
    }

    /** Whether the session of the named floor JVM waits for an advisory lock. */
    private static boolean waitsForLock(Connection connection, String name) {
        try (PreparedStatement statement = connection.prepareStatement("SELECT count(*) FROM pg_stat_activity "
                + "WHERE application_name = ? AND wait_event_type = 'Lock' AND wait_event = 'advisory'")) {
            statement.setString(1, "floor-" + name);
            try (ResultSet result = statement.executeQuery()) {
                result.next();
                return result.getInt(1) == 1;
            }
        } catch (SQLException ex) {
            throw new IllegalStateException(ex);
        }
    }

    /** A notification {@code n<sequence>} every 2 ms on its own connection, until closed. */
    private final class Producer implements AutoCloseable {
        private final AtomicBoolean publishing = new AtomicBoolean(true);
        private final AtomicLong sequence = new AtomicLong();
        private final Thread thread;

        Producer(String channel) {
            thread = new Thread(() -> {
                try (Connection publisher = server.connect();
                        PreparedStatement statement = publisher.prepareStatement("SELECT pg_notify(?, ?)")) {
                    statement.setString(1, channel);
                    long next = System.nanoTime();
                    while (publishing.get()) {
                        statement.setString(2, "n" + sequence.getAndIncrement());
                        statement.execute();
                        next += 2_000_000;
                        LockSupport.parkNanos(next - System.nanoTime());
                    }
                } catch (SQLException ex) {
                    log.accept("floor producer failed: " + ex);
                }
            }, "floor-producer");
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            publishing.set(false);
            thread.join(10_000);
        }
    }

    private static void notify(Connection connection, String channel, String payload) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement("SELECT pg_notify(?, ?)")) {
            statement.setString(1, channel);
            statement.setString(2, payload);
            statement.execute();
        }
    }

    /** From one epoch-micros moment to another, in ms. */
    private static double ms(long from, long to) {
        return (to - from) / 1000.0;
    }

    private static long micros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000 + now.getNano() / 1000;
    }
}
