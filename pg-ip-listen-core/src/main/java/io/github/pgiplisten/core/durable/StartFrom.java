package io.github.pgiplisten.core.durable;

/** Where a group that has no cursor on a channel yet starts reading it (as Kafka's {@code auto.offset.reset}). */
public enum StartFrom {
    /** At the end of the log: only what is published from then on. */
    LATEST,
    /** At the beginning: every message the log still keeps, then what follows. */
    EARLIEST
}
