package io.github.pgiplisten.chaos;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import io.github.pgiplisten.core.EngineEvent;
import io.github.pgiplisten.core.EngineStatus;
import io.github.pgiplisten.core.PgListenEngine;
import io.github.pgiplisten.core.PgListenOptions;
import io.github.pgiplisten.core.Role;
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
 * </pre>
 * Commands on stdin: {@code threads}; {@code slow <millis>} (the handler stays busy with the next notification for
 * that long, or until {@code release}); {@code release}; {@code start} (see {@code booted}); {@code close} (graceful
 * close, then exit). SIGTERM closes gracefully too. Times are epoch microseconds.
 * Arguments: jdbc-url user password group channel application-name.
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

    private ChaosInstance() {}

    public static void main(String[] args) throws Exception {
        PgListenOptions options = PgListenOptions.builder(args[0])
                .username(args[1])
                .password(args[2])
                .group(args[3])
                .applicationName(args[5])
                .shutdownTimeout(Duration.ofMillis(SHUTDOWN_TIMEOUT_MILLIS))
                .build();
        AtomicLong busyOnNextMillis = new AtomicLong();
        Semaphore release = new Semaphore(0);
        PgListenEngine engine = new PgListenEngine(options);
        engine.addEventListener(ChaosInstance::report);
        engine.subscribe(args[4], notification -> {
            long busyMillis = busyOnNextMillis.getAndSet(0);
            if (busyMillis > 0) {
                InstanceEvent.print(out, EpochMicros.now(), "slow", notification.payload());
                release.tryAcquire(busyMillis, TimeUnit.MILLISECONDS);
            }
            InstanceEvent.print(out, EpochMicros.now(), "handled", notification.payload());
        });
        boolean startOnCommand = Boolean.getBoolean("chaos.startOnCommand");
        if (startOnCommand) {
            InstanceEvent.print(out, EpochMicros.now(), "booted", "");
        } else {
            engine.start();
        }
        Thread standbyWatch = new Thread(() -> reportStandingBy(engine), "chaos-standby-watch");
        standbyWatch.setDaemon(true);
        standbyWatch.start();
        // SIGTERM: hand over, as an application's shutdown does
        Runtime.getRuntime().addShutdownHook(new Thread(engine::close, "chaos-shutdown"));
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
                } else if (command.equals("start") && startOnCommand) {
                    engine.start();
                } else if (command.equals("close")) {
                    break;
                }
            }
        }
        engine.close();
        System.exit(0);
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
