package io.github.pgiplisten.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;

import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.PgPublisher;
import io.github.pgiplisten.autoconfigure.ListenerApp.OrderListener;
import io.github.pgiplisten.core.GroupSession;
import io.github.pgiplisten.testsupport.TestPostgres;

/**
 * What Spring Boot DevTools does on every change: the application context is closed and a new one started in the same
 * JVM. Each time the instance must release its lock, its listen session and its threads, and come back as exactly
 * one instance of its group that leads and handles, not as a second one beside a session left over.
 */
class ContextRestartTests {

    private final String group = "restart-" + UUID.randomUUID();
    private final String channel = TestContexts.channel("restart");

    @Test
    void aContextClosedAndANewOneStartedInTheSameJvmTwiceComesBackAsOneInstanceEachTime() throws Exception {
        Set<Thread> before = libraryThreads();
        for (int start = 1; start <= 3; start++) {
            String ping = "ping " + start;
            String[] applicationName = new String[1];
            TestContexts.runner(group)
                    .withUserConfiguration(ListenerApp.class)
                    .withPropertyValues("test.channel=" + channel)
                    .run(context -> {
                        assertThat(context).hasNotFailed();
                        PgListenStatus status = context.getBean(PgListenStatus.class);
                        assertThat(status.awaitListening(Duration.ofSeconds(20)))
                                .isTrue();
                        await().atMost(Duration.ofSeconds(20))
                                .until(() -> status.snapshot().isLeader());
                        PgListenerContainer container = context.getBean(PgListenerContainer.class);
                        applicationName[0] = container.options().applicationName();
                        try (Connection connection =
                                context.getBean(DataSource.class).getConnection()) {
                            List<GroupSession> sessions = container.groupSessions(connection);
                            assertThat(sessions)
                                    .as("the group's sessions as the server sees them")
                                    .hasSize(1)
                                    .allMatch(GroupSession::isLeader);
                            assertThat(sessionsNamed(connection, applicationName[0]))
                                    .as("listen sessions of this instance")
                                    .isEqualTo(1);
                        }
                        OrderListener listener = context.getBean(OrderListener.class);
                        context.getBean(PgPublisher.class).notify(channel + "-text", ping);
                        await().atMost(Duration.ofSeconds(10)).until(() -> listener.texts.contains(ping));
                        assertThat(listener.texts).containsExactly(ping);
                    });
            try (Connection connection = TestPostgres.shared().connect()) {
                await().atMost(Duration.ofSeconds(10))
                        .alias("the closed context's listen session ends")
                        .until(() -> sessionsNamed(connection, applicationName[0]) == 0);
            }
            await().atMost(Duration.ofSeconds(10))
                    .alias("the closed context's threads end")
                    .until(() -> before.containsAll(libraryThreads()));
        }
    }

    private static int sessionsNamed(Connection connection, String applicationName) throws SQLException {
        try (PreparedStatement statement =
                connection.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE application_name = ?")) {
            statement.setString(1, applicationName);
            try (ResultSet rows = statement.executeQuery()) {
                rows.next();
                return rows.getInt(1);
            }
        }
    }

    private static Set<Thread> libraryThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.isAlive() && thread.getName().startsWith("pg-ip-listen"))
                .collect(Collectors.toSet());
    }
}
