package io.github.pgiplisten;

import java.lang.reflect.Type;

/**
 * Turns objects into notification payloads ({@link PgPublisher}) and back ({@link PgListener} methods): one format for
 * both sides. The default uses the {@code JsonMapper} that Spring Boot configured; define a bean of this type to use
 * another format.
 */
public interface PgPayloadConverter {

    /** The payload text for an object. */
    String write(Object value);

    /**
     * Reads a payload as the given (possibly generic) type; throws when it cannot. A null result counts as unreadable
     * too: a listener's payload parameter is never null.
     */
    Object read(String payload, Type type);

    /**
     * Prepares reading payloads as {@code type}, once at start-up, so that the first notification an instance handles
     * (often right after it took over from a leader that died) does not pay for building a reader. Does nothing by
     * default.
     */
    default void prepare(Type type) {}
}
