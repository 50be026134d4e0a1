package io.github.pgiplisten.core.loop;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pgiplisten.core.JdbcUrls;
import io.github.pgiplisten.core.PgListenOptions;

/**
 * Owner thread only: when to try the next connection, and what the log says about failed attempts. A connection that
 * broke after working for a while is retried at once (a terminated backend, a moved pooler), then with
 * {@link Backoff} from its start if the server is away; one that breaks sooner keeps backing off, so a server that
 * drops every new session is not hammered. Never gives up.
 */
public final class Reconnect {

    private static final Logger log = LoggerFactory.getLogger(Reconnect.class);

    /** How long a connection must have worked for its loss to be retried at once. */
    private static final long STABLE_CONNECTION_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final String group;
    private final String url;
    private final Backoff backoff;
    /** Connect attempts failed in a row. */
    private int failedAttempts;

    Reconnect(PgListenOptions options) {
        this.group = options.group();
        this.url = JdbcUrls.withoutSecrets(options.jdbcUrl());
        this.backoff = new Backoff(options.reconnectInitialDelay(), options.reconnectMaxDelay());
    }

    void connected() {
        failedAttempts = 0;
    }

    /** A connect attempt failed: one line per outage at WARN, then every tenth attempt, so the log is not flooded. */
    void connectFailed(Throwable cause) {
        failedAttempts++;
        if (failedAttempts == 1 || failedAttempts % 10 == 0) {
            log.warn(
                    "Group '{}': cannot connect to {} ({} attempt(s) so far): {}; retrying with backoff",
                    group,
                    url,
                    failedAttempts,
                    cause.toString());
        } else {
            log.debug("Group '{}': connect attempt {} failed: {}", group, failedAttempts, cause.toString());
        }
    }

    /**
     * The wait before the next attempt.
     * @param workedNanos how long the connection that failed had worked, negative when none was opened
     */
    Duration delay(long workedNanos) {
        if (workedNanos > STABLE_CONNECTION_NANOS) {
            backoff.reset();
            return Duration.ZERO;
        }
        return backoff.nextDelay();
    }
}
