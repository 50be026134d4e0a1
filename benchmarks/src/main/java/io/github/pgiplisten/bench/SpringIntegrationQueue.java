package io.github.pgiplisten.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.UUID;

import org.jspecify.annotations.Nullable;
import org.postgresql.jdbc.PgConnection;
import org.springframework.core.io.ClassPathResource;
import org.springframework.integration.jdbc.channel.PostgresChannelMessageTableSubscriber;
import org.springframework.integration.jdbc.channel.PostgresSubscribableChannel;
import org.springframework.integration.jdbc.store.JdbcChannelMessageStore;
import org.springframework.integration.jdbc.store.channel.PostgresChannelMessageStoreQueryProvider;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.jdbc.datasource.init.ScriptUtils;
import org.springframework.messaging.MessageHandler;
import org.springframework.messaging.support.MessageBuilder;
import org.springframework.transaction.TransactionStatus;
import org.springframework.transaction.support.DefaultTransactionDefinition;

import com.zaxxer.hikari.HikariDataSource;

import io.github.pgiplisten.testsupport.PostgresServer;

/**
 * Spring Integration's durable channel as its reference documentation sets it up: a {@code JdbcChannelMessageStore}
 * with the {@code PostgresChannelMessageStoreQueryProvider} on a HikariCP pool, the tables of the jar's
 * {@code schema-postgresql.sql} and the row-level NOTIFY trigger that the script ships commented out, one
 * {@code PostgresChannelMessageTableSubscriber} on an unpooled connection, and a {@code PostgresSubscribableChannel}
 * with a {@code DataSourceTransactionManager} (each message is taken off the table and handled in one transaction;
 * the handler's connection is the one that transaction holds). Everything else at its defaults: the channel
 * dispatches each wake-up on a new thread of its {@code SimpleAsyncTaskExecutor}. Published with
 * {@code channel.send} inside a transaction of the same transaction manager; each channel uses a group of its own.
 */
final class SpringIntegrationQueue implements DurableQueue {

    private static final String SCRIPT = "org/springframework/integration/jdbc/schema-postgresql.sql";

    private final PostgresServer server;
    private final String group = "bench-si-" + UUID.randomUUID();
    private final HikariDataSource pool;
    private final DataSourceTransactionManager transactions;
    private final JdbcChannelMessageStore store;
    private final PostgresChannelMessageTableSubscriber subscriber;
    private final PostgresSubscribableChannel channel;

    SpringIntegrationQueue(PostgresServer server) throws Exception {
        this.server = server;
        createTables(server);
        this.pool = DurablePools.hikari(server, "bench-si", 4);
        this.transactions = new DataSourceTransactionManager(pool);
        this.store = new JdbcChannelMessageStore(pool);
        store.setChannelMessageStoreQueryProvider(new PostgresChannelMessageStoreQueryProvider());
        store.afterPropertiesSet();
        this.subscriber = new PostgresChannelMessageTableSubscriber(() -> {
            Properties properties = new Properties();
            properties.setProperty("user", server.username());
            properties.setProperty("password", server.password());
            properties.setProperty("ApplicationName", "bench-si-subscriber");
            return DriverManager.getConnection(server.jdbcUrl(), properties).unwrap(PgConnection.class);
        });
        this.channel = new PostgresSubscribableChannel(store, group, subscriber);
        channel.setTransactionManager(transactions);
        channel.setBeanName(group);
        channel.setBeanFactory(new org.springframework.beans.factory.support.DefaultListableBeanFactory());
        channel.afterPropertiesSet();
    }

    /** The jar's script and the trigger it ships commented out, once per server. */
    private static synchronized void createTables(PostgresServer server) throws SQLException {
        try (Connection connection = server.connect();
                Statement statement = connection.createStatement()) {
            try (var result = statement.executeQuery("SELECT to_regclass('int_channel_message') IS NULL")) {
                result.next();
                if (!result.getBoolean(1)) {
                    return;
                }
            }
            ScriptUtils.executeSqlScript(connection, new ClassPathResource(SCRIPT));
            statement.execute("CREATE FUNCTION INT_CHANNEL_MESSAGE_NOTIFY_FCT() RETURNS TRIGGER AS $BODY$"
                    + " BEGIN PERFORM pg_notify('int_channel_message_notify', NEW.REGION || ' ' || NEW.GROUP_KEY);"
                    + " RETURN NEW; END; $BODY$ LANGUAGE PLPGSQL");
            statement.execute("CREATE TRIGGER INT_CHANNEL_MESSAGE_NOTIFY_TRG AFTER INSERT ON INT_CHANNEL_MESSAGE"
                    + " FOR EACH ROW EXECUTE PROCEDURE INT_CHANNEL_MESSAGE_NOTIFY_FCT()");
        }
    }

    @Override
    public String name() {
        return "Spring Integration";
    }

    @Override
    public void preload(int count, int perTransaction) throws Exception {
        try (Publisher publisher = publisher()) {
            for (int n = 0; n < count; n++) {
                publisher.add(Integer.toString(n));
                if ((n + 1) % perTransaction == 0 || n == count - 1) {
                    publisher.commit();
                }
            }
        }
    }

    /** Must be used from one thread: the transaction is bound to it. */
    @Override
    public Publisher publisher() {
        return new Publisher() {
            private @Nullable TransactionStatus open;

            @Override
            public void add(String payload) {
                if (open == null) {
                    open = transactions.getTransaction(new DefaultTransactionDefinition());
                }
                channel.send(MessageBuilder.withPayload(payload).build());
            }

            @Override
            public void commit() {
                if (open != null) {
                    TransactionStatus status = open;
                    open = null;
                    transactions.commit(status);
                }
            }

            @Override
            public void close() {
                if (open != null) {
                    transactions.rollback(open);
                    open = null;
                }
            }
        };
    }

    @Override
    public void start(Handler handler) throws Exception {
        subscriber.start();
        MessageHandler messageHandler = message -> {
            Connection connection = DataSourceUtils.getConnection(pool);
            try {
                handler.handle((String) message.getPayload(), connection);
            } catch (RuntimeException ex) {
                throw ex;
            } catch (Exception ex) {
                throw new IllegalStateException(ex);
            } finally {
                DataSourceUtils.releaseConnection(connection, pool);
            }
        };
        channel.subscribe(messageHandler);
    }

    @Override
    public void close() throws Exception {
        subscriber.stop();
        Thread.sleep(200); // dispatch threads in flight
        pool.close();
        try (Connection connection = server.connect();
                Statement statement = connection.createStatement()) {
            statement.execute("DELETE FROM int_channel_message WHERE group_key = '"
                    + org.springframework.integration.util.UUIDConverter.getUUID(group) + "'");
        }
    }
}
