package io.github.pgiplisten.bench;

import static io.github.pgiplisten.bench.Benchmarks.log;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;

import io.github.pgiplisten.core.PgListenEngine;
import io.github.pgiplisten.testsupport.Await;
import io.github.pgiplisten.testsupport.InstanceJvm;
import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * An idle leader in a JVM of its own, 10 s after start-up: resident memory, heap in use after a full GC, live threads
 * and the connections it opened, ours beside a bare raw pgjdbc loop.
 */
final class FootprintSection implements Section {

    private final PostgresServer server;

    FootprintSection(PostgresServer server) {
        this.server = server;
    }

    @Override
    public void run(ResultsTable table) throws Exception {
        log("footprint of an idle instance (its own JVM, 10 s after start-up)");
        String channel = "fp-" + UUID.randomUUID().toString().substring(0, 8);
        String group = "bench-" + channel;
        String[] ours = footprintOf(name -> OursInstance.launch(name, server, channel, group)
                .jvmOptions("-Xmx256m")
                .arguments("--logging.level.root=WARN"));
        String[] raw =
                footprintOf(name -> RawInstance.launch(name, server, channel, PgListenEngine.lockKey(group + "-raw"))
                        .jvmOptions("-Xmx256m"));
        table.add(
                "footprint of an idle leader: resident memory MB / heap used MB / live threads / connections",
                String.join(" / ", ours),
                String.join(" / ", raw),
                "Spring Boot app vs a bare JVM loop");
    }

    private String[] footprintOf(Function<String, InstanceJvm.Launch> launch) throws Exception {
        Thread.sleep(3000); // sessions of earlier sections end
        int before = backends();
        try (Fleet fleet = new Fleet(launch)) {
            Fleet.Instance instance = fleet.start("F");
            Await.until("the instance is ready", Duration.ofSeconds(120), () -> instance.ready);
            Thread.sleep(10_000);
            long pid = instance.jvm.pid();
            Map<String, String> status = ProcessStats.status(pid);
            String rss = Long.toString(
                    Long.parseLong(status.get("VmRSS").replace("kB", "").trim()) / 1024);
            String threads = status.get("Threads").trim();
            String heap = Long.toString(ProcessStats.heapUsedMb(pid, true));
            String connections = Integer.toString(backends() - before);
            return new String[] {rss, heap, threads, connections};
        }
    }

    private int backends() throws SQLException {
        try (Connection connection = server.connect();
                Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery(
                        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")) {
            result.next();
            return result.getInt(1) - 1;
        }
    }
}
