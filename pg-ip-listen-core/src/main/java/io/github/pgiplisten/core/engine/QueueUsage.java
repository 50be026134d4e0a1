package io.github.pgiplisten.core.engine;

import java.util.Locale;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owner thread: the share of PostgreSQL's notification queue in use, as the leader's (or a broadcast instance's)
 * probes and progress confirmations read it at no extra statement. Warns once when it reaches
 * {@code queueUsageWarning}, and says so again when it is back under half of that: a full queue makes every NOTIFY on
 * the server fail.
 */
public final class QueueUsage {

    private static final Logger log = LoggerFactory.getLogger(QueueUsage.class);

    private final EngineState state;
    private final double warning;

    public QueueUsage(EngineState state, double warning) {
        this.state = state;
        this.warning = warning;
    }

    /** The usage a statement just read (0 to 1). */
    public void read(double usage) {
        double before = state.queueUsage;
        state.queueUsage = usage;
        if (usage >= warning && !(before >= warning)) {
            log.warn(
                    "PostgreSQL's notification queue is {} % full (warning at {} %): a session that LISTENs and does "
                            + "not read holds it back, typically one idle in a transaction (see pg_stat_activity); once it is "
                            + "full every NOTIFY on the server fails",
                    percent(usage), percent(warning));
        } else if (usage < warning / 2 && before >= warning) {
            log.info("PostgreSQL's notification queue is back to {} % full", percent(usage));
        }
    }

    private static String percent(double share) {
        return String.format(Locale.ROOT, "%.4f", 100 * share);
    }
}
