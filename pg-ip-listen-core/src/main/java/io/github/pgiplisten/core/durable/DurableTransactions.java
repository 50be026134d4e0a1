package io.github.pgiplisten.core.durable;

import java.sql.Connection;
import java.sql.SQLException;

import javax.sql.DataSource;

import org.jspecify.annotations.Nullable;

/**
 * Runs a unit of work in one transaction: committed when the work returns, rolled back when it throws. The
 * connection's isolation level is left as it is (READ COMMITTED unless the database or the pool says otherwise):
 * every level keeps a consumer's guarantees, and under REPEATABLE READ or SERIALIZABLE a batch that meets another
 * leader's commit fails to serialize and is read again, as a fenced one is. The Spring starter runs it through the application's transaction manager, so that a listener's JdbcTemplate
 * or JPA work joins it; {@link #of(DataSource)} is the plain JDBC one.
 */
@FunctionalInterface
public interface DurableTransactions {

    /** Runs {@code work} in a new transaction and returns what it returned; rethrows what it threw. */
    <T extends @Nullable Object> T execute(Work<T> work) throws Exception;

    /** Work on the transaction's connection. */
    @FunctionalInterface
    interface Work<T extends @Nullable Object> {
        T run(Connection connection) throws Exception;
    }

    /** Transactions on connections of {@code dataSource}, each returned to it afterwards. */
    static DurableTransactions of(DataSource dataSource) {
        return new DurableTransactions() {
            @Override
            public <T extends @Nullable Object> T execute(Work<T> work) throws Exception {
                try (Connection connection = dataSource.getConnection()) {
                    boolean autoCommit = connection.getAutoCommit();
                    connection.setAutoCommit(false); // BEGIN goes with the first statement: no round trip of its own
                    try {
                        T result = work.run(connection);
                        connection.commit();
                        return result;
                    } catch (Exception | Error ex) {
                        rollback(connection, ex);
                        throw ex;
                    } finally {
                        restore(connection, autoCommit);
                    }
                }
            }

            @Override
            public String toString() {
                return "DurableTransactions.of(" + dataSource + ")";
            }
        };
    }

    private static void rollback(Connection connection, Throwable cause) {
        try {
            connection.rollback();
        } catch (SQLException ex) {
            cause.addSuppressed(ex);
        }
    }

    private static void restore(Connection connection, boolean autoCommit) throws SQLException {
        if (autoCommit && !connection.isClosed()) {
            connection.setAutoCommit(true);
        }
    }
}
