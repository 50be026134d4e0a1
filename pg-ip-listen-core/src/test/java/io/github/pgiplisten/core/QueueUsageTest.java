package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * PostgreSQL's notification queue is shared by every session of the server: one that LISTENs and sits in an open
 * transaction holds it back until it is full and every NOTIFY fails. The leader reads how full it is with its probes.
 */
class QueueUsageTest {

    @RegisterExtension
    final Engines engines = Engines.onSharedServer();

    @Test
    void theLeaderReportsHowFullTheServersNotificationQueueIs() throws Exception {
        PgListenEngine engine = engines.create(
                options -> options.probeInterval(Duration.ofMillis(200)).queueUsageWarning(0.0001));
        engine.subscribe(engines.channel("quiet"), new Recorder());
        engine.start();
        Engines.awaitSingleListeningLeader(List.of(engine));
        await().atMost(Duration.ofSeconds(10))
                .until(() -> !Double.isNaN(engine.status().reading().notificationQueueUsage()));
        double before = engine.status().reading().notificationQueueUsage();

        String elsewhere = engines.channel("elsewhere");
        try (Connection stuck = engines.server().connect();
                Statement statement = stuck.createStatement()) {
            statement.execute("LISTEN \"" + elsewhere + "\"");
            stuck.setAutoCommit(false);
            statement.execute("SELECT 1"); // idle in transaction from here on: it reads no notification
            try (Connection publisher = engines.server().connect();
                    PreparedStatement notify = publisher.prepareStatement(
                            "SELECT pg_notify(?, repeat('x', 1000) || g) FROM generate_series(1, 1000) g")) {
                for (int i = 0; i < 4; i++) {
                    notify.setString(1, elsewhere);
                    notify.execute();
                }
            }
            // 4 MB held back of the queue's 8 GB: 0.05 %, over the 0.01 % this engine warns at
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> engine.status().reading().notificationQueueUsage() >= 0.0001);
            assertThat(engine.status().reading().notificationQueueUsage()).isGreaterThan(before);
            stuck.rollback();
        }
    }
}
