package io.github.pgiplisten;

import java.time.Duration;
import java.time.Instant;

import org.springframework.context.ApplicationEvent;

/**
 * Spring application events of the listener. Listen with {@code @EventListener} to catch up from your data after a
 * gap: notifications are at-most-once while a connection is down or a leader crashes.
 */
public abstract class PgListenEvent extends ApplicationEvent {

    private static final long serialVersionUID = 1L;

    private final String group;

    protected PgListenEvent(Object source, String group) {
        super(source);
        this.group = group;
    }

    /** The election group. */
    public String group() {
        return group;
    }

    /**
     * This instance became the listener of its group. Notifications sent before this moment were not seen by it; when
     * {@link #handedOver()} is false, nobody may have handled them (the first leader, or the previous one crashed or
     * lost its connection): catch up from your data if that matters.
     */
    public static class LeadershipGranted extends PgListenEvent {

        private static final long serialVersionUID = 1L;

        private final boolean handedOver;

        public LeadershipGranted(Object source, String group, boolean handedOver) {
            super(source, group);
            this.handedOver = handedOver;
        }

        /**
         * True when the previous leader handed over gracefully: it handled everything sent before this instance
         * took over, so nothing was missed (unless that leader died during the handover, or had stopped reading
         * after its {@code handover-timeout} before this instance took over).
         */
        public boolean handedOver() {
            return handedOver;
        }
    }

    /** This instance stopped being the listener of its group. */
    public static class LeadershipRevoked extends PgListenEvent {

        private static final long serialVersionUID = 1L;

        private final String reason;

        public LeadershipRevoked(Object source, String group, String reason) {
            super(source, group);
            this.reason = reason;
        }

        public String reason() {
            return reason;
        }
    }

    /** The listen connection broke; it is being re-established with backoff. */
    public static class ConnectionLost extends PgListenEvent {

        private static final long serialVersionUID = 1L;

        private final transient Throwable cause;

        public ConnectionLost(Object source, String group, Throwable cause) {
            super(source, group);
            this.cause = cause;
        }

        public Throwable cause() {
            return cause;
        }
    }

    /** The listen connection is back; notifications sent during the gap may have been missed. */
    public static class ConnectionRestored extends PgListenEvent {

        private static final long serialVersionUID = 1L;

        private final Instant disconnectedAt;
        private final Instant reconnectedAt;

        public ConnectionRestored(Object source, String group, Instant disconnectedAt, Instant reconnectedAt) {
            super(source, group);
            this.disconnectedAt = disconnectedAt;
            this.reconnectedAt = reconnectedAt;
        }

        public Instant disconnectedAt() {
            return disconnectedAt;
        }

        public Instant reconnectedAt() {
            return reconnectedAt;
        }

        /** How long the connection was down. */
        public Duration gap() {
            return Duration.between(disconnectedAt, reconnectedAt);
        }
    }
}
