package io.github.pgiplisten.autoconfigure;

import java.sql.Connection;

import javax.sql.DataSource;

import org.jspecify.annotations.Nullable;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

import io.github.pgiplisten.core.durable.DurableTransactions;

/**
 * A durable batch in a transaction of the application's transaction manager (its {@code DataSourceTransactionManager}
 * or {@code JpaTransactionManager}), always a new one, at the connection's own isolation level (setting one would
 * cost round trips per batch; see {@link DurableTransactions} for why any level will do). The batch's statements run on the connection
 * the transaction holds for the DataSource, the one JdbcTemplate and JPA use inside it: so what a listener writes
 * commits, or rolls back, with the cursor's step.
 */
final class SpringDurableTransactions implements DurableTransactions {

    private final TransactionTemplate template;
    private final DataSource dataSource;

    SpringDurableTransactions(PlatformTransactionManager transactionManager, DataSource dataSource) {
        this.template = new TransactionTemplate(transactionManager);
        this.template.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
        this.template.setName("pg-ip-listen durable batch");
        this.dataSource = dataSource;
    }

    @Override
    public <T extends @Nullable Object> T execute(Work<T> work) throws Exception {
        try {
            return template.execute(status -> {
                Connection connection = DataSourceUtils.getConnection(dataSource);
                try {
                    return work.run(connection);
                } catch (RuntimeException | Error ex) {
                    throw ex;
                } catch (Exception ex) {
                    throw new Checked(ex);
                }
            });
        } catch (Checked checked) {
            throw checked.exception;
        }
    }

    /** Carries a checked exception through the template, which rolls back on it. */
    private static final class Checked extends RuntimeException {

        private static final long serialVersionUID = 1L;

        final transient Exception exception;

        Checked(Exception exception) {
            super(exception.getMessage(), exception, false, false);
            this.exception = exception;
        }
    }
}
