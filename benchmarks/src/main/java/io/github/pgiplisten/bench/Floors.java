package io.github.pgiplisten.bench;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.function.Function;

import org.jspecify.annotations.Nullable;

import io.github.pgiplisten.testsupport.Await;
import io.github.pgiplisten.testsupport.EpochMicros;
import io.github.pgiplisten.testsupport.InstanceJvm;
import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * What this machine and PostgreSQL cost for a takeover with no library code at all: {@link FloorInstance} JVMs,
 * warmed before they are measured, doing the hot-standby protocol (graceful floor) or taking the lock from a killed
 * victim JVM as large as ours (crash floor). A notification every 2 ms throughout, as in the failover benchmark.
 */
final class Floors {

    /** The graceful floor, per measured round, in ms. */
    record Graceful(
            List<Double> cueToHandled,
            List<Double> cueToLeader,
            List<Double> cueToMarked,
            List<Double> cueToMarkerRead,
            List<Double> cueToReleased,
            List<Double> releaseToGranted,
            List<Double> releaseToLocked,
            List<Double> releaseToRead,
            List<Double> releaseToHandled,
            List<Double> backlog,
            int gaps) {}

    /**
     * The crash floor, per measured round, in ms; resident sizes in MB; the server sessions an idle instance of ours
     * holds (its listen connection, and any its application opened), which the victim holds as well.
     */
    record Crash(
            List<Double> killToGranted,
            List<Double> killToLocked,
            List<Double> killToRead,
            List<Double> killToHandled,
            List<Double> backlog,
            double oursRssMb,
            double victimRssMb,
            int sessions) {}

    /** An idle instance of ours: its resident memory, and the server sessions it holds. */
    private record Idle(double rssMb, int sessions) {}

    private final PostgresServer server;
    private final Consumer<String> log;

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
        List<FloorJvm> jvms = new ArrayList<>();
        try (Notifications.Steady producer = steady(channel);
                Connection cues = server.connect()) {
            FloorJvm a = instance("A", channel, control, key);
            jvms.add(a);
            Await.until("floor-A has handled", Duration.ofSeconds(60), () -> a.has("handled"));
            FloorJvm b = instance("B", channel, control, key);
            jvms.add(b);
            Await.until("floor-B is ready", Duration.ofSeconds(60), () -> b.has("ready"));
            FloorJvm leader = a;
            FloorJvm standby = b;
            for (int round = -2; round < rounds; round++) {
                FloorJvm waiting = standby;
                Await.until(
                        "the standby waits for the lock",
                        Duration.ofSeconds(30),
                        () -> waitsForLock(cues, waiting.name));
                Thread.sleep(1500); // as in the failover benchmark: the standby waits, the leader reads
                leader.events.clear();
                standby.events.clear();
                long cue = EpochMicros.now();
                Notifications.send(cues, control, "cue " + round);
                FloorJvm old = leader;
                Await.until(
                        "the takeover is reported",
                        Duration.ofSeconds(30),
                        () -> waiting.has("handled") && old.has("last-seq"));
                long release = leader.get("release");
                double handled = ms(cue, standby.get("handled"));
                boolean gap =
                        standby.count("first-seq") != leader.count("last-seq") + 1 || standby.count("confirmed") != 1;
                log.accept(String.format(
                        Locale.ROOT,
                        "  floor graceful %s→%s: cue → handled %.2f ms [from the cue: "
                                + "the leader has it %.2f, its marker sent %.2f, read back %.2f, released %.2f; from the "
                                + "release call: the server grants the standby %.2f, the standby has the lock %.2f, has read "
                                + "its backlog of %d %.2f, handles %.2f]%s%s",
                        leader.name,
                        standby.name,
                        handled,
                        ms(cue, leader.get("cue")),
                        ms(cue, leader.get("marked")),
                        ms(cue, leader.get("marker-read")),
                        ms(cue, leader.get("released")),
                        ms(release, standby.get("granted")),
                        ms(release, standby.get("locked")),
                        standby.count("backlog"),
                        ms(release, standby.get("read")),
                        ms(release, standby.get("handled")),
                        gap
                                ? String.format(
                                        Locale.ROOT,
                                        " NOT CONTINUOUS: the old leader handled up to n%d, the new "
                                                + "one from n%d (confirmed marker: %d)",
                                        leader.count("last-seq"),
                                        standby.count("first-seq"),
                                        standby.count("confirmed"))
                                : "",
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
                    backlog.add((double) standby.count("backlog"));
                    gaps += gap ? 1 : 0;
                }
                FloorJvm next = standby;
                standby = leader;
                leader = next;
            }
        } finally {
            for (FloorJvm jvm : jvms) {
                jvm.jvm.close();
            }
        }
        return new Graceful(
                cueToHandled,
                cueToLeader,
                cueToMarked,
                cueToMarkerRead,
                cueToReleased,
                releaseToGranted,
                releaseToLocked,
                releaseToRead,
                releaseToHandled,
                backlog,
                gaps);
    }

    // ---- crash ----

    /**
     * @param ours how to start one of our instances, idle (its resident memory is what the victim touches, its server
     *        sessions what the victim holds: a killed application's sessions all end at once, and the server's CPU
     *        for their ends is part of what a takeover waits for), or {@code null} for a small victim
     */
    Crash crash(int rounds, @Nullable Function<String, InstanceJvm.Launch> ours) throws Exception {
        Idle idle = ours != null ? idleInstance(ours) : new Idle(0, 1);
        double oursRssMb = idle.rssMb();
        long targetKb = (long) (oursRssMb * 1024);
        String channel = "floor-" + UUID.randomUUID().toString().substring(0, 8);
        String control = channel + "-control";
        long key = ThreadLocalRandom.current().nextLong();
        log.accept(String.format(
                Locale.ROOT,
                "crash floor: kill -9 of a victim JVM that holds the lock (%s) → a "
                        + "warm raw waiter handles, a notification every 2 ms, %d rounds (and 1 unmeasured)",
                ours == null
                        ? "small"
                        : String.format(
                                Locale.ROOT,
                                "resident %.0f MB and %d server sessions like an idle instance of ours",
                                oursRssMb,
                                idle.sessions()),
                rounds));
        List<Double> killToGranted = new ArrayList<>();
        List<Double> killToLocked = new ArrayList<>();
        List<Double> killToRead = new ArrayList<>();
        List<Double> killToHandled = new ArrayList<>();
        List<Double> backlog = new ArrayList<>();
        List<Double> victimRss = new ArrayList<>();
        FloorJvm waiter = null;
        try (Notifications.Steady producer = steady(channel);
                Connection cues = server.connect()) {
            FloorJvm w = instance("W", channel, control, key);
            waiter = w;
            Await.until("the waiter is warm", Duration.ofSeconds(60), () -> w.has("handled"));
            for (int round = -1; round < rounds; round++) {
                FloorJvm victim = new FloorJvm(
                        "victim",
                        InstanceJvm.launch("floor-victim")
                                .jvmOptions("-Xmx64m", "-XX:MaxDirectMemorySize=" + (targetKb / 1024 + 64) + "m")
                                .mainClass(FloorInstance.class)
                                .arguments(
                                        "victim",
                                        server.jdbcUrl(),
                                        server.username(),
                                        server.password(),
                                        channel,
                                        Long.toString(key),
                                        Long.toString(targetKb),
                                        Integer.toString(idle.sessions())));
                try {
                    Await.until(
                            "the victim waits for the lock",
                            Duration.ofSeconds(60),
                            () -> victim.has("ready") && waitsForLock(cues, "victim"));
                    // the waiter hands the lock to the victim and waits again
                    w.events.clear();
                    Notifications.send(cues, control, "cue " + round);
                    Await.until(
                            "the victim leads",
                            Duration.ofSeconds(30),
                            () -> victim.has("leads") && waitsForLock(cues, w.name));
                    Thread.sleep(1500); // as in the failover benchmark
                    w.events.clear();
                    long kill = EpochMicros.now();
                    victim.jvm.kill();
                    Await.until("the waiter handles", Duration.ofSeconds(30), () -> w.has("handled"));
                    double handled = ms(kill, w.get("handled"));
                    log.accept(String.format(
                            Locale.ROOT,
                            "  floor crash: kill -9 → handled %.2f ms [the server "
                                    + "grants the waiter %.2f, the waiter has the lock %.2f, has read its backlog of %d %.2f], "
                                    + "victim resident %d MB%s",
                            handled,
                            ms(kill, w.get("granted")),
                            ms(kill, w.get("locked")),
                            w.count("backlog"),
                            ms(kill, w.get("read")),
                            victim.count("ready") / 1024,
                            round < 0 ? " (unmeasured)" : ""));
                    if (round >= 0) {
                        killToGranted.add(ms(kill, w.get("granted")));
                        killToLocked.add(ms(kill, w.get("locked")));
                        killToRead.add(ms(kill, w.get("read")));
                        killToHandled.add(handled);
                        backlog.add((double) w.count("backlog"));
                        victimRss.add(victim.count("ready") / 1024.0);
                    }
                } finally {
                    victim.jvm.close();
                }
            }
        } finally {
            if (waiter != null) {
                waiter.jvm.close();
            }
        }
        return new Crash(
                killToGranted,
                killToLocked,
                killToRead,
                killToHandled,
                backlog,
                oursRssMb,
                Stats.median(victimRss),
                idle.sessions());
    }

    /**
     * Resident memory of an idle instance of ours, 10 s after it is ready as in the footprint figure, and the server
     * sessions it opened (its listen connection; and whatever else it holds, as the ten of a started pool did).
     */
    private Idle idleInstance(Function<String, InstanceJvm.Launch> ours) throws Exception {
        try (Connection counter = server.connect();
                Fleet fleet = new Fleet(ours)) {
            int before = clientSessions(counter);
            Fleet.Instance instance = fleet.start("rss");
            Await.until("an instance of ours is ready", Duration.ofSeconds(120), () -> instance.ready);
            Thread.sleep(10_000);
            return new Idle(
                    ProcessStats.residentKb(instance.jvm.pid()) / 1024.0,
                    Math.max(1, clientSessions(counter) - before));
        }
    }

    private static int clientSessions(Connection connection) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(
                        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'");
                ResultSet result = statement.executeQuery()) {
            result.next();
            return result.getInt(1);
        }
    }

    // ---- helpers ----

    private FloorJvm instance(String name, String channel, String control, long key) throws IOException {
        long warmKey = ThreadLocalRandom.current().nextLong();
        return new FloorJvm(
                name,
                InstanceJvm.launch("floor-" + name)
                        .jvmOptions("-Xmx64m")
                        .systemProperty("bench.floor-read", System.getProperty("bench.floor-read", "pgjdbc"))
                        .mainClass(FloorInstance.class)
                        .arguments(
                                "instance",
                                server.jdbcUrl(),
                                server.username(),
                                server.password(),
                                channel,
                                control,
                                Long.toString(key),
                                name,
                                Long.toString(warmKey)));
    }

    /** A notification every 2 ms, as in the failover benchmark. */
    private Notifications.Steady steady(String channel) {
        return new Notifications.Steady(
                server, channel, Duration.ofMillis(2), null, line -> log.accept("floor " + line));
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

    private static double ms(long fromMicros, long toMicros) {
        return EpochMicros.millisBetween(fromMicros, toMicros);
    }
}
