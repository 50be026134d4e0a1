package io.github.pgiplisten.autoconfigure;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Type;
import java.util.List;

import org.jspecify.annotations.Nullable;
import org.springframework.util.ReflectionUtils;

import io.github.pgiplisten.PgListenerErrorHandler;
import io.github.pgiplisten.PgListenerExecutionFailedException;
import io.github.pgiplisten.PgPayloadConverter;
import io.github.pgiplisten.core.PgNotification;

/**
 * One {@code @PgListener} method, checked at start-up: its channels (placeholders resolved, names validated) and how
 * each parameter is filled from a notification.
 */
final class PgListenerEndpoint {

    /** Where a parameter's value comes from. */
    enum ArgumentSource {
        PAYLOAD_TEXT, NOTIFICATION, PAYLOAD_CONVERTED
    }

    private final String id;
    private final List<String> channels;
    private final Object bean;
    private final Method method;
    private final ArgumentSource[] sources;
    private final Type[] types;
    private final @Nullable PgPayloadConverter converter;
    private final boolean autoStartup;
    private final @Nullable PgListenerErrorHandler errorHandler;

    PgListenerEndpoint(String id, List<String> channels, Object bean, Method method, ArgumentSource[] sources,
            Type[] types, @Nullable PgPayloadConverter converter, boolean autoStartup,
            @Nullable PgListenerErrorHandler errorHandler) {
        this.id = id;
        this.autoStartup = autoStartup;
        this.errorHandler = errorHandler;
        this.channels = List.copyOf(channels);
        this.bean = bean;
        this.method = method;
        this.sources = sources.clone();
        this.types = types.clone();
        this.converter = converter;
        ReflectionUtils.makeAccessible(method);
        for (int i = 0; i < sources.length; i++) {
            if (sources[i] == ArgumentSource.PAYLOAD_CONVERTED && converter != null) {
                prepare(converter, types[i]);
            }
        }
    }

    /** Readies the reader of a payload type now: a takeover should not be the first to build it. */
    private static void prepare(PgPayloadConverter converter, Type type) {
        try {
            converter.prepare(type);
        } catch (RuntimeException ex) {
            // a type the converter cannot prepare may still read; the first notification will tell
        }
    }

    /** {@code @PgListener(id)}, or {@code beanName#methodName}. */
    String id() {
        return id;
    }

    /** Whether it starts with the application. */
    boolean autoStartup() {
        return autoStartup;
    }

    /** Its own error handler ({@code @PgListener(errorHandler)}), or null for the application's. */
    @Nullable PgListenerErrorHandler errorHandler() {
        return errorHandler;
    }

    List<String> channels() {
        return channels;
    }

    /**
     * Calls the method for a notification.
     * @throws PgListenerExecutionFailedException when the payload cannot be read or the method throws
     */
    void invoke(PgNotification notification) {
        Object[] arguments = new Object[sources.length];
        for (int i = 0; i < sources.length; i++) {
            arguments[i] = switch (sources[i]) {
                case PAYLOAD_TEXT -> notification.payload();
                case NOTIFICATION -> notification;
                case PAYLOAD_CONVERTED -> convert(notification, types[i]);
            };
        }
        try {
            method.invoke(bean, arguments);
        } catch (InvocationTargetException ex) {
            throw new PgListenerExecutionFailedException(id, notification, "threw", ex.getTargetException());
        } catch (IllegalAccessException ex) {
            throw new PgListenerExecutionFailedException(id, notification, "could not be called", ex);
        }
    }

    /**
     * Reads the payload as the parameter's type. A payload that reads as null (JSON {@code null}) is an error too:
     * a listener declares its payload parameter as a value; {@code Optional<T>} takes null as empty.
     */
    private Object convert(PgNotification notification, Type type) {
        Object value;
        try {
            value = java.util.Objects.requireNonNull(converter).read(notification.payload(), type);
        } catch (RuntimeException ex) {
            throw new PgListenerExecutionFailedException(id, notification,
                    "could not read the payload as " + type.getTypeName(), ex);
        }
        if (value == null) {
            throw new PgListenerExecutionFailedException(id, notification,
                    "could not read the payload as " + type.getTypeName(), new IllegalArgumentException(
                            "the payload reads as null; take Optional<" + type.getTypeName() + "> to accept it"));
        }
        return value;
    }

    @Override
    public String toString() {
        return id + " " + channels;
    }
}
