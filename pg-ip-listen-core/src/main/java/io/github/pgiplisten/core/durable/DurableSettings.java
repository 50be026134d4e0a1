package io.github.pgiplisten.core.durable;

import java.time.Duration;
import java.util.Objects;

import org.jspecify.annotations.Nullable;

/**
 * How a {@link DurableConsumer} reads: where the tables are, where a new group starts, how failures are retried,
 * and how much one transaction takes. {@link #defaults()} is what the Spring starter uses unless configured.
 */
public final class DurableSettings {

    private final DurableLog log;
    private final StartFrom startFrom;
    private final int maxAttempts;
    private final Duration retryBackoff;
    private final int batchSize;
    private final int batchBytes;
    private final Duration pollInterval;
    private final int threads;
    private final Duration shutdownTimeout;
    private final Duration retention;

    private DurableSettings(Builder builder) {
        this.log = new DurableLog(builder.schema);
        this.startFrom = builder.startFrom;
        this.maxAttempts = builder.maxAttempts;
        this.retryBackoff = builder.retryBackoff;
        this.batchSize = builder.batchSize;
        this.batchBytes = builder.batchBytes;
        this.pollInterval = builder.pollInterval;
        this.threads = builder.threads;
        this.shutdownTimeout = builder.shutdownTimeout;
        this.retention = builder.retention;
    }

    public static DurableSettings defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The log in the configured schema. */
    public DurableLog log() {
        return log;
    }

    public StartFrom startFrom() {
        return startFrom;
    }

    /** How many times a message is given to the listener before it goes to the dead letters. */
    public int maxAttempts() {
        return maxAttempts;
    }

    /** How long a failed message waits before it is tried again. */
    public Duration retryBackoff() {
        return retryBackoff;
    }

    /** The most messages one transaction handles. */
    public int batchSize() {
        return batchSize;
    }

    /** The most payload bytes one transaction reads (it always reads at least one message). */
    public int batchBytes() {
        return batchBytes;
    }

    /** How often the leader looks for messages whose wake-up it missed. */
    public Duration pollInterval() {
        return pollInterval;
    }

    /** How many channels are read at the same time. */
    public int threads() {
        return threads;
    }

    /** How long closing waits for the transactions in flight. */
    public Duration shutdownTimeout() {
        return shutdownTimeout;
    }

    /**
     * How long a handled message stays in the log at least (for replays, and groups that start at the earliest):
     * a slot of the log is truncated once this has passed since it stopped taking messages and every group has
     * handled it; publishing moves to the next slot every half of it.
     */
    public Duration retention() {
        return retention;
    }

    @Override
    public String toString() {
        return "DurableSettings{schema=" + log.schema() + ", retention=" + retention + ", startFrom=" + startFrom
                + ", maxAttempts=" + maxAttempts
                + ", retryBackoff=" + retryBackoff + ", batchSize=" + batchSize + ", batchBytes=" + batchBytes
                + ", pollInterval=" + pollInterval + ", threads=" + threads + "}";
    }

    public static final class Builder {

        private @Nullable String schema;
        private StartFrom startFrom = StartFrom.LATEST;
        private int maxAttempts = 3;
        private Duration retryBackoff = Duration.ofSeconds(1);
        private int batchSize = 100;
        private int batchBytes = 4 * 1024 * 1024;
        private Duration pollInterval = Duration.ofSeconds(10);
        private int threads = 4;
        private Duration shutdownTimeout = Duration.ofSeconds(10);
        private Duration retention = Duration.ofDays(1);

        private Builder() {}

        public Builder retention(Duration retention) {
            if (retention.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new IllegalArgumentException("retention must be at least 1s, was " + retention);
            }
            this.retention = retention;
            return this;
        }

        /** The schema the tables are in; null (the default) for the connection's search_path. */
        public Builder schema(@Nullable String schema) {
            if (schema != null && schema.isBlank()) {
                throw new IllegalArgumentException("schema must not be blank (null means the search_path)");
            }
            this.schema = schema;
            return this;
        }

        public Builder startFrom(StartFrom startFrom) {
            this.startFrom = Objects.requireNonNull(startFrom, "startFrom");
            return this;
        }

        public Builder maxAttempts(int maxAttempts) {
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("maxAttempts must be at least 1, was " + maxAttempts);
            }
            this.maxAttempts = maxAttempts;
            return this;
        }

        public Builder retryBackoff(Duration retryBackoff) {
            if (retryBackoff.isNegative()) {
                throw new IllegalArgumentException("retryBackoff must not be negative, was " + retryBackoff);
            }
            this.retryBackoff = retryBackoff;
            return this;
        }

        public Builder batchSize(int batchSize) {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batchSize must be at least 1, was " + batchSize);
            }
            this.batchSize = batchSize;
            return this;
        }

        public Builder batchBytes(int batchBytes) {
            if (batchBytes < 1) {
                throw new IllegalArgumentException("batchBytes must be at least 1, was " + batchBytes);
            }
            this.batchBytes = batchBytes;
            return this;
        }

        public Builder pollInterval(Duration pollInterval) {
            if (pollInterval.isNegative() || pollInterval.isZero()) {
                throw new IllegalArgumentException("pollInterval must be positive, was " + pollInterval);
            }
            this.pollInterval = pollInterval;
            return this;
        }

        public Builder threads(int threads) {
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be at least 1, was " + threads);
            }
            this.threads = threads;
            return this;
        }

        public Builder shutdownTimeout(Duration shutdownTimeout) {
            if (shutdownTimeout.isNegative()) {
                throw new IllegalArgumentException("shutdownTimeout must not be negative, was " + shutdownTimeout);
            }
            this.shutdownTimeout = shutdownTimeout;
            return this;
        }

        public DurableSettings build() {
            return new DurableSettings(this);
        }
    }
}
