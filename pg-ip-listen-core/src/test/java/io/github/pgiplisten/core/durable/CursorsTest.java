package io.github.pgiplisten.core.durable;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The cursor's statements against a real server: what a read costs, not only what it returns. */
class CursorsTest {

    @RegisterExtension
    final DurableFixture durable = new DurableFixture().withSchema();

    @Test
    void aWindowsFirstReadDoesNotVisitTheChannelsHistory() throws Exception {
        try (Connection connection = durable.server().connect();
                Statement statement = connection.createStatement()) {
            statement.execute("SELECT count(" + durable.schema + ".pg_ip_listen_publish('" + durable.channel
                    + "', g::text)) FROM generate_series(1, 5000) g");
            Cursors cursors = new Cursors(durable.log());
            cursors.create(connection, "g", durable.channel, StartFrom.LATEST); // past the 5000: a window starts
            durable.publish("new");

            connection.setAutoCommit(false);
            long before = indexBlocksFetched(statement);
            Cursors.Page page = cursors.read(connection, "g", durable.channel, 100, 1 << 20);
            long fetched = indexBlocksFetched(statement) - before;
            connection.rollback();

            assertThat(page).isNotNull();
            assertThat(page.rows()).extracting(Cursors.Row::payload).containsExactly("new");
            assertThat(fetched)
                    .as("pages of the log's index the read visited (the channel holds 5001: about 30 leaf pages)")
                    .isLessThan(8);
        }
    }

    /**
     * An instance joining a running fleet creates its group's cursor at start-up, while the leader advances it. Under
     * SERIALIZABLE an {@code INSERT … ON CONFLICT DO NOTHING} that meets a version committed after its snapshot fails
     * to serialize, and the instance failed to start (seen in the build, one run in several).
     */
    @Test
    void creatingACursorThatExistsDoesNotMeetTheLeadersUpdateUnderSerializable() throws Exception {
        Cursors cursors = new Cursors(durable.log());
        try (Connection leader = durable.server().connect();
                Connection joining = durable.server().connect();
                Statement joiningStatement = joining.createStatement()) {
            cursors.create(leader, "g", durable.channel, StartFrom.LATEST);
            joining.setAutoCommit(false);
            joiningStatement.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE");
            joiningStatement.execute("SELECT 1"); // the snapshot is taken
            DurableFixture.execute(
                    leader,
                    "UPDATE " + durable.schema + ".pg_ip_listen_cursor SET version = version + 1 WHERE group_name ="
                            + " 'g'");

            cursors.create(joining, "g", durable.channel, StartFrom.LATEST);
            cursors.create(joining, "new-group", durable.channel, StartFrom.LATEST);
            joining.commit();
        }
        assertThat(durable.strings("SELECT group_name || ' ' || version FROM " + durable.schema
                        + ".pg_ip_listen_cursor ORDER BY group_name"))
                .as("the leader's cursor once, as it advanced it; the new group's created")
                .containsExactly("g 1", "new-group 0");
    }

    /**
     * Buffers of the log's index this backend asked for (hits included) and has not reported yet: the difference
     * around a statement is what its index scans visited.
     */
    private long indexBlocksFetched(Statement statement) throws Exception {
        try (ResultSet result = statement.executeQuery("SELECT pg_stat_get_xact_blocks_fetched('" + durable.schema
                + ".pg_ip_listen_message_position'::regclass)")) {
            result.next();
            return result.getLong(1);
        }
    }
}
