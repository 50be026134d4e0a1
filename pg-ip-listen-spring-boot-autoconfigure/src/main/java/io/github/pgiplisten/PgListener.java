package io.github.pgiplisten;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.springframework.aot.hint.annotation.Reflective;

/**
 * Marks a bean method that handles PostgreSQL notifications of one or more channels. In one-process-listener mode
 * (the default) exactly one instance of the group runs it for each notification; with
 * {@code pg-ip-listen.one-process-listener=false} every instance does.
 *
 * <p>The method takes at most one payload parameter and optionally the raw {@link io.github.pgiplisten.core.PgNotification}:
 * <ul>
 * <li>{@code String}: the payload as sent;</li>
 * <li>{@code PgNotification}: channel, payload and the sender's backend pid;</li>
 * <li>any other type: the payload read as JSON by the application's {@link PgPayloadConverter} (Jackson's
 * {@code JsonMapper} that Spring Boot configured, by default);</li>
 * <li>no parameter at all.</li>
 * </ul>
 * A {@link #batch()} listener of a durable channel takes one {@code List} of such payloads (or of
 * {@link io.github.pgiplisten.core.durable.DurableMessage}) instead, a transaction's messages per call.
 * Notifications of one channel reach the method one at a time, in the order PostgreSQL delivered them. What the
 * method throws, and a payload that cannot be read, goes to the {@link PgListenerErrorHandler} (the one named by
 * {@link #errorHandler()}, or the application's); the next notification is handled normally. Each listener has an
 * {@link #id()} by which the {@link PgListenerEndpointRegistry} stops and starts it at run time.
 */
@Target({ElementType.METHOD, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Reflective(PgListenerReflectiveProcessor.class) // what a native image needs for the method and its payload
public @interface PgListener {

    /**
     * The channels, exactly as given to NOTIFY or {@code pg_notify} (case, spaces and all; at most 63 UTF-8 bytes
     * each). {@code ${…}} placeholders are resolved against the environment, then {@code #{…}} expressions are
     * evaluated, once at start-up, as for {@code @Value}; each element names one channel (an expression must yield
     * one name, not a list). Otherwise a name may hold any character but NUL.
     */
    String[] value();

    /**
     * The listener's id in the {@link PgListenerEndpointRegistry}, unique in the application; {@code ${…}}
     * placeholders are resolved. Default: {@code beanName#methodName}.
     */
    String id() default "";

    /**
     * Whether the listener starts with the application: {@code "true"}, {@code "false"}, or a {@code ${…}}
     * placeholder that resolves to one of them. Default: {@code pg-ip-listen.auto-startup} (true). A listener that
     * does not start can be started later through the {@link PgListenerEndpointRegistry}.
     */
    String autoStartup() default "";

    /**
     * Whether the channels are durable: messages published with {@code PgPublisher.publish} (or the SQL function
     * {@code pg_ip_listen_publish}) are kept in a log table until this application's group has handled them, so
     * nothing is lost while no instance runs. The group's leader handles each message once, per channel in commit
     * order, inside a transaction of the application's DataSource that also advances the group's cursor: what the
     * method writes through that DataSource commits exactly once with the message. A method that throws is retried
     * ({@code pg-ip-listen.durable.max-attempts}) and then the message goes to the dead-letter table. The method may
     * take a {@link io.github.pgiplisten.core.durable.DurableMessage} for the message's id (to make effects outside
     * the database idempotent) and attempt. Needs the one-process-listener mode and the tables
     * ({@code pg-ip-listen.durable.initialize-schema}). Plain {@code notify} does not reach a durable listener.
     */
    boolean durable() default false;

    /**
     * Whether a durable listener gets its messages a batch at a time: the method takes one {@code List} parameter,
     * of {@code String} (the payloads as sent), of {@link io.github.pgiplisten.core.durable.DurableMessage}, or of
     * a type read from JSON, and gets the messages one transaction reads (at most
     * {@code pg-ip-listen.durable.batch-size}), in commit order. What it writes through the application's
     * DataSource commits with the whole batch: write its rows in one round trip (JdbcTemplate's
     * {@code batchUpdate}, one multi-row statement) to drain a backlog many times faster than one call per message.
     * When it throws, the batch rolls back and its messages are handed over one per call, so that only the one it
     * fails on is retried and dead-lettered (the call on the whole batch is not counted as an attempt; it is logged).
     * Only with {@link #durable()}: notifications come one at a time.
     */
    boolean batch() default false;

    /**
     * The name of a {@link PgListenerErrorHandler} bean for this listener's failures. Default: the application's
     * (see {@link PgListenerErrorHandler}). A bean named here is not the application's unless it is
     * {@code @Primary}, even when it is the only one of its type.
     */
    String errorHandler() default "";
}
