package io.github.pgiplisten.sample;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import org.jspecify.annotations.Nullable;

import io.github.pgiplisten.core.PgNotifier;
import io.github.pgiplisten.testsupport.Await;
import io.github.pgiplisten.testsupport.EpochMicros;
import io.github.pgiplisten.testsupport.InstanceEvent;
import io.github.pgiplisten.testsupport.InstanceJvm;
import io.github.pgiplisten.testsupport.PostgresServer;
import io.github.pgiplisten.testsupport.TestPostgres;

/**
 * The fleet demo ({@code ./run-demo}), unattended: three instances of {@link SampleApplication} as separate JVMs
 * against a throwaway PostgreSQL, a steady stream of numbered notifications, the leader killed with SIGKILL, the next
 * one stopped with SIGTERM, durable messages published while the whole fleet is down and handled once it is back, then
 * the fleet restarted with the one-process listener off. It prints one line per event and ends with {@code demo:
 * crash_failover_ms=… graceful_handover_ms=… lost=… repeated_after_crash=… duplicated=… durable_while_down=…
 * durable_lost=… durable_duplicated=… broadcast_ok=…} (the README defines each field).
 *
 * <p>It lives in the test sources, beside the test support that gets it a PostgreSQL, so neither is in the sample
 * application's jar. {@code ./run-demo} starts it with that jar as its argument: the instances run exactly what
 * {@code java -jar} runs; {@link FleetDemoTest} starts them from the test class path instead.
 */
public final class FleetDemo {

    /**
     * How long each phase publishes, how many instances, how often a notification is sent, and the options of the
     * instances' JVMs.
     */
    public record Settings(Duration phase, int instances, Duration publishInterval, List<String> jvmOptions) {

        public static Settings defaults() {
            return new Settings(Duration.ofSeconds(4), 3, Duration.ofMillis(5), List.of("-Xmx256m"));
        }
    }

    /**
     * What the experiment showed.
     * @param lost notifications nobody handled
     * @param repeatedAfterCrash notifications the killed leader handled that its successor handled again (delivery
     * across a crash is at-least-once: the successor starts after the dead leader's last progress confirmation)
     * @param duplicated notifications handled twice otherwise (none expected)
     * @param durableWhileDown durable messages published while the whole fleet was down
     * @param durableLost of them, how many no instance handled once the fleet was back (none expected)
     * @param durableDuplicated of them, how many were handled more than once (none expected)
     */
    public record Result(
            List<String> firstStandbys,
            String firstLeader,
            String secondLeader,
            String thirdLeader,
            long crashFailoverMs,
            long gracefulHandoverMs,
            int sent,
            int lost,
            int repeatedAfterCrash,
            int duplicated,
            int durableWhileDown,
            int durableLost,
            int durableDuplicated,
            boolean broadcastOk) {

        public String summary() {
            return "demo: crash_failover_ms=" + crashFailoverMs + " graceful_handover_ms=" + gracefulHandoverMs
                    + " lost=" + lost + " repeated_after_crash=" + repeatedAfterCrash + " duplicated=" + duplicated
                    + " durable_while_down=" + durableWhileDown + " durable_lost=" + durableLost
                    + " durable_duplicated=" + durableDuplicated + " broadcast_ok=" + broadcastOk;
        }
    }

    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

    private final PostgresServer server;
    private final Settings settings;
    private final PrintStream out;
    /** The application's executable jar, or null: start instances from this JVM's class path. */
    private final @Nullable Path applicationJar;

    private final String channel = "demo-" + UUID.randomUUID().toString().substring(0, 8);
    private final String durableChannel =
            "demo-durable-" + UUID.randomUUID().toString().substring(0, 8);
    /** Who handled each durable message ("#n"). */
    private final Map<Integer, List<String>> durableHandled = new ConcurrentHashMap<>();

    private final String group =
            "pg-ip-listen-demo-" + UUID.randomUUID().toString().substring(0, 8);
    private final List<Instance> running = new CopyOnWriteArrayList<>();
    /** Send time (epoch micros) of each numbered notification. */
    private final Map<Integer, Long> sentAt = new ConcurrentHashMap<>();
    /** Who handled each number, and when (epoch micros). */
    private final Map<Integer, List<Handling>> handled = new ConcurrentHashMap<>();

    private volatile String lastHandler;

    private record Handling(String instance, long atMicros) {}

    /** Starts the instances from this JVM's class path (as the test does). */
    public FleetDemo(PostgresServer server, Settings settings, PrintStream out) {
        this(server, settings, out, null);
    }

    /** Starts the instances with {@code java -jar applicationJar}. */
    public FleetDemo(PostgresServer server, Settings settings, PrintStream out, @Nullable Path applicationJar) {
        this.server = server;
        this.settings = settings;
        this.out = out;
        this.applicationJar = applicationJar;
    }

    /** {@code FleetDemo <sample-app jar>}, as {@code ./run-demo} calls it. */
    public static void main(String[] args) throws Exception {
        if (args.length != 1 || !Files.isRegularFile(Path.of(args[0]))) {
            System.err.println("usage: FleetDemo <path of the sample application's executable jar>");
            System.exit(2);
        }
        // no Spring Boot logging set-up in the launcher: keep the libraries it uses quiet
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                .setLevel(ch.qos.logback.classic.Level.WARN);
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("org.testcontainers"))
                .setLevel(ch.qos.logback.classic.Level.OFF);
        PrintStream out = System.out;
        say(
                out,
                "getting a throwaway PostgreSQL (a URL in " + TestPostgres.URL_VARIABLE
                        + ", Docker, installed binaries, or the binaries from Maven Central)");
        PostgresServer server = TestPostgres.shared();
        say(out, "PostgreSQL for the demo: " + server.description());
        Result result = new FleetDemo(server, Settings.defaults(), out, Path.of(args[0])).run();
        out.println(result.summary());
        out.flush();
        System.exit(0);
    }

    /** Runs the whole experiment; every instance it started is gone when it returns. */
    public Result run() throws Exception {
        try {
            return experiment();
        } finally {
            for (Instance instance : running) {
                instance.jvm.close();
            }
        }
    }

    private Result experiment() throws Exception {
        say("starting " + settings.instances() + " instances with one-process-listener: true (group " + group
                + ", channel " + channel + ")");
        List<Instance> fleet = new ArrayList<>();
        for (int i = 0; i < settings.instances(); i++) {
            fleet.add(start(name(i), true));
        }
        Await.until(
                "every instance is ready",
                Duration.ofSeconds(90),
                () -> fleet.stream().allMatch(i -> i.ready));
        Await.until(
                "one instance leads",
                Duration.ofSeconds(30),
                () -> leaders(fleet).size() == 1);
        Instance first = leaders(fleet).get(0);
        List<String> standbys =
                fleet.stream().filter(i -> i != first).map(i -> i.name).toList();
        say(first.name + " is the leader; " + String.join(", ", standbys) + " wait as standbys (no polling: each "
                + "backend sits in one blocked pg_advisory_lock)");

        try (Publisher publisher = new Publisher()) {
            publishFor(settings.phase(), fleet);

            long killAt = EpochMicros.now();
            say("SIGKILL " + first.name + " (the leader), while notifications keep coming every "
                    + settings.publishInterval().toMillis() + " ms");
            first.jvm.kill();
            Handling takeover = awaitFirstHandlingAfter(killAt, first.name);
            Instance second = byName(fleet, takeover.instance());
            long crashMs = Math.round(EpochMicros.millisBetween(killAt, takeover.atMicros()));
            say(second.name + " took over: first notification handled " + crashMs + " ms after the kill");
            publishFor(settings.phase(), fleet);

            long termAt = EpochMicros.now();
            say("SIGTERM " + second.name + " (graceful stop of the new leader)");
            second.jvm.terminate();
            Handling handover = awaitFirstHandlingAfter(termAt, second.name);
            Instance third = byName(fleet, handover.instance());
            long handoverMs = Math.round(EpochMicros.millisBetween(termAt, handover.atMicros()));
            say(third.name + " took over: first notification handled " + handoverMs + " ms after the signal");
            publishFor(settings.phase(), fleet);
            publisher.close();
            Await.until(
                    "the last notification is handled",
                    Duration.ofSeconds(20),
                    () -> handled.containsKey(publisher.sent.get() - 1));
            second.jvm.awaitExit(Duration.ofSeconds(30));

            int sent = publisher.sent.get();
            int duplicated = 0;
            int repeated = 0;
            int lost = 0;
            for (int n = 0; n < sent; n++) {
                List<Handling> by = handled.getOrDefault(n, List.of());
                if (by.size() == 2
                        && by.stream().map(Handling::instance).toList().containsAll(List.of(first.name, second.name))) {
                    repeated++; // at-least-once: the killed leader had not confirmed it yet
                } else if (by.size() > 1) {
                    duplicated++;
                    say("handled twice: #" + n + " by " + by);
                } else if (by.isEmpty()) {
                    lost++;
                    say("not handled: #" + n + ", sent " + (sentAt.getOrDefault(n, 0L) - killAt) / 1000.0
                            + " ms after the SIGKILL");
                }
            }
            say("sent " + sent + " notifications; not handled: " + lost + "; handled again by " + second.name
                    + " after the crash: " + repeated + " (at-least-once: what " + first.name
                    + " handled after its last progress confirmation); handled twice otherwise: " + duplicated);
            stopAll();

            int durableWhileDown = 100;
            int[] durable = durable(durableWhileDown);
            boolean broadcastOk = broadcast();
            return new Result(
                    standbys,
                    first.name,
                    second.name,
                    third.name,
                    crashMs,
                    handoverMs,
                    sent,
                    lost,
                    repeated,
                    duplicated,
                    durableWhileDown,
                    durable[0],
                    durable[1],
                    broadcastOk);
        }
    }

    /**
     * The whole fleet is down: publishes {@code count} durable messages (from SQL, as another service would), starts
     * the fleet again and waits for them.
     * @return how many were not handled, and how many more than once
     */
    private int[] durable(int count) throws Exception {
        say("the whole fleet is down; publishing " + count + " messages on the durable channel " + durableChannel
                + " (pg_ip_listen_publish, each in its own transaction)");
        try (Connection connection = server.connect();
                java.sql.PreparedStatement publish = connection.prepareStatement("SELECT pg_ip_listen_publish(?, ?)")) {
            for (int n = 0; n < count; n++) {
                publish.setString(1, durableChannel);
                publish.setString(2, "#" + n);
                publish.execute();
            }
        }
        say("restarting " + settings.instances() + " instances: the group's leader handles what waited in the log");
        List<Instance> fleet = new ArrayList<>();
        for (int i = 0; i < settings.instances(); i++) {
            fleet.add(start(name(i), true));
        }
        try {
            Await.until(
                    "every durable message is handled", Duration.ofSeconds(90), () -> durableHandled.size() >= count);
        } catch (IllegalStateException timeout) {
            say(timeout.getMessage());
        }
        Thread.sleep(500); // a repeat, if there were one, would come now
        int lost = count
                - (int) durableHandled.keySet().stream().filter(n -> n < count).count();
        int duplicated = (int)
                durableHandled.values().stream().filter(by -> by.size() > 1).count();
        Map<String, Integer> byInstance = new TreeMap<>();
        durableHandled.values().forEach(by -> by.forEach(name -> byInstance.merge(name, 1, Integer::sum)));
        say("durable messages published while the fleet was down: " + count + "; handled " + byInstance
                + "; not handled: " + lost + "; handled twice: " + duplicated);
        stopAll();
        return new int[] {lost, duplicated};
    }

    private boolean broadcast() throws Exception {
        say("restarting " + settings.instances() + " instances with one-process-listener: false");
        handled.clear();
        List<Instance> fleet = new ArrayList<>();
        for (int i = 0; i < settings.instances(); i++) {
            fleet.add(start(name(i), false));
        }
        Await.until(
                "every instance is ready",
                Duration.ofSeconds(90),
                () -> fleet.stream().allMatch(i -> i.ready));
        // LISTEN starts moments after start-up: each instance tells when it listens (PgListenEvent.ChannelListened)
        Await.until(
                "every instance listens",
                Duration.ofSeconds(30),
                () -> fleet.stream().allMatch(i -> i.listening));
        try (Connection connection = server.connect()) {
            int count = 100;
            for (int n = 0; n < count; n++) {
                PgNotifier.notify(connection, channel, "#" + n);
            }
            Await.until(
                    "every instance handles every notification",
                    Duration.ofSeconds(20),
                    () -> fleet.stream().allMatch(i -> countHandledBy(i.name, count) == count));
            boolean ok = fleet.stream().allMatch(i -> countHandledBy(i.name, count) == count)
                    && handled.values().stream().allMatch(by -> by.size() == fleet.size());
            for (Instance instance : fleet) {
                say(instance.name + " handled " + countHandledBy(instance.name, count) + " of " + count);
            }
            stopAll();
            return ok;
        } catch (IllegalStateException timeout) {
            say(timeout.getMessage());
            stopAll();
            return false;
        }
    }

    private long countHandledBy(String instance, int below) {
        return handled.entrySet().stream()
                .filter(e -> e.getKey() >= 0 && e.getKey() < below)
                .filter(e -> e.getValue().stream().anyMatch(h -> h.instance().equals(instance)))
                .count();
    }

    private void publishFor(Duration duration, List<Instance> fleet) throws InterruptedException {
        Map<String, Integer> before = handledCounts();
        Thread.sleep(duration.toMillis());
        Map<String, Integer> after = handledCounts();
        List<String> parts = new ArrayList<>();
        for (Instance instance : fleet) {
            int delta = after.getOrDefault(instance.name, 0) - before.getOrDefault(instance.name, 0);
            parts.add(instance.name + " " + delta);
        }
        say("handled in the last " + duration.toSeconds() + " s: " + String.join(", ", parts));
    }

    private Map<String, Integer> handledCounts() {
        Map<String, Integer> counts = new TreeMap<>();
        handled.values().forEach(by -> by.forEach(h -> counts.merge(h.instance(), 1, Integer::sum)));
        return counts;
    }

    private Handling awaitFirstHandlingAfter(long afterMicros, String notBy) {
        // cheap to poll (the instances share these two cores): the last handler's name, then one scan at the end
        Await.until("another instance handles a notification", Duration.ofSeconds(60), () -> {
            String last = lastHandler;
            return last != null && !last.equals(notBy);
        });
        return firstHandlingAfter(afterMicros, notBy).orElseThrow();
    }

    private Optional<Handling> firstHandlingAfter(long afterMicros, String notBy) {
        return handled.values().stream()
                .flatMap(List::stream)
                .filter(h -> h.atMicros() >= afterMicros && !h.instance().equals(notBy))
                .min(java.util.Comparator.comparingLong(Handling::atMicros));
    }

    private static List<Instance> leaders(List<Instance> fleet) {
        return fleet.stream().filter(i -> i.leader && i.jvm.isAlive()).toList();
    }

    private static Instance byName(List<Instance> fleet, String name) {
        return fleet.stream().filter(i -> i.name.equals(name)).findFirst().orElseThrow();
    }

    private static String name(int index) {
        return String.valueOf((char) ('A' + index));
    }

    private void stopAll() throws InterruptedException {
        for (Instance instance : running) {
            instance.jvm.terminate();
        }
        for (Instance instance : running) {
            if (!instance.jvm.awaitExit(Duration.ofSeconds(30))) {
                instance.jvm.close();
            }
        }
        running.clear();
    }

    private Instance start(String name, boolean oneProcessListener) throws IOException {
        InstanceJvm.Launch launch = InstanceJvm.launch("demo-" + name)
                .jvmOptions(settings.jvmOptions().toArray(String[]::new))
                .errorsToOutput();
        if (applicationJar != null) {
            launch.jar(applicationJar);
        } else {
            launch.mainClass(SampleApplication.class);
        }
        List<String> arguments = new ArrayList<>(List.of(
                "--demo.instance=" + name,
                "--demo.channel=" + channel,
                "--demo.report-events=true",
                "--spring.datasource.url=" + server.jdbcUrl(),
                "--spring.datasource.username=" + server.username(),
                "--spring.datasource.password=" + server.password(),
                "--pg-ip-listen.group=" + group,
                "--pg-ip-listen.one-process-listener=" + oneProcessListener,
                "--logging.level.io.github.pgiplisten=WARN"));
        if (oneProcessListener) {
            // durable listeners need an elected reader; the broadcast part runs without one
            arguments.add("--demo.durable-channel=" + durableChannel);
            arguments.add("--pg-ip-listen.durable.initialize-schema=always");
        }
        launch.arguments(arguments.toArray(String[]::new));
        Instance instance = new Instance(name, launch);
        running.add(instance);
        say("started instance " + name + " (pid " + instance.jvm.pid() + ")");
        return instance;
    }

    private void event(Instance instance, InstanceEvent reported) {
        long micros = reported.micros();
        String event = reported.detail().isEmpty() ? reported.kind() : reported.kind() + " " + reported.detail();
        if (event.equals("ready")) {
            instance.ready = true;
        } else if (event.equals("leader")) {
            instance.leader = true;
            say(instance.name + " is the leader now", micros);
        } else if (event.equals("standby")) {
            instance.leader = false;
            say(instance.name + " released leadership", micros);
        } else if (event.equals("listening")) {
            instance.listening = true;
        } else if (event.startsWith("durable #")) {
            int number = Integer.parseInt(event.substring("durable #".length()));
            durableHandled
                    .computeIfAbsent(number, n -> new CopyOnWriteArrayList<>())
                    .add(instance.name);
        } else if (event.startsWith("handled ")) {
            String payload = event.substring("handled ".length());
            if (payload.startsWith("#")) {
                int number = Integer.parseInt(payload.substring(1));
                handled.computeIfAbsent(number, n -> new CopyOnWriteArrayList<>())
                        .add(new Handling(instance.name, micros));
                lastHandler = instance.name;
            }
        }
    }

    private void say(String text) {
        say(text, EpochMicros.now());
    }

    private void say(String text, long micros) {
        LocalTime time = LocalTime.ofInstant(EpochMicros.toInstant(micros), ZoneId.systemDefault());
        synchronized (out) {
            out.println(CLOCK.format(time) + "  " + text);
        }
    }

    private static void say(PrintStream out, String text) {
        out.println(CLOCK.format(LocalTime.now()) + "  " + text);
    }

    /** Sends "#0", "#1", … on its own connection, each in its own transaction, until closed. */
    private final class Publisher implements AutoCloseable {

        final AtomicInteger sent = new AtomicInteger();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        Publisher() {
            thread = new Thread(this::publish, "demo-publisher");
            thread.setDaemon(true);
            thread.start();
        }

        private void publish() {
            try (Connection connection = server.connect()) {
                long interval = settings.publishInterval().toNanos();
                long next = System.nanoTime();
                while (running.get()) {
                    int number = sent.get();
                    sentAt.put(number, EpochMicros.now());
                    PgNotifier.notify(connection, channel, "#" + number);
                    sent.incrementAndGet();
                    next += interval;
                    LockSupport.parkNanos(next - System.nanoTime());
                }
            } catch (Exception ex) {
                say("publisher failed: " + ex);
            }
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join(10_000);
        }
    }

    /** One instance's JVM and what it reported; its events arrive on the harness's reader thread. */
    private final class Instance implements InstanceJvm.Output {
        final String name;
        final InstanceJvm jvm;
        volatile boolean ready;
        volatile boolean leader;
        volatile boolean listening;

        Instance(String name, InstanceJvm.Launch launch) throws IOException {
            this.name = name;
            this.jvm = launch.start(this);
        }

        @Override
        public void event(InstanceEvent event) {
            FleetDemo.this.event(this, event);
        }

        @Override
        public void line(String line) {
            if (!line.isBlank()) {
                say("  " + name + " | " + line);
            }
        }
    }
}
