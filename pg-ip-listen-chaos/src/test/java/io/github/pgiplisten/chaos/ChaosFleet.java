package io.github.pgiplisten.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.awaitility.core.ConditionTimeoutException;
import org.jspecify.annotations.Nullable;

import io.github.pgiplisten.core.PgListenEngine;
import io.github.pgiplisten.core.PgListenOptions;
import io.github.pgiplisten.testsupport.EpochMicros;
import io.github.pgiplisten.testsupport.InstanceEvent;
import io.github.pgiplisten.testsupport.InstanceJvm;
import io.github.pgiplisten.testsupport.PostgresServer;
import io.github.pgiplisten.testsupport.SilentProxy;

/**
 * The instances under test, each a {@link ChaosInstance} in its own JVM connecting through its own
 * {@link SilentProxy}, and everything they report: who handled which number when, and their events. A fleet made
 * with a durable schema runs its instances in durable mode: what they handled is in the effect table, and what they
 * report of it ({@link Member#durable}) only says who wrote an effect when, committed or not.
 */
final class ChaosFleet implements AutoCloseable {

    /** A notification handled by {@code member} at {@code micros}. */
    record Handling(Member member, long micros) {

        /**
         * In which of its leaderships (1, 2, …) the member handled it: by the times of its leader events, which are
         * taken before it handles anything (its report lines may arrive in another order).
         */
        int term() {
            return (int) member.events.stream()
                    .filter(event -> event.kind().equals("leader") && event.micros() <= micros)
                    .count();
        }
    }

    /**
     * One leadership of a member, from its leader event until it was revoked, died, or a fault cut it off; whether it
     * began with a handover, and how many notifications it said it might handle again (at-least-once after a crash).
     */
    record Term(Member member, int index, long start, long end, boolean handedOver, int possibleRepeats) {

        String name() {
            return member + "#" + index;
        }
    }

    /** An instance and what it reported; {@link #event} runs on the harness's reader thread. */
    final class Member implements InstanceJvm.Output {
        final String name;
        final InstanceJvm jvm;
        final @Nullable SilentProxy proxy;
        /**
         * Its engine events (connected, standby, leader, revoked, disconnected, reconnected), in the order it reported
         * them.
         */
        final List<InstanceEvent> events = new CopyOnWriteArrayList<>();

        final List<Long> handledInOrder = new CopyOnWriteArrayList<>();
        final LinkedBlockingQueue<long[]> threadAnswers = new LinkedBlockingQueue<>();
        final Deque<String> log = new ArrayDeque<>();
        final List<Long> cuts = new CopyOnWriteArrayList<>();
        /** Payloads its handler was told to be slow on, as it began. */
        final List<String> slowOn = new CopyOnWriteArrayList<>();
        /** Durable mode: {number, message id, epoch micros} of each effect its handler wrote, committed or not. */
        final ConcurrentLinkedQueue<long[]> durable = new ConcurrentLinkedQueue<>();

        volatile int backendPid;
        volatile boolean booted;
        volatile long killedAt = Long.MAX_VALUE;
        volatile long @Nullable [] baselineThreads;

        Member(String name, InstanceJvm.Launch launch, @Nullable SilentProxy proxy) throws IOException {
            this.name = name;
            this.proxy = proxy;
            this.jvm = launch.start(this);
        }

        @Override
        public void event(InstanceEvent event) {
            switch (event.kind()) {
                case "handled" -> {
                    long n = Long.parseLong(event.detail().substring(1));
                    handledInOrder.add(n);
                    Handling handling = new Handling(this, event.micros());
                    // never an empty list in the map: the suite reads it while instances report
                    handled.merge(n, new CopyOnWriteArrayList<>(List.of(handling)), (had, more) -> {
                        had.add(handling);
                        return had;
                    });
                }
                case "slow" -> slowOn.add(event.detail());
                case "durable" -> {
                    String[] parts = event.detail().split(" ");
                    durable.add(
                            new long[] {Long.parseLong(parts[0].substring(1)), Long.parseLong(parts[1]), event.micros()
                            });
                }
                case "booted" -> booted = true;
                case "threads" -> {
                    String[] counts = event.detail().split(" ");
                    threadAnswers.add(new long[] {Long.parseLong(counts[0]), Long.parseLong(counts[1])});
                }
                default -> {
                    if (event.kind().equals("connected")) {
                        backendPid = Integer.parseInt(event.detail());
                    }
                    events.add(event);
                }
            }
        }

        /** Its log (stderr): the last 300 lines, shown when a check fails. */
        @Override
        public synchronized void errorLine(String line) {
            log.addLast(line);
            if (log.size() > 300) {
                log.removeFirst();
            }
        }

        boolean alive() {
            return jvm.isAlive() && killedAt == Long.MAX_VALUE;
        }

        /** Leads now, by its own report: its last leader/revoked/disconnected event is a leader one. */
        boolean leads() {
            String last = null;
            for (InstanceEvent event : events) {
                String kind = event.kind();
                if (kind.equals("leader") || kind.equals("revoked") || kind.equals("disconnected")) {
                    last = event.kind();
                }
            }
            return alive() && "leader".equals(last);
        }

        boolean connected() {
            String last = null;
            for (InstanceEvent event : events) {
                if (event.kind().equals("connected") || event.kind().equals("disconnected")) {
                    last = event.kind();
                }
            }
            return alive() && "connected".equals(last);
        }

        List<InstanceEvent> eventsAfter(long micros, String kind) {
            return events.stream()
                    .filter(e -> e.micros() > micros && e.kind().equals(kind))
                    .toList();
        }

        /** Its leaderships, each ending at the first of: its revoked/disconnected event, a fault cut, its death. */
        List<Term> terms() {
            List<Term> terms = new ArrayList<>();
            long start = -1;
            String[] leader = {};
            int index = 0;
            for (InstanceEvent event : events) {
                if (event.kind().equals("leader")) {
                    start = event.micros();
                    leader = event.detail().split(" ");
                    index++;
                } else if ((event.kind().equals("revoked") || event.kind().equals("disconnected")) && start >= 0) {
                    terms.add(new Term(
                            this,
                            index,
                            start,
                            cut(start, event.micros()),
                            Boolean.parseBoolean(leader[0]),
                            Integer.parseInt(leader[1])));
                    start = -1;
                }
            }
            if (start >= 0) {
                terms.add(new Term(
                        this,
                        index,
                        start,
                        cut(start, Long.MAX_VALUE),
                        Boolean.parseBoolean(leader[0]),
                        Integer.parseInt(leader[1])));
            }
            return terms;
        }

        private long cut(long start, long end) {
            long cutAt = Math.min(end, killedAt);
            for (long cut : cuts) {
                if (cut >= start) {
                    cutAt = Math.min(cutAt, cut);
                }
            }
            return cutAt;
        }

        /** Keeps its handler busy with the next notification for {@code millis}, or until {@link #release()}. */
        void busyOnNext(long millis) throws IOException {
            jvm.send("slow " + millis);
        }

        /** Starts the engine of an instance started with {@link ChaosFleet#boot()}. */
        void startEngine() throws IOException {
            jvm.send("start");
        }

        /** Asks its engine for a switchover (see {@code ChaosInstance}: it prints the answer as {@code switchover}). */
        void switchover() throws IOException {
            jvm.send("switchover");
        }

        /** Ends the handler's busy spell at once. */
        void release() throws IOException {
            jvm.send("release");
        }

        /** When it first reported listening and waiting for the lock (epoch micros), or 0. */
        long standingBySince() {
            return events.stream()
                    .filter(event -> event.kind().equals("standby"))
                    .mapToLong(InstanceEvent::micros)
                    .findFirst()
                    .orElse(0);
        }

        /** This library's threads and all threads in the instance's JVM. */
        long[] threads() throws IOException, InterruptedException {
            threadAnswers.clear();
            jvm.send("threads");
            long[] answer = threadAnswers.poll(10, TimeUnit.SECONDS);
            if (answer == null) {
                throw new IllegalStateException(name + " did not answer 'threads'");
            }
            return answer;
        }

        synchronized String logTail() {
            return String.join("\n", log);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    final PostgresServer server;
    final String group;
    final String channel;
    /** The schema of the durable tables in durable mode, else null. */
    final @Nullable String durableSchema;

    final Map<Long, List<Handling>> handled = new ConcurrentHashMap<>();
    final List<Member> members = new CopyOnWriteArrayList<>();
    private int started;
    private @Nullable Connection admin;

    ChaosFleet(PostgresServer server, String group, String channel) {
        this(server, group, channel, null);
    }

    /** With a schema, a fleet in durable mode (see {@link ChaosInstance}): {@code channel} is a durable channel. */
    ChaosFleet(PostgresServer server, String group, String channel, @Nullable String durableSchema) {
        this.server = server;
        this.group = group;
        this.channel = channel;
        this.durableSchema = durableSchema;
    }

    Member start() throws IOException {
        return launch(false);
    }

    /**
     * An instance whose JVM is up but whose engine starts only at {@link Member#startEngine()}: for an engine that
     * must start at a given moment, not a JVM's start-up later.
     */
    Member boot() throws IOException {
        Member member = launch(true);
        await().atMost(Duration.ofSeconds(60)).until(() -> member.booted);
        return member;
    }

    private Member launch(boolean startOnCommand) throws IOException {
        String name = "chaos-" + group.substring(group.length() - 4) + "-" + (++started);
        // a proxy per instance for the silent-network scenario; not in front of a multi-host URL (a failover pair)
        boolean oneHost = !server.jdbcUrl()
                .substring("jdbc:postgresql://".length())
                .split("/")[0]
                .contains(",");
        SilentProxy proxy = oneHost ? SilentProxy.before(server.jdbcUrl()) : null;
        List<String> arguments = new ArrayList<>(List.of(
                proxy != null ? proxy.proxiedUrl(server.jdbcUrl()) : server.jdbcUrl(),
                server.username(),
                server.password(),
                group,
                channel,
                name));
        if (durableSchema != null) {
            arguments.add(durableSchema);
            // every other instance reads with a batch handler: whichever leads, under every fault, both kinds do
            arguments.add(started % 2 == 0 ? "batch" : "one-by-one");
        }
        InstanceJvm.Launch launch = InstanceJvm.launch(name)
                .jvmOptions("-Xmx96m", "-XX:+UseSerialGC")
                .systemProperty("logback.configurationFile", "chaos-instance-logback.xml")
                .systemProperty("chaos.instance.level", System.getProperty("chaos.instance.level", "INFO"))
                .systemProperty("chaos.startOnCommand", String.valueOf(startOnCommand))
                // HOT_STANDBYS=1 ./run-chaos …: a fleet of three is then a leader, a hot and a cold standby
                .systemProperty(
                        "chaos.hotStandbys",
                        System.getProperty("chaos.hot-standbys", String.valueOf(PgListenOptions.DEFAULT_HOT_STANDBYS)))
                .mainClass(ChaosInstance.class)
                .arguments(arguments);
        Member member = new Member(name, launch, proxy);
        members.add(member);
        return member;
    }

    /** Waits until exactly one live instance leads and holds the lock, by {@code pg_locks}; returns it. */
    Member awaitOneLeader() {
        Member[] leader = new Member[1];
        await().atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(50))
                .ignoreExceptions()
                .untilAsserted(() -> {
                    List<Member> leaders = leaders();
                    assertThat(leaders).as("instances that lead").hasSize(1);
                    assertThat(lockHolders())
                            .as("sessions holding the lock")
                            .containsExactly(leaders.get(0).backendPid);
                    leader[0] = leaders.get(0);
                });
        return leader[0];
    }

    /** How many of the numbers {@code from} (inclusive) to {@code to} (exclusive) committed and nobody handled. */
    long committedUnhandled(Producer producer, long from, long to) {
        long count = 0;
        for (long n = Math.max(0, from); n < to; n++) {
            Producer.Sent sent = producer.get(n);
            if (sent != null && sent.outcome() == Producer.Outcome.COMMITTED && !handled.containsKey(n)) {
                count++;
            }
        }
        return count;
    }

    /** Every member's events and the tail of its log, when a check failed. */
    void printEventsAndLogs() {
        for (Member member : members) {
            System.out.printf(
                    "---- %s (%s), events %s, log:%n%s%n",
                    member, member.alive() ? "alive" : "dead", member.events, member.logTail());
        }
    }

    List<Member> alive() {
        return members.stream().filter(Member::alive).toList();
    }

    List<Member> leaders() {
        return members.stream().filter(Member::leads).toList();
    }

    /** SIGKILL, of several at the same moment; what they reported before is still read (see {@link #stop}). */
    void kill(Member... members) {
        long now = EpochMicros.now();
        for (Member member : members) {
            member.killedAt = now;
            member.jvm.kill();
        }
        for (Member member : members) {
            try {
                member.jvm.awaitExit(Duration.ofSeconds(10));
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            closeProxy(member);
        }
    }

    /** SIGTERM: the instance hands over and exits; what it reports meanwhile is still read. */
    void stop(Member... members) throws InterruptedException {
        for (Member member : members) {
            member.jvm.terminate();
        }
        awaitExit(members);
    }

    /** Waits until instances sent SIGTERM ({@code member.jvm.terminate()}) have exited. */
    void awaitExit(Member... members) throws InterruptedException {
        for (Member member : members) {
            if (!member.jvm.awaitExit(Duration.ofSeconds(30))) {
                throw new IllegalStateException(member + " did not exit within 30 s of SIGTERM:\n" + member.logTail());
            }
            // a leadership ends at the latest when its process does (its own "revoked" event comes first)
            member.killedAt = Math.min(member.killedAt, EpochMicros.now());
            closeProxy(member);
        }
    }

    private static void closeProxy(Member member) {
        if (member.proxy != null) {
            member.proxy.close();
        }
    }

    /** Backend pids holding the group's election lock, by the server's own account. */
    List<Integer> lockHolders() throws SQLException {
        return onLock(true);
    }

    /** Backend pids waiting for the group's election lock, the longest waiting first: the order it is granted in. */
    List<Integer> lockQueue() throws SQLException {
        return onLock(false);
    }

    /**
     * Waits, at most {@code atMost}, until one of {@code members} moves to the front of the lock's queue; whether one
     * did. Under traffic a standby waits for the lock 100-500 ms at a time, then queues again at the end, so the one
     * first in line changes several times a second, and the one that just moved to the front has the most of its
     * wait still ahead of it: a release or a kill now reaches the server while it is still first.
     */
    boolean awaitFirstInLockQueue(List<Member> members, Duration atMost) {
        List<Integer> pids = members.stream().map(member -> member.backendPid).toList();
        int[] firstBefore = {0};
        try {
            await().atMost(atMost).pollInterval(Duration.ofMillis(2)).until(() -> {
                List<Integer> queue = lockQueue();
                int first = queue.isEmpty() ? 0 : queue.get(0);
                boolean movedUp = pids.contains(first) && firstBefore[0] != 0 && !pids.contains(firstBefore[0]);
                firstBefore[0] = first;
                return movedUp;
            });
            return true;
        } catch (ConditionTimeoutException ex) {
            return false;
        }
    }

    private synchronized List<Integer> onLock(boolean granted) throws SQLException {
        try (PreparedStatement statement = admin().prepareStatement("SELECT pid FROM pg_locks "
                + "WHERE locktype = 'advisory' AND granted = ? AND objsubid = 1 "
                + "AND ((classid::bigint << 32) | objid::bigint) = ? ORDER BY waitstart NULLS LAST")) {
            statement.setBoolean(1, granted);
            statement.setLong(2, PgListenEngine.lockKey(group));
            List<Integer> pids = new ArrayList<>();
            try (ResultSet rows = statement.executeQuery()) {
                while (rows.next()) {
                    pids.add(rows.getInt(1));
                }
            }
            return pids;
        }
    }

    /** Sessions of the fleet's instances' engines open on the server (not their durable pools'). */
    synchronized int sessions() throws SQLException {
        try (PreparedStatement statement = admin().prepareStatement("SELECT count(*) FROM pg_stat_activity"
                + " WHERE application_name LIKE ? AND application_name NOT LIKE '%/durable'")) {
            statement.setString(1, "chaos-" + group.substring(group.length() - 4) + "-%");
            try (ResultSet rows = statement.executeQuery()) {
                rows.next();
                return rows.getInt(1);
            }
        }
    }

    /**
     * Ends every session of the fleet in one statement (in durable mode their pools' too), or only the one of
     * {@code pid} when it is positive; returns how many. Runs on a connection opened beforehand, so that the fault happens right after {@link EpochMicros#now()}
     * taken before the call, not after a connection set-up.
     */
    synchronized int terminate(int pid) throws SQLException {
        try (PreparedStatement statement = admin().prepareStatement("SELECT count(pg_terminate_backend(pid)) "
                + "FROM pg_stat_activity WHERE application_name LIKE ? AND (? <= 0 OR pid = ?)")) {
            statement.setString(1, "chaos-" + group.substring(group.length() - 4) + "-%");
            statement.setInt(2, pid);
            statement.setInt(3, pid);
            try (ResultSet rows = statement.executeQuery()) {
                rows.next();
                return rows.getInt(1);
            }
        }
    }

    /**
     * The suite's own session, opened once (and again after a server restart): a new session per check would fork a
     * backend each time, load the machine while the fleet recovers.
     */
    private Connection admin() throws SQLException {
        if (admin == null || !admin.isValid(1)) {
            if (admin != null) {
                admin.close();
            }
            admin = server.connect();
        }
        return admin;
    }

    /** A query on the suite's own session (see {@link #admin()}), e.g. of a durable fleet's effect table. */
    synchronized <T> T query(SqlQuery<T> query) throws SQLException {
        return query.run(admin());
    }

    @FunctionalInterface
    interface SqlQuery<T> {
        T run(Connection connection) throws SQLException;
    }

    /** Opens the connection {@link #terminate} uses, ahead of the fault. */
    void prepareTerminate() throws SQLException {
        terminate(Integer.MAX_VALUE);
    }

    @Override
    public void close() throws InterruptedException {
        try {
            if (admin != null) {
                admin.close();
            }
        } catch (SQLException ex) {
            // the server went away
        }
        for (Member member : members) {
            member.jvm.kill();
        }
        for (Member member : members) {
            member.jvm.close();
            closeProxy(member);
        }
    }
}
