package io.github.pgiplisten.chaos;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

import io.github.pgiplisten.core.EngineEvent;
import io.github.pgiplisten.core.PgListenEngine;
import io.github.pgiplisten.core.PgListenOptions;
import io.github.pgiplisten.testsupport.EpochMicros;
import io.github.pgiplisten.testsupport.InstanceEvent;

/**
 * One instance of the fleet under test, in a JVM of its own: an engine in leader mode with the default options and
 * one subscribed channel. It reports on stdout everything the suite checks, one {@link InstanceEvent} line each
 * ({@code ev <micros> <kind> <detail>}, the fleet harness's format):
 * <pre>
 * handled &lt;payload&gt;              a notification handled
 * connected &lt;pid&gt;                a connection is open (its backend pid)
 * leader &lt;handedOver&gt; &lt;possibleRepeats&gt; &lt;skipped&gt;  leadership acquired
 * lost &lt;reason&gt;                  leadership lost
 * disconnected                    the connection broke
 * reconnected &lt;gap&gt;              the connection is back after a gap (micros)
 * threads &lt;ours&gt; &lt;all&gt;           answer to "threads": this library's threads, all threads
 * slow &lt;payload&gt;                 the handler is slow on this one (after the command "slow")
 * </pre>
 * Commands on stdin: {@code threads}, {@code slow} (the next notification takes the handler
 * {@code -Dchaos.slowMillis}, default 3000 ms), {@code close} (graceful close, then exit); SIGTERM closes gracefully
 * too. {@code -Dchaos.shutdownTimeoutMillis} sets the engine's shutdown timeout (default 1000 ms).
 * Times are epoch microseconds.
 * Arguments: jdbc-url user password group channel application-name.
 */
public final class ChaosInstance {

    private static final PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);

    private ChaosInstance() {
    }

    public static void main(String[] args) throws Exception {
        PgListenOptions options = PgListenOptions.builder(args[0]).username(args[1]).password(args[2]).group(args[3])
                .applicationName(args[5])
                .shutdownTimeout(Duration.ofMillis(Long.getLong("chaos.shutdownTimeoutMillis", 1000))).build();
        long slowMillis = Long.getLong("chaos.slowMillis", 3000);
        AtomicBoolean slowNext = new AtomicBoolean();
        PgListenEngine engine = new PgListenEngine(options);
        engine.addEventListener(ChaosInstance::report);
        engine.subscribe(args[4], notification -> {
            if (slowNext.compareAndSet(true, false)) {
                InstanceEvent.print(out, EpochMicros.now(), "slow", notification.payload());
                Thread.sleep(slowMillis);
            }
            InstanceEvent.print(out, EpochMicros.now(), "handled", notification.payload());
        });
        engine.start();
        // SIGTERM: hand over, as an application's shutdown does
        Runtime.getRuntime().addShutdownHook(new Thread(engine::close, "chaos-shutdown"));
        try (BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            String command;
            while ((command = commands.readLine()) != null) {
                if (command.equals("threads")) {
                    long ours = Thread.getAllStackTraces().keySet().stream()
                            .filter(thread -> thread.getName().startsWith("pg-ip-listen")).count();
                    long all = Thread.getAllStackTraces().size();
                    InstanceEvent.print(out, EpochMicros.now(), "threads", ours + " " + all);
                } else if (command.equals("slow")) {
                    slowNext.set(true);
                } else if (command.equals("close")) {
                    break;
                }
            }
        }
        engine.close();
        System.exit(0);
    }

    private static void report(EngineEvent event) {
        long at = EpochMicros.of(event.at());
        if (event instanceof EngineEvent.Connected connected) {
            InstanceEvent.print(out, at, "connected", Integer.toString(connected.backendPid()));
        } else if (event instanceof EngineEvent.LeadershipAcquired acquired) {
            InstanceEvent.print(out, at, "leader",
                    acquired.handedOver() + " " + acquired.possibleRepeats() + " " + acquired.skipped());
        } else if (event instanceof EngineEvent.LeadershipLost lost) {
            InstanceEvent.print(out, at, "lost", lost.reason().replace('\n', ' '));
        } else if (event instanceof EngineEvent.Disconnected) {
            InstanceEvent.print(out, at, "disconnected", "");
        } else if (event instanceof EngineEvent.Reconnected reconnected) {
            InstanceEvent.print(out, at, "reconnected", Long.toString(reconnected.gap().toNanos() / 1000));
        }
    }
}
