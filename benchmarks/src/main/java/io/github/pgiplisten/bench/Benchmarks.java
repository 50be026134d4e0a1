package io.github.pgiplisten.bench;

import java.nio.file.Path;
import java.time.LocalTime;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

import org.slf4j.LoggerFactory;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;

import io.github.pgiplisten.core.PgListenOptions;
import io.github.pgiplisten.testsupport.PostgresServer;
import io.github.pgiplisten.testsupport.TestPostgres;

/**
 * Every figure of BENCHMARKS.md, ours and a raw pgjdbc program doing the same work, alternating, in one run: runs the
 * sections named on the command line (all without names), then prints their Markdown table and writes it to
 * {@code benchmarks/target/results.md}. With {@code --check} anywhere among the arguments it then checks the rows'
 * goals ({@link GoalCheck}) and exits with 1 when one is missed.
 */
public final class Benchmarks {

    /** Runs per side in the in-JVM sections; {@code -Dbench.rounds=1} makes a quick try. */
    static final int ROUNDS = Integer.getInteger("bench.rounds", 3);

    /** The sections by the names {@code ./run-benchmarks} takes, in the order a full run measures them. */
    private static final Map<String, Function<PostgresServer, Section>> SECTIONS = new LinkedHashMap<>();

    static {
        SECTIONS.put("throughput", ThroughputSection::new);
        SECTIONS.put("payload", PayloadSection::new);
        SECTIONS.put("latency", LatencySection::new);
        SECTIONS.put("observation", ObservationSection::new);
        SECTIONS.put("burst", BurstSection::new);
        SECTIONS.put("backlog", BacklogSection::new);
        SECTIONS.put("crash", FailoverSection::new);
        SECTIONS.put("floor", FloorSection::new);
        SECTIONS.put("standby", StandbySection::new);
        SECTIONS.put("idle", IdleSection::new);
        SECTIONS.put("reconnect", server -> new ReconnectSection());
        SECTIONS.put("footprint", FootprintSection::new);
        SECTIONS.put("channels", ChannelsSection::new);
        SECTIONS.put("fleet", FleetSection::new);
        SECTIONS.put("durable-latency", DurableLatencySection::new);
        SECTIONS.put("durable-drain", DurableDrainSection::new);
        SECTIONS.put("durable-longtx", DurableLongTxSection::new);
        SECTIONS.put("durable-publish", DurablePublishSection::new);
    }

    private Benchmarks() {}

    /** What the command line asks for: the sections to run (as named; all without names), and whether to check. */
    record Arguments(Set<String> sections, boolean check) {

        static final String CHECK = "--check";

        static Arguments parse(String... args) {
            List<String> named =
                    Arrays.stream(args).filter(arg -> !arg.equals(CHECK)).toList();
            // crash and graceful are measured in the same rounds: named together, they run once
            Set<String> sections = new LinkedHashSet<>();
            for (String name : named.isEmpty() ? SECTIONS.keySet() : named) {
                String section = name.equals("graceful") ? "crash" : name;
                if (!SECTIONS.containsKey(section)) {
                    throw new IllegalArgumentException("unknown section " + name + "; the sections: "
                            + SECTIONS.keySet() + " (and graceful, which is crash), and the option " + CHECK);
                }
                sections.add(section);
            }
            return new Arguments(sections, named.size() < args.length);
        }
    }

    public static void main(String[] args) throws Exception {
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(Level.WARN);
        ((Logger) LoggerFactory.getLogger("org.testcontainers")).setLevel(Level.OFF);
        Arguments arguments = Arguments.parse(args);
        PostgresServer server = TestPostgres.shared();
        log("PostgreSQL: " + server.description());
        ResultsTable table = new ResultsTable();
        Map<String, Section> ran = new LinkedHashMap<>();
        for (String name : arguments.sections()) {
            Section section = SECTIONS.get(name).apply(server);
            section.run(table);
            ran.put(name, section);
        }
        if (ran.get("floor") instanceof FloorSection floor && ran.get("crash") instanceof FailoverSection failover) {
            floor.compareWith(failover);
        }
        table.print(System.out, Path.of("benchmarks", "target", "results.md"));
        if (arguments.check()) {
            GoalCheck check = new GoalCheck(table.rows());
            check.print(System.out);
            System.exit(check.exitCode());
        }
        System.exit(0);
    }

    /** A progress line with the time of day: the sections' own measurements, as they come. */
    /** The options of an engine in this JVM on {@code server}'s database, in {@code group}. */
    static PgListenOptions.Builder engineOptions(PostgresServer server, String group, String applicationName) {
        return PgListenOptions.builder(server.jdbcUrl())
                .username(server.username())
                .password(server.password())
                .group(group)
                .applicationName(applicationName);
    }

    /** A comma-separated list of numbers from system property {@code property}, {@code defaults} without it. */
    static List<Integer> integers(String property, String defaults) {
        return Arrays.stream(System.getProperty(property, defaults).split(","))
                .map(String::trim)
                .map(Integer::valueOf)
                .toList();
    }

    static void log(String text) {
        System.out.println(LocalTime.now().withNano(0) + "  " + text);
    }
}
