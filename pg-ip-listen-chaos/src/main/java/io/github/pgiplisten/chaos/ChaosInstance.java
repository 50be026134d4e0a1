package io.github.pgiplisten.chaos;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import org.jspecify.annotations.Nullable;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import io.github.pgiplisten.core.EngineEvent;
import io.github.pgiplisten.core.EngineStatus;
import io.github.pgiplisten.core.PgListenEngine;
import io.github.pgiplisten.core.PgListenOptions;
import io.github.pgiplisten.core.Role;
import io.github.pgiplisten.core.durable.DurableBatchHandler;
import io.github.pgiplisten.core.durable.DurableConsumer;
import io.github.pgiplisten.core.durable.DurableEvent;
import io.github.pgiplisten.core.durable.DurableMessage;
import io.github.pgiplisten.core.durable.DurableSettings;
import io.github.pgiplisten.core.durable.DurableTransactions;
import io.github.pgiplisten.testsupport.EpochMicros;
import io.github.pgiplisten.testsupport.InstanceEvent;

/**
 * One instance of the fleet under test, in a JVM of its own: an engine in leader mode with the default options
 * (except a {@link #SHUTDOWN_TIMEOUT_MILLIS shutdown timeout} of its own) and one subscribed channel. It reports on
 * stdout everything the suite checks, one {@link InstanceEvent} line each ({@code ev <micros> <kind> <detail>}, the
 * fleet harness's format):
 * <pre>
 * handled &lt;payload&gt;              a notification handled
 * connected &lt;pid&gt;                a connection is open (its backend pid)
 * standby &lt;pid&gt;                  that connection LISTENs and waits for the lock (seen in the engine's status)
 * leader &lt;handedOver&gt; &lt;possibleRepeats&gt; &lt;skipped&gt;  leadership granted
 * revoked &lt;reason&gt;               leadership revoked
 * disconnected                    the connection was lost
 * reconnected &lt;gap&gt;              the connection is restored after a gap (micros)
 * threads &lt;ours&gt; &lt;all&gt;           answer to "threads": this library's threads, all threads
 * slow &lt;payload&gt;                 the handler is busy with this one (after the command "slow")
 * booted                          with -Dchaos.startOnCommand=true: the JVM is up, the engine waits for "start"
 * durable &lt;payload&gt; &lt;id&gt;          (durable mode) the handler wrote the effect of a message; committed or not is
 *                                 the effect table's to say
 * durable-failed &lt;id&gt; &lt;error&gt;     (durable mode) a batch's handler failed, the batch rolled back
 * dead-lettered &lt;id&gt;              (durable mode) a message went to the dead letters
 * </pre>
 * Commands on stdin: {@code threads}; {@code slow <millis>} (the handler stays busy with the next notification for
 * that long, or until {@code release}; in durable mode with the next message, its effect written and its transaction
 * open); {@code release}; {@code start} (see {@code booted}); {@code switchover} (asks the engine for one; prints
 * {@code switchover ok <successor pid>} or {@code switchover refused <reason>}); {@code close} (graceful
 * close, then exit). SIGTERM closes gracefully too. Times are epoch microseconds.
 * Arguments: jdbc-url user password group channel application-name [durable-schema [batch|one-by-one]].
 *
 * <p>Durable mode (a seventh argument, the schema of the durable tables): the channel is a durable channel instead,
 * read by a {@link DurableConsumer} with the default settings on a HikariCP pool of its own (application name
 * {@code <application-name>/durable}), whose handler inserts one row per message into {@code <schema>.chaos_effect}
 * in the message's transaction, on the connection it is given: the effect ledger. With {@code batch} (the eighth
 * argument) the handler is a {@code DurableBatchHandler} that inserts a batch's rows as one JDBC batch; otherwise a
 * {@code DurableHandler}, one row per call.
 */
public final class ChaosInstance {

    /**
     * How long a graceful stop waits for the handler: long enough for a handler busy while two new instances start
     * and listen ({@code STOP_JOIN}; their engines took 2–2.5 s to listen beside the fleet on two cores), with
     * seconds to spare on a machine that others' builds load. A handler kept busy past it ({@code STOP_SLOW}) costs
     * its round these seconds.
     */
    public static final long SHUTDOWN_TIMEOUT_MILLIS = 8000;

    /** How often the status is looked at for {@code standby}: the engine tells no event when it stands by. */
    private static final long STATUS_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    private static final PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);

    /** The command {@code slow}: how long the handler stays busy with the next message, and what ends it sooner. */
    private static final AtomicLong busyOnNextMillis = new AtomicLong();

    private static final Semaphore release = new Semaphore(0);

    private ChaosInstance() {}

    public static void main(String[] args) throws Exception {
        PgListenOptions options = PgListenOptions.builder(args[0])
                .username(args[1])
                .password(args[2])
                .group(args[3])
                .applicationName(args[5])
                .shutdownTimeout(Duration.ofMillis(SHUTDOWN_TIMEOUT_MILLIS))
                .hotStandbys(Integer.getInteger("chaos.hotStandbys", PgListenOptions.DEFAULT_HOT_STANDBYS))
                .build();
        PgListenEngine engine = new PgListenEngine(options);
        engine.addEventListener(ChaosInstance::report);
        String durableSchema = args.length > 6 ? args[6] : null;
        HikariDataSource pool = durableSchema != null ? pool(args) : null;
        DurableConsumer consumer = pool != null
                ? durable(engine, pool, durableSchema, args[4], args.length > 7 && args[7].equals("batch"))
                : null;
        Runnable close = () -> {
            // as the Spring container stops: the batch in flight ends (commits, or is fenced) before the handover
            if (consumer != null) {
                consumer.close();
            }
            engine.close();
            if (pool != null) {
                pool.close();
            }
        };
        if (consumer == null) {
            engine.subscribe(args[4], notification -> {
                busyIfAsked(notification.payload());
                InstanceEvent.print(out, EpochMicros.now(), "handled", notification.payload());
            });
        }
        boolean startOnCommand = Boolean.getBoolean("chaos.startOnCommand");
        if (startOnCommand) {
            InstanceEvent.print(out, EpochMicros.now(), "booted", "");
        } else {
            start(engine, consumer);
        }
        Thread standbyWatch = new Thread(() -> reportStandingBy(engine), "chaos-standby-watch");
        standbyWatch.setDaemon(true);
        standbyWatch.start();
        // SIGTERM: hand over, as an application's shutdown does
        Runtime.getRuntime().addShutdownHook(new Thread(close, "chaos-shutdown"));
        try (BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            String command;
            while ((command = commands.readLine()) != null) {
                if (command.equals("threads")) {
                    long ours = Thread.getAllStackTraces().keySet().stream()
                            .filter(thread -> thread.getName().startsWith("pg-ip-listen"))
                            .count();
                    long all = Thread.getAllStackTraces().size();
                    InstanceEvent.print(out, EpochMicros.now(), "threads", ours + " " + all);
                } else if (command.startsWith("slow ")) {
                    release.drainPermits();
                    busyOnNextMillis.set(Long.parseLong(command.substring("slow ".length())));
                } else if (command.equals("release")) {
                    release.release();
                } else if (command.equals("switchover")) {
                    engine.switchover()
                            .whenComplete((successor, failure) -> InstanceEvent.print(
                                    out,
                                    EpochMicros.now(),
                                    "switchover",
                                    failure == null ? "ok " + successor : "refused " + failure.getMessage()));
                } else if (command.equals("start") && startOnCommand) {
                    start(engine, consumer);
                } else if (command.equals("close")) {
                    break;
                }
            }
        }
        close.run();
        System.exit(0);
    }

    /** After the command {@code slow}: stays busy with this message for the time asked, or until {@code release}. */
    private static void busyIfAsked(String payload) throws InterruptedException {
        long busyMillis = busyOnNextMillis.getAndSet(0);
        if (busyMillis > 0) {
            InstanceEvent.print(out, EpochMicros.now(), "slow", payload);
            release.tryAcquire(busyMillis, TimeUnit.MILLISECONDS);
        }
    }

    private static void start(PgListenEngine engine, @Nullable DurableConsumer consumer) {
        if (consumer != null) {
            consumer.start();
        }
        engine.start();
    }

    /** The pool the durable consumer's transactions run on: HikariCP, as under Spring Boot, but small. */
    private static HikariDataSource pool(String[] args) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(args[0]);
        config.setUsername(args[1]);
        config.setPassword(args[2]);
        config.setPoolName(args[5] + "-durable");
        config.setMaximumPoolSize(2);
        config.setMinimumIdle(1);
        config.setValidationTimeout(1000);
        config.setInitializationFailTimeout(-1); // the server may be away when an instance starts
        config.addDataSourceProperty("ApplicationName", args[5] + "/durable");
        config.addDataSourceProperty("hostRecheckSeconds", "1"); // a failover pair: find the promoted one soon
        return new HikariDataSource(config);
    }

    /**
     * The durable consumer with the default settings (but the schema), its handler writing the effect ledger: one
     * row per message, in the message's transaction; a batch's rows in one JDBC batch when {@code batch}.
     */
    private static DurableConsumer durable(
            PgListenEngine engine, HikariDataSource pool, String schema, String channel, boolean batch) {
        DurableConsumer consumer = new DurableConsumer(
                engine,
                DurableTransactions.of(pool),
                DurableSettings.builder().schema(schema).build());
        String insert = "INSERT INTO " + schema + ".chaos_effect (n, message_id, by) VALUES (?, ?, ?)";
        String by = engine.options().applicationName();
        DurableBatchHandler effects = (messages, connection) -> {
            try (PreparedStatement statement = connection.prepareStatement(insert)) {
                for (DurableMessage message : messages) {
                    statement.setLong(1, Long.parseLong(message.payload().substring(1)));
                    statement.setLong(2, message.id());
                    statement.setString(3, by);
                    statement.addBatch();
                }
                statement.executeBatch();
            }
            for (DurableMessage message : messages) {
                InstanceEvent.print(out, EpochMicros.now(), "durable", message.payload() + " " + message.id());
            }
            busyIfAsked(messages.get(messages.size() - 1).payload()); // its effects written, its transaction open
        };
        if (batch) {
            consumer.subscribeBatch(channel, effects);
        } else {
            consumer.subscribe(channel, (message, connection) -> effects.handle(List.of(message), connection));
        }
        consumer.addEventListener(event -> {
            if (event instanceof DurableEvent.HandlerFailed failed) {
                InstanceEvent.print(
                        out,
                        EpochMicros.of(failed.at()),
                        "durable-failed",
                        failed.message().id() + " "
                                + String.valueOf(failed.error()).replace('\n', ' '));
            } else if (event instanceof DurableEvent.DeadLettered dead) {
                InstanceEvent.print(
                        out,
                        EpochMicros.of(dead.at()),
                        "dead-lettered",
                        Long.toString(dead.message().id()));
            }
        });
        return consumer;
    }

    /**
     * Prints {@code standby <pid>} once per connection, when the status first shows it listening and waiting for
     * the lock: the moment from which nothing committed may be lost to this instance (it hears what the leader hears).
     */
    private static void reportStandingBy(PgListenEngine engine) {
        int reportedPid = 0;
        while (true) {
            EngineStatus status = engine.status();
            if (status.role() == Role.STANDBY
                    && status.listens()
                    && status.connection().backendPid() != reportedPid) {
                reportedPid = status.connection().backendPid();
                InstanceEvent.print(out, EpochMicros.now(), "standby", Integer.toString(reportedPid));
            }
            LockSupport.parkNanos(STATUS_POLL_NANOS);
        }
    }

    private static void report(EngineEvent event) {
        long at = EpochMicros.of(event.at());
        if (event instanceof EngineEvent.Connected connected) {
            InstanceEvent.print(out, at, "connected", Integer.toString(connected.backendPid()));
        } else if (event instanceof EngineEvent.LeadershipGranted granted) {
            InstanceEvent.print(
                    out,
                    at,
                    "leader",
                    granted.handedOver() + " " + granted.possibleRepeats() + " " + granted.skipped());
        } else if (event instanceof EngineEvent.LeadershipRevoked revoked) {
            InstanceEvent.print(out, at, "revoked", revoked.reason().replace('\n', ' '));
        } else if (event instanceof EngineEvent.ConnectionLost) {
            InstanceEvent.print(out, at, "disconnected", "");
        } else if (event instanceof EngineEvent.ConnectionRestored restored) {
            InstanceEvent.print(
                    out, at, "reconnected", Long.toString(restored.gap().toNanos() / 1000));
        }
    }
}
