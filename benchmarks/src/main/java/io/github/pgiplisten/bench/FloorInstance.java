package io.github.pgiplisten.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Properties;

import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.core.BaseConnection;

import io.github.pgiplisten.testsupport.EpochMicros;
import io.github.pgiplisten.testsupport.InstanceEvent;

/**
 * The hot-standby takeover with nothing of the library: raw pgjdbc statements in a JVM of its own, so that the
 * benchmark can tell what this machine and PostgreSQL cost for a takeover anyway (the floor) and how much is ours.
 * Only {@code java.*}, pgjdbc and the fleet harness's line format are used here: no library code.
 *
 * <p>Mode {@code instance} (arguments: instance url user password channel control key name warmKey): one connection
 * LISTENs the channel and the control channel, then, warm (see {@link #warmUp}), loops for ever:
 * <ol>
 * <li>standby: {@code SELECT pg_advisory_lock(key)} blocks; the server queues notifications meanwhile and sends them
 * with the lock's result. The backlog names the predecessor's last marker {@code mark H} followed by its
 * {@code done H}: the new holder handles the first notification after {@code mark H}; without a confirmed marker (the
 * predecessor crashed) it handles its whole backlog (at-least-once);</li>
 * <li>leader: handles (here: takes the sequence number of) every notification until the harness notifies
 * {@code cue H} on the control channel;</li>
 * <li>handover: {@code SELECT pg_notify(control, 'mark H')}, reads and handles until its own {@code mark H}, then in
 * one round trip {@code BEGIN; SELECT pg_notify(control, 'done H'); COMMIT; SELECT pg_advisory_unlock(key)}; drops
 * what it has read past its marker (the successor's) and goes back to 1.</li>
 * </ol>
 * The takeover's and the handover's moments (epoch micros) and counts are printed as {@link InstanceEvent} lines only
 * after each of them is over, so printing never delays the measured path: a moment as the event's time, a count as
 * its detail.
 *
 * <p>Mode {@code victim} (arguments: victim url user password channel key rssKb sessions): connects and LISTENs, opens
 * idle connections until it has {@code sessions}, touches memory until its resident set is {@code rssKb}, then waits
 * for the lock and leads, reading every notification, until it is killed.
 */
public final class FloorInstance {

    /** Rounds of the very same statements, on a key and a control channel of its own, before the instance is ready. */
    static final int WARM_UP_ROUNDS = 2000;

    /**
     * {@code -Dbench.floor-read=buffered}: after the lock wait, take the notifications that came with its result from
     * pgjdbc's buffer (an internal API) instead of {@code getNotifications()}, which then waits up to 1 ms for more on
     * the socket (pgjdbc 42.7's {@code PGStream.hasMessagePending}). Shows what that wait costs.
     */
    private static final boolean BUFFERED_READ = "buffered".equals(System.getProperty("bench.floor-read"));

    private static final List<ByteBuffer> RESIDENT = new ArrayList<>();

    /** A victim's sessions besides its listen connection, as many as an idle instance of ours holds. */
    private static final List<Connection> IDLE_SESSIONS = new ArrayList<>();

    private final Statement statement;
    private final PGConnection pg;
    private final int pid;
    private final String channel;
    private final Deque<PGNotification> pending = new ArrayDeque<>();
    /** What the "listener" saw last: the sequence number of the latest handled notification. */
    private long lastHandled = -1;

    private FloorInstance(Connection connection, String channel) throws SQLException {
        this.statement = connection.createStatement();
        this.pg = connection.unwrap(PGConnection.class);
        this.pid = pg.getBackendPID();
        this.channel = channel;
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        Properties properties = new Properties();
        properties.setProperty("user", args[2]);
        properties.setProperty("password", args[3]);
        String channel = args[4];
        if (mode.equals("victim")) {
            long key = Long.parseLong(args[5]);
            long rssKb = Long.parseLong(args[6]);
            int sessions = Integer.parseInt(args[7]);
            properties.setProperty("ApplicationName", "floor-victim");
            FloorInstance victim = new FloorInstance(DriverManager.getConnection(args[1], properties), channel);
            for (int idle = 1; idle < sessions; idle++) { // as an application's pool: open, idle, ended by the kill
                IDLE_SESSIONS.add(DriverManager.getConnection(args[1], properties));
            }
            victim.run("LISTEN " + quote(channel));
            touchUntilResident(rssKb);
            count("ready", residentKb());
            victim.lockWait(key);
            moment("leads", micros());
            while (true) {
                victim.handle(victim.next());
            }
        }
        String control = args[5];
        long key = Long.parseLong(args[6]);
        String name = args[7];
        long warmKey = Long.parseLong(args[8]);
        properties.setProperty("ApplicationName", "floor-" + name);
        FloorInstance instance = new FloorInstance(DriverManager.getConnection(args[1], properties), channel);
        instance.run("LISTEN " + quote(channel) + "; LISTEN " + quote(control));
        instance.warmUp(control + "-warm-" + name, warmKey);
        moment("ready", micros());
        while (true) {
            instance.takeOver(key, control, false, true);
            instance.lead(key, control);
        }
    }

    /**
     * The same methods as the real path, {@value #WARM_UP_ROUNDS} times, on a key nobody waits for and a control
     * channel of its own (its own markers count as a predecessor's here), with the real channel's traffic arriving
     * meanwhile: JIT compilation and class loading are done before the first cue.
     */
    private void warmUp(String control, long key) throws SQLException {
        run("LISTEN " + quote(control));
        for (int round = 0; round < WARM_UP_ROUNDS; round++) {
            takeOver(key, control, true, false);
            handOver(key, control, "w" + round);
        }
        run("UNLISTEN " + quote(control));
        pending.clear();
        pg.getNotifications();
    }

    /** Waits for the lock, then handles the first notification after the predecessor's confirmed marker. */
    private void takeOver(long key, String control, boolean acceptOwn, boolean report) throws SQLException {
        long granted = lockWait(key);
        long locked = micros();
        PGNotification[] received =
                BUFFERED_READ ? ((BaseConnection) pg).getQueryExecutor().getNotifications() : pg.getNotifications();
        long read = micros();
        List<PGNotification> backlog = received == null ? List.of() : Arrays.asList(received);
        int start = afterConfirmedMarker(backlog, control, acceptOwn);
        boolean confirmed = start >= 0;
        pending.clear();
        pending.addAll(backlog.subList(Math.max(0, start), backlog.size()));
        long first = -1;
        while (first < 0 && (report || !pending.isEmpty())) {
            PGNotification notification = next();
            if (notification.getName().equals(channel)) {
                handle(notification);
                first = lastHandled;
            }
        }
        long handled = micros();
        if (report) {
            moment("granted", granted);
            moment("locked", locked);
            count("backlog", backlog.size());
            moment("read", read);
            count("confirmed", confirmed ? 1 : 0);
            count("first-seq", first);
            moment("handled", handled);
        }
    }

    /** The index after the last {@code mark H} of another backend that its {@code done H} follows, or -1. */
    private int afterConfirmedMarker(List<PGNotification> backlog, String control, boolean acceptOwn) {
        for (int i = backlog.size() - 1; i >= 0; i--) {
            PGNotification done = backlog.get(i);
            if (done.getName().equals(control)
                    && done.getParameter().startsWith("done ")
                    && (acceptOwn || done.getPID() != pid)) {
                String mark = "mark " + done.getParameter().substring("done ".length());
                for (int j = i - 1; j >= 0; j--) {
                    PGNotification candidate = backlog.get(j);
                    if (candidate.getName().equals(control)
                            && candidate.getPID() == done.getPID()
                            && candidate.getParameter().equals(mark)) {
                        return j + 1;
                    }
                }
            }
        }
        return -1;
    }

    /** Handles notifications until the harness's cue, then hands over. */
    private void lead(long key, String control) throws SQLException {
        while (true) {
            PGNotification notification = next();
            if (notification.getName().equals(channel)) {
                handle(notification);
            } else if (notification.getName().equals(control)
                    && notification.getParameter().startsWith("cue ")) {
                long cue = micros();
                long[] moments =
                        handOver(key, control, notification.getParameter().substring("cue ".length()));
                pending.clear(); // what was read past the marker is the successor's
                pg.getNotifications();
                moment("cue", cue);
                moment("marked", moments[0]);
                moment("marker-read", moments[1]);
                moment("release", moments[2]);
                moment("released", moments[3]);
                count("last-seq", moments[4]);
                return;
            }
        }
    }

    /**
     * Marker, read and handle through it, confirm and release in one round trip. Returns the moments: marker sent,
     * marker read, release call, released; and the sequence number handled last.
     */
    private long[] handOver(long key, String control, String round) throws SQLException {
        String mark = "mark " + round;
        run("SELECT pg_notify(" + literal(control) + ", " + literal(mark) + ")");
        long marked = micros();
        while (true) {
            PGNotification notification = next();
            if (notification.getName().equals(channel)) {
                handle(notification);
            } else if (notification.getName().equals(control)
                    && notification.getPID() == pid
                    && notification.getParameter().equals(mark)) {
                break;
            }
        }
        long markerRead = micros();
        long lastBefore = lastHandled;
        long release = micros();
        run("BEGIN; SELECT pg_notify(" + literal(control) + ", " + literal("done " + round)
                + "); COMMIT; SELECT pg_advisory_unlock(" + key + ")");
        long released = micros();
        return new long[] {marked, markerRead, release, released, lastBefore};
    }

    /** {@code SELECT pg_advisory_lock(key)}; returns the server's clock when the lock was granted (epoch micros). */
    private long lockWait(long key) throws SQLException {
        try (ResultSet result = statement.executeQuery(
                "SELECT pg_advisory_lock(" + key + "), (extract(epoch FROM clock_timestamp()) * 1000000)::int8")) {
            result.next();
            return result.getLong(2);
        }
    }

    /** The next notification, blocking until one arrives. */
    private PGNotification next() throws SQLException {
        while (pending.isEmpty()) {
            PGNotification[] batch = pg.getNotifications(0);
            if (batch != null) {
                pending.addAll(Arrays.asList(batch));
            }
        }
        return pending.poll();
    }

    /** What a listener does with a notification here: takes its sequence number ({@code n<number>}). */
    private void handle(PGNotification notification) {
        String payload = notification.getParameter();
        if (payload.startsWith("n")) {
            lastHandled = Long.parseLong(payload, 1, payload.length(), 10);
        }
    }

    private void run(String sql) throws SQLException {
        boolean isResultSet = statement.execute(sql);
        while (isResultSet || statement.getUpdateCount() != -1) {
            if (isResultSet) {
                statement.getResultSet().close();
            }
            isResultSet = statement.getMoreResults();
        }
    }

    private static void touchUntilResident(long rssKb) throws IOException {
        while (residentKb() < rssKb) {
            // anonymous memory outside the heap, zeroed on allocation (every page touched); no GC copies it around
            RESIDENT.add(ByteBuffer.allocateDirect(1024 * 1024));
        }
    }

    private static long residentKb() throws IOException {
        return ProcessStats.residentKb(ProcessHandle.current().pid());
    }

    private static String quote(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }

    private static String literal(String text) {
        return "'" + text.replace("'", "''") + "'";
    }

    private static long micros() {
        return EpochMicros.now();
    }

    private static void moment(String event, long micros) {
        InstanceEvent.print(System.out, micros, event, "");
    }

    private static void count(String event, long value) {
        InstanceEvent.print(System.out, EpochMicros.now(), event, Long.toString(value));
    }
}
