package io.github.pgiplisten;

import java.time.Duration;
import java.time.Instant;

import org.springframework.context.ApplicationEvent;

import io.github.pgiplisten.core.durable.DurableMessage;

/**
 * Spring application events of the listener. Listen with {@code @EventListener} to catch up from your data after a
 * gap (notifications sent while a connection is down are not received), or to know when a channel is ready
 * ({@link ChannelListened}). Each is the core's {@code EngineEvent} of the same name, published in Spring.
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
     * This instance became the listener of its group. When {@link #handedOver()} is true the previous leader handed
     * over gracefully: nothing was missed, nothing is repeated. When {@link #firstLeader()} is true no other instance
     * led the group while this one listened (a new group, or every instance was gone): what was sent before it
     * listened was heard by nobody. Otherwise the previous leader crashed, lost its connection or could not finish its
     * listeners in time: with {@code crash-delivery: at-least-once} (the default) this instance hands its listeners
     * what came after the predecessor's last progress confirmation ({@link #possibleRepeats()}; any of them the
     * predecessor had handled already is handled twice), with {@code at-most-once} it skips them ({@link #skipped()}). When {@link #gapPossible()} is true this instance could
     * not follow its predecessor from its last confirmation on (it began to listen after it), so notifications
     * committed in between may have been handled by nobody. Catch up from your data if that matters.
     */
    public static class LeadershipGranted extends PgListenEvent {

        private static final long serialVersionUID = 1L;

        private final boolean handedOver;
        private final int possibleRepeats;
        private final int skipped;
        private final boolean gapPossible;
        private final boolean firstLeader;

        public LeadershipGranted(
                Object source,
                String group,
                boolean handedOver,
                int possibleRepeats,
                int skipped,
                boolean gapPossible,
                boolean firstLeader) {
            super(source, group);
            this.handedOver = handedOver;
            this.possibleRepeats = possibleRepeats;
            this.skipped = skipped;
            this.gapPossible = gapPossible;
            this.firstLeader = firstLeader;
        }

        /** True when the previous leader handed over gracefully: nothing missed, nothing handled twice. */
        public boolean handedOver() {
            return handedOver;
        }

        /**
         * Notifications this instance hands its listeners that a predecessor which did not hand over may have handled
         * already (those it had handled are handled twice); 0 after a handover and for the first leader.
         */
        public int possibleRepeats() {
            return possibleRepeats;
        }

        /** Notifications this instance received but does not handle, that the predecessor may not have handled. */
        public int skipped() {
            return skipped;
        }

        /**
         * True when notifications committed before this instance began to listen, after its predecessor's last
         * confirmation, may have been handled by nobody (it joined too late to follow the predecessor).
         */
        public boolean gapPossible() {
            return gapPossible;
        }

        /** True when no other instance led the group while this one listened: the group's first leader. */
        public boolean firstLeader() {
            return firstLeader;
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

    /** The listen connection was lost; it is being re-established with backoff. */
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

    /** An event about one channel of this instance. */
    public abstract static class ChannelEvent extends PgListenEvent {

        private static final long serialVersionUID = 1L;

        private final String channel;

        protected ChannelEvent(Object source, String group, String channel) {
            super(source, group);
            this.channel = channel;
        }

        /** The channel, as named in {@link PgListener}. */
        public String channel() {
            return channel;
        }
    }

    /**
     * This instance now handles {@link #channel()}: every notification committed on it from now on reaches this
     * instance's {@link PgListener} methods. In one-process-listener mode only the leader is told (a standby does not
     * handle anything); in broadcast mode every instance is, once its connection LISTENs. A test that publishes after
     * this event (or after {@link PgListenStatus#awaitListening}) cannot send before the listener hears.
     */
    public static class ChannelListened extends ChannelEvent {

        private static final long serialVersionUID = 1L;

        public ChannelListened(Object source, String group, String channel) {
            super(source, group, channel);
        }
    }

    /**
     * This instance no longer handles {@link #channel()}: it stopped leading, its connection broke, it is stopping,
     * or the channel's last listener method went away. Notifications committed from now on may reach another
     * instance, or none.
     */
    public static class ChannelUnlistened extends ChannelEvent {

        private static final long serialVersionUID = 1L;

        public ChannelUnlistened(Object source, String group, String channel) {
            super(source, group, channel);
        }
    }

    /** An event about one message of a durable channel. */
    public abstract static class DurableMessageEvent extends ChannelEvent {

        private static final long serialVersionUID = 1L;

        private final transient DurableMessage message;
        private final transient Throwable error;

        protected DurableMessageEvent(Object source, String group, DurableMessage message, Throwable error) {
            super(source, group, message.channel());
            this.message = message;
            this.error = error;
        }

        /** The message: its id, payload and the attempt that failed. */
        public DurableMessage message() {
            return message;
        }

        /** What the listener threw (the last time). */
        public Throwable error() {
            return error;
        }
    }

    /**
     * A durable listener threw: its transaction rolled back, so nothing it wrote through the application's
     * DataSource stays. {@link #willRetry()}: it gets the message again after {@code pg-ip-listen.durable.retry-backoff};
     * otherwise a {@link DeadLettered} follows.
     */
    public static class DurableListenerFailed extends DurableMessageEvent {

        private static final long serialVersionUID = 1L;

        private final boolean willRetry;

        public DurableListenerFailed(
                Object source, String group, DurableMessage message, Throwable error, boolean willRetry) {
            super(source, group, message, error);
            this.willRetry = willRetry;
        }

        public boolean willRetry() {
            return willRetry;
        }
    }

    /**
     * A durable message failed {@link #attempts()} times ({@code pg-ip-listen.durable.max-attempts}): it is in the
     * table {@code pg_ip_listen_dead_letter} with its last error, and the channel moved on past it.
     */
    public static class DeadLettered extends DurableMessageEvent {

        private static final long serialVersionUID = 1L;

        private final int attempts;

        public DeadLettered(Object source, String group, DurableMessage message, int attempts, Throwable error) {
            super(source, group, message, error);
            this.attempts = attempts;
        }

        public int attempts() {
            return attempts;
        }
    }
}
